//! Runs the data team's measure tests (`sql/measures/tests/*.yaml`) under `cargo test`.

use scrutiny_measures::Project;
use std::path::Path;

#[tokio::test(flavor = "multi_thread")]
async fn every_shipped_measure_test_passes() {
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sql");
    let project = Project::load(&sql).unwrap_or_else(|e| panic!("{e:?}"));
    let results = scrutiny_measures::testing::run_tests(&project, &sql.join("measures/tests"), None).await.unwrap();
    assert!(!results.is_empty(), "no measure tests found");
    let failures: Vec<String> =
        results.iter().filter_map(|r| r.failure.as_ref().map(|f| format!("{} / {}: {f}", r.measure, r.name))).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), results.len(), failures.join("\n"));
    for id in project.measures.iter().map(|m| &m.meta.id) {
        assert!(results.iter().any(|r| &r.measure == id), "measure `{id}` has no tests");
    }
}
