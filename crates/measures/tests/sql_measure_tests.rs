//! The data team's measure tests (`sql/measures/tests/*.yaml`) under `cargo test`, each case
//! its own test named `<measure>::<case>`, so a failure names the case and `cargo test -p
//! scrutiny-measures --test sql_measure_tests -- cla_count` runs one measure's cases.

use libtest_mimic::{Arguments, Failed, Trial};
use scrutiny_measures::Project;
use scrutiny_measures::testing::cases;
use std::sync::Arc;

fn main() {
    let args = Arguments::from_args();
    let sql = scrutiny_core::checkout_root().join("sql");
    let project = Arc::new(Project::load(&sql).unwrap_or_else(|e| panic!("{e:?}")));
    let all = cases(&sql.join("measures/tests"), None).unwrap_or_else(|e| panic!("{e}"));
    let mut trials: Vec<Trial> = all
        .into_iter()
        .map(|case| {
            let project = project.clone();
            let name = format!("{}::{}", case.subject(), case.name());
            Trial::test(name, move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                match runtime.block_on(case.run(&project)) {
                    Ok(None) => Ok(()),
                    Ok(Some(diff)) => Err(Failed::from(format!("{}: rows differ\n{diff}", case.file.display()))),
                    Err(e) => Err(Failed::from(format!("{}: {e}", case.file.display()))),
                }
            })
        })
        .collect();
    // Every measure has at least one case.
    let ids: Vec<String> = project.measures.iter().map(|m| m.meta.id.clone()).collect();
    let names: Vec<String> = trials.iter().map(|t| t.name().to_string()).collect();
    trials.push(Trial::test("every_measure_has_a_test_case", move || {
        let missing: Vec<&String> =
            ids.iter().filter(|id| !names.iter().any(|n| n.starts_with(&format!("{id}::")))).collect();
        if missing.is_empty() { Ok(()) } else { Err(Failed::from(format!("measures without tests: {missing:?}"))) }
    }));
    libtest_mimic::run(&args, trials).exit();
}
