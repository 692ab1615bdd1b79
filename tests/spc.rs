//! Statistical process control end to end: measures whose series are shaped by hand to fire each
//! rule of spec/spc.md, run through the real binary, and the published `spc.parquet`, report and
//! email read back. The expected flags were worked out from spc.md's text (and checked with a
//! few lines of Python written from it, not from our code).

use super::*;

/// The eighteen months of a January 2022 run, oldest first.
const PERIODS: [&str; 18] = [
    "2020-08", "2020-09", "2020-10", "2020-11", "2020-12", "2021-01", "2021-02", "2021-03", "2021-04", "2021-05",
    "2021-06", "2021-07", "2021-08", "2021-09", "2021-10", "2021-11", "2021-12", "2022-01",
];

/// `n` alternating between `low` and `high`: common-cause noise.
fn noise(n: usize, low: i64, high: i64) -> Vec<i64> {
    (0..n).map(|i| if i % 2 == 0 { low } else { high }).collect()
}

/// A count measure whose monthly values are `series`, with its metadata.
fn shaped_measure(sql: &Path, id: &str, polarity: &str, target: &str, order: u32, series: &[i64]) {
    assert_eq!(series.len(), PERIODS.len());
    let rows: Vec<String> = PERIODS.iter().zip(series).map(|(p, n)| format!("        ('{p}', {n})")).collect();
    let text = format!(
        "/*---\nid: {id}\ntitle: Shaped {id}\narea: Referrals\nunit: count\npolarity: {polarity}\ntarget: {target}\norder: {order}\ndescription: A series shaped by hand to fire one rule of spc.md.\n---*/\nWITH shaped (period, n) AS (\n    VALUES\n{}\n)\nSELECT\n    p.period,\n    'ALL' AS org_unit,\n    CAST(NULL AS VARCHAR) AS category,\n    CAST(s.n AS BIGINT) AS numerator,\n    CAST(NULL AS BIGINT) AS denominator\nFROM reporting_periods AS p\nJOIN shaped AS s ON s.period = p.period\n",
        rows.join(",\n")
    );
    std::fs::write(sql.join(format!("measures/{id}.sql")), text).unwrap();
}

struct SpcRows {
    special_cause: Vec<String>,
    direction: Vec<String>,
    mean: Vec<Option<f64>>,
    lower: Vec<Option<f64>>,
    upper: Vec<Option<f64>>,
    variation: Vec<String>,
    assurance: Vec<String>,
}

/// The `spc` rows of one measure's `ALL` series, oldest first.
fn spc_of(batches: &[RecordBatch], id: &str) -> SpcRows {
    let ids = strings(batches, "metric_id");
    let units = strings(batches, "org_unit");
    let periods = strings(batches, "period");
    let mut idx: Vec<usize> = (0..ids.len()).filter(|&i| ids[i] == id && units[i] == "ALL").collect();
    idx.sort_by_key(|&i| periods[i].clone());
    let pick = |v: Vec<String>| idx.iter().map(|&i| v[i].clone()).collect::<Vec<_>>();
    let pickf = |v: Vec<Option<f64>>| idx.iter().map(|&i| v[i]).collect::<Vec<_>>();
    SpcRows {
        special_cause: pick(strings(batches, "special_cause")),
        direction: pick(ints(batches, "direction")),
        mean: pickf(floats(batches, "mean")),
        lower: pickf(floats(batches, "lower_limit")),
        upper: pickf(floats(batches, "upper_limit")),
        variation: pick(strings(batches, "variation")),
        assurance: pick(strings(batches, "assurance")),
    }
}

/// `(index, type, direction)` of every point that is not common cause.
fn signals(r: &SpcRows) -> Vec<(usize, &str, &str)> {
    (0..r.special_cause.len())
        .filter(|&i| r.special_cause[i] != "common_cause")
        .map(|i| (i, r.special_cause[i].as_str(), r.direction[i].as_str()))
        .collect()
}

