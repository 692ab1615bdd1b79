//! Published benchmarks end to end: `scrutiny benchmarks import` on small files shaped as the
//! DfE publishes them (LAIT's long Parquet file, the neighbour groups as CSV and as LAIT's xlsx),
//! then a run that compares the council with them.

use super::*;
use datafusion::arrow::array::{Float64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use std::sync::Arc;

/// The LAIT keys the shipped measures name: an import refuses a file without any of them.
const KEYS: [&str; 13] = [
    "ReReferral",
    "CIN_Refferals_NFA",
    "Continue_Assess_Comp",
    "CP_conf_15days",
    "LACStable_2016on",
    "LAC_LongStable%",
    "LACHealth%",
    "LACDental%",
    "CareLeaverEET",
    "CareLeaverAcc",
    "LACnum",
    "CPP_Num",
    "CPP_Total_NumRef",
];

/// A row of LAIT's long file: key, year, area, value (all text), number, region.
type LaitRow<'a> = (&'a str, &'a str, &'a str, &'a str, f64, &'a str);

fn write_lait(path: &Path, rows: &[LaitRow]) {
    let text = |f: for<'r> fn(&'r LaitRow<'r>) -> &'r str| -> Arc<StringArray> {
        Arc::new(rows.iter().map(|r| Some(f(r))).collect::<StringArray>())
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("Short Desc", DataType::Utf8, true),
        Field::new("Data item", DataType::Utf8, true),
        Field::new("Years", DataType::Utf8, true),
        Field::new("LA and Regions", DataType::Utf8, true),
        Field::new("Values", DataType::Utf8, true),
        Field::new("LA Number", DataType::Float64, true),
        Field::new("Region", DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            text(|r| r.0),
            Arc::new(rows.iter().map(|_| None::<&str>).collect::<StringArray>()),
            text(|r| r.1),
            text(|r| r.2),
            text(|r| r.3),
            Arc::new(rows.iter().map(|r| Some(r.4)).collect::<Float64Array>()),
            text(|r| r.5),
        ],
    )
    .unwrap();
    let mut w = ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[test]
fn benchmarks_are_imported_from_the_dfe_files_and_compared_with_in_the_run() {
    let c = Council::new(&repo().join("sql"));
    let dir = c.path();
    let mut rows: Vec<LaitRow> = vec![
        ("ReReferral", "2021", "Devon", "18.8", 878.0, "South West"),
        ("ReReferral", "2021", "England", "22.7", 970.0, "NA"),
        ("ReReferral", "2021", "South West", "22.700000000000003", 990.0, "NA"),
        ("ReReferral", "2021", "East Sussex", "-", 845.0, "South East"),
        ("ReReferral", "2021", "South East", "20.1", 987.0, "NA"),
        // Published after January 2022: never shown for it.
        ("ReReferral", "2022", "Devon", "19.5", 878.0, "South West"),
        ("LACnum", "2021", "Devon", "795", 878.0, "South West"),
        ("LACnum", "2021", "England", "80850", 970.0, "NA"),
    ];
    for k in KEYS.iter().filter(|k| !["ReReferral", "LACnum"].contains(k)) {
        rows.push((k, "2021", "Devon", "50", 878.0, "South West"));
    }
    write_lait(&dir.join("lait.parquet"), &rows);
    std::fs::write(
        dir.join("sn.csv"),
        "\u{feff}old_la_code,la_name,region_ind,region_name,SN_1,SN_1P,SN_2,SN_2P\n878,Devon,7,South West,845,Very close,886,Close\n",
    )
    .unwrap();
    let sql = repo().join("sql");
    let sql = sql.to_str().unwrap();
    let import = |neighbours: &str, out: &str| {
        scrutiny(
            &["benchmarks", "import", "--lait", "lait.parquet", "--neighbours", neighbours, "--out", out, "--sql", sql],
            dir,
        )
    };
    let out = import("sn.csv", "ref");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("Open Government Licence v3.0"), "the attribution is printed: {}", text(&out));
    let areas = std::fs::read_to_string(dir.join("ref/benchmarks_areas.csv")).unwrap();
    assert!(areas.contains("878,Devon,council,990,845 886\n"), "{areas}");
    assert!(areas.contains("845,East Sussex,council,987,\n"), "{areas}");
    let lait = std::fs::read_to_string(dir.join("ref/benchmarks_lait.csv")).unwrap();
    assert!(lait.contains("ReReferral,2021,845,-\n") && lait.contains("ReReferral,2021,990,22.700000000000003\n"));

    // LAIT's own xlsx of the same groups (two title rows above the header) gives Devon's too.
    std::fs::copy(repo().join("tests/fixtures/sn_groups.xlsx"), dir.join("sn.xlsx")).unwrap();
    let out = import("sn.xlsx", "ref-xlsx");
    assert!(out.status.success(), "{}", text(&out));
    let areas = std::fs::read_to_string(dir.join("ref-xlsx/benchmarks_areas.csv")).unwrap();
    assert!(areas.contains("878,Devon,council,990,845 838 926 886 933 935 938 830 881 885\n"), "{areas}");

    c.edit_config("reference:\n", "council:\n  name: Devon\n  la_number: 878\nreference:\n  benchmarks: ./ref\n");
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    let b = read(&c.current().join("benchmarks.parquet"));
    let (ids, comparators, areas, values) =
        (strings(&b, "metric_id"), strings(&b, "comparator"), strings(&b, "area"), floats(&b, "value"));
    let with = ints(&b, "neighbours_with_value");
    let row = |id: &str, c: &str| {
        let i = (0..ids.len()).find(|&i| ids[i] == id && comparators[i] == c).unwrap_or_else(|| panic!("{id} {c}"));
        (areas[i].clone(), values[i], with[i].clone())
    };
    assert_eq!(row("referrals_rereferral_rate", "council"), ("Devon".into(), Some(0.188), "None".into()));
    assert_eq!(row("referrals_rereferral_rate", "england"), ("England".into(), Some(0.227), "None".into()));
    assert_eq!(row("referrals_rereferral_rate", "region"), ("South West".into(), Some(0.227), "None".into()));
    assert_eq!(
        row("referrals_rereferral_rate", "statistical_neighbours"),
        ("mean of 0 neighbours".into(), None, "Some(0)".into()),
        "East Sussex's figure is suppressed: missing, not zero"
    );
    assert_eq!(row("cla_count", "council"), ("Devon".into(), Some(795.0), "None".into()));
    assert!(!comparators.iter().zip(&ids).any(|(c, i)| i == "cla_count" && c == "england"), "counts: the council only");
    assert_eq!(ids.iter().filter(|i| *i == "referrals_rereferral_rate").count(), 4, "2022 is after January 2022");

    let report = std::fs::read_to_string(c.current().join("report.html")).unwrap();
    let email = c.summary_email();
    for doc in [&report, &email] {
        assert!(doc.contains("England 2020-21: 22.7%"), "{doc}");
        assert!(doc.contains("South West 2020-21: 22.7%") && doc.contains("Devon 2020-21: 18.8%"));
        assert!(doc.contains("Statistical neighbours 2020-21: not published (mean of 0)"));
        assert!(doc.contains("Devon 2020-21: 795 (children in care at 31 March)"));
        assert!(doc.contains("licensed under the Open Government Licence v3.0"), "the attribution travels");
    }

    // A council the published figures do not know is a configuration error, before any work.
    c.edit_config("la_number: 878", "la_number: 999");
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("council.la_number: no council numbered 999"), "{}", text(&out));

    // A measure naming a LAIT key the figures lack (a typo) is refused, not silently empty.
    c.edit_config("la_number: 999", "la_number: 878");
    let copy = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("sql"), copy.path());
    let file = copy.path().join("measures/referrals_rereferral_rate.sql");
    std::fs::write(&file, std::fs::read_to_string(&file).unwrap().replace("lait: ReReferral", "lait: ReRefferal"))
        .unwrap();
    c.edit_config(&format!("sql_dir: {sql}"), &format!("sql_dir: {}", copy.path().display()));
    let out = c.run("2022-01");
    assert_eq!(out.status.code(), Some(78), "{}", text(&out));
    assert!(text(&out).contains("benchmark.lait `ReRefferal`"), "{}", text(&out));
}