#[test]
fn spc_parquet_flags_each_rule_of_spc_md_on_series_shaped_for_it() {
    let sql = tempfile::tempdir().unwrap();
    copy_dir(&repo().join("sql"), sql.path());
    // Noise around 11, and a last month of 30: outside the upper limit. Lower is better.
    let outside = [noise(17, 10, 12), vec![30]].concat();
    shaped_measure(sql.path(), "spc_outside", "lower_is_better", "~", 901, &outside);
    // Noise, then eight months each higher than the one before: a trend. A target far above
    // the upper limit cannot be met without change.
    let trend = [noise(11, 20, 28), vec![21, 22, 23, 24, 25, 26, 27]].concat();
    shaped_measure(sql.path(), "spc_trend", "higher_is_better", "100", 902, &trend);
    // Noise, then seven months above the mean that are neither close nor rising: a shift, on a
    // measure with no better direction.
    let shift = [noise(11, 10, 12), vec![13, 14, 13, 14, 13, 14, 13]].concat();
    shaped_measure(sql.path(), "spc_shift", "neutral", "~", 903, &shift);
    // Quiet noise, then two of the last three months close to the upper limit.
    let two_in_three = [noise(15, 22, 24), vec![30, 24, 30]].concat();
    shaped_measure(sql.path(), "spc_two_in_three", "higher_is_better", "20", 904, &two_in_three);
    // Eleven months: too few for limits.
    let mut short = noise(18, 10, 12);
    short.iter_mut().take(7).for_each(|n| *n = -1);
    shaped_measure(sql.path(), "spc_short", "higher_is_better", "~", 905, &short);
    std::fs::write(
        sql.path().join("measures/spc_short.sql"),
        std::fs::read_to_string(sql.path().join("measures/spc_short.sql")).unwrap().replace(
            "JOIN shaped AS s ON s.period = p.period\n",
            "JOIN shaped AS s ON s.period = p.period\nWHERE s.n >= 0\n",
        ),
    )
    .unwrap();

    let c = Council::new(sql.path());
    let out = c.run("2022-01");
    assert!(out.status.success(), "{}", text(&out));
    let spc = read(&c.current().join("spc.parquet"));

    let r = spc_of(&spc, "spc_outside");
    assert_eq!(r.special_cause.len(), 18);
    assert_eq!(signals(&r), [(17, "outside", "Some(1)")]);
    // mean 216/18 = 12; ranges 2 (16 of them) and 20, screened out: amr 2, limits 12 +/- 5.32.
    assert!((r.mean[0].unwrap() - 12.0).abs() < 1e-9);
    assert!((r.lower[0].unwrap() - 6.68).abs() < 1e-9 && (r.upper[0].unwrap() - 17.32).abs() < 1e-9);
    assert!(r.variation.iter().all(|v| v == "special_cause_concern"), "{:?}", r.variation);
    assert!(r.assurance.iter().all(|a| a.is_empty()), "no target, no assurance: {:?}", r.assurance);

    let r = spc_of(&spc, "spc_trend");
    assert_eq!(signals(&r), (10..18).map(|i| (i, "trend", "Some(1)")).collect::<Vec<_>>());
    assert!(r.variation.iter().all(|v| v == "special_cause_improvement"));
    assert!(r.assurance.iter().all(|a| a == "consistent_fail"), "{:?}", r.assurance);

    let r = spc_of(&spc, "spc_shift");
    assert_eq!(signals(&r), (11..18).map(|i| (i, "shift", "Some(1)")).collect::<Vec<_>>());
    assert!(r.variation.iter().all(|v| v == "special_cause_neither_high"));

    let r = spc_of(&spc, "spc_two_in_three");
    assert_eq!(signals(&r), [(15, "two_in_three", "Some(1)"), (17, "two_in_three", "Some(1)")]);
    assert!(r.variation.iter().all(|v| v == "special_cause_improvement"));
    assert!(r.assurance.iter().all(|a| a == "inconsistent"), "{:?}", r.assurance);

    assert!(spc_of(&spc, "spc_short").special_cause.is_empty(), "eleven points get no SPC");
    let ids = strings(&spc, "metric_id");
    assert!(!ids.iter().any(|i| i.starts_with("care_leavers_")), "snapshot measures get none");

    // The report and the email lead with the special causes, in spc.md's words.
    let report = std::fs::read_to_string(c.current().join("report.html")).unwrap();
    let email = c.summary_email();
    for doc in [&report, &email] {
        assert!(
            doc.contains(
                "Shaped spc_outside: a real change for the worse: January 2022 above its upper process limit."
            ),
            "{doc}"
        );
        assert!(doc.contains("Shaped spc_trend: improving: a real change, not noise: 8 months rising in a row."));
        assert!(doc.contains("Shaped spc_shift: a real change, upwards: 7 months above its average."));
        assert!(doc.contains("2 of the last 3 months close to its upper process limit"));
        assert!(doc.contains("will not meet the target without change"), "assurance of spc_trend");
        assert!(doc.contains("will sometimes meet the target"), "assurance of spc_two_in_three");
    }
    let concern = report.find("Shaped spc_outside: a real change for the worse").unwrap();
    let moves = report.find("What changed most against").unwrap_or(usize::MAX);
    assert!(concern < moves, "special causes come before the largest movements");
    assert!(report.contains("the process limits"), "the chart's legend");
}
