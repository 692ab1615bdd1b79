//! Published comparators: the DfE's annual figures for the council, England, its region and
//! its statistical neighbours (LAIT), beside the council's own monthly measures.
//!
//! The reference data is two CSV files that `scrutiny benchmarks import` derives from the
//! published files (`config/reference/benchmarks_lait.csv`, `benchmarks_areas.csv`; copies are
//! built into the binary). Values are kept as published (percentages 0-100, counts); a measure's
//! metadata says which LAIT key it is and how it is published, so the scale is applied here.

use crate::error::MeasureError;
use crate::project::{Measure, Unit};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The Open Government Licence attribution that must travel with the figures.
pub const ATTRIBUTION: &str = "Contains public sector information licensed under the Open Government Licence v3.0 \
(Department for Education: Characteristics of children in need; Children looked after in England including \
adoptions; Local Authority Interactive Tool).";

/// The copies built into the binary, used when the settings name no directory.
pub const BUILTIN_LAIT_CSV: &str = include_str!("../../../config/reference/benchmarks_lait.csv");
pub const BUILTIN_AREAS_CSV: &str = include_str!("../../../config/reference/benchmarks_areas.csv");
pub const LAIT_FILE: &str = "benchmarks_lait.csv";
pub const AREAS_FILE: &str = "benchmarks_areas.csv";

/// How LAIT publishes a measure: a percentage (0-100; our rates are fractions) or a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PublishedAs {
    Percent,
    Count,
}

/// A measure's published comparator, in its metadata (`benchmark:`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkMeta {
    /// The LAIT measure key (`Short Desc`), e.g. `ReReferral`.
    pub lait: String,
    pub published_as: PublishedAs,
    /// What the published figure is, where it differs from the measure: "referrals in the
    /// year" beside a monthly count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AreaKind {
    Council,
    Region,
    England,
}

impl AreaKind {
    fn as_str(self) -> &'static str {
        match self {
            AreaKind::Council => "council",
            AreaKind::Region => "region",
            AreaKind::England => "england",
        }
    }
}

/// A council, region or England, by its DfE number (England 970, regions 980-990).
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub number: u32,
    pub name: String,
    pub kind: AreaKind,
    /// A council's region.
    pub region: Option<u32>,
    /// A council's statistical neighbours, closest first.
    pub neighbours: Vec<u32>,
}

/// The published figures and the areas they are for.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// (LAIT key, year ending, area) -> value as published; `None` where suppressed.
    values: HashMap<(String, NaiveDate, u32), Option<f64>>,
    pub areas: BTreeMap<u32, Area>,
}

/// One row of the mart's `benchmarks` table.
#[derive(Debug, Clone, PartialEq)]
pub struct BenchmarkRow {
    pub metric_id: String,
    pub year_ending: NaiveDate,
    /// `council`, `england`, `region` or `statistical_neighbours`.
    pub comparator: &'static str,
    pub area: String,
    /// On our measure's scale: a rate as a fraction, a count as the count.
    pub value: Option<f64>,
    pub neighbours_with_value: Option<i64>,
}

/// The council the run is for (`council` in the settings).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Council {
    pub name: String,
    pub la_number: u32,
}

fn bad(file: &str, message: String) -> MeasureError {
    MeasureError::Reference { file: PathBuf::from(file), message }
}

/// The 31 March that ends the published year `"2021"`.
fn year_ending(year: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(year.trim().parse().ok()?, 3, 31)
}

/// A published value: `-`, `x`, `c`, empty and the like are suppressed or not available, never
/// zero; float noise (`76.900000000000006`) is rounded away.
pub fn parse_published(text: &str) -> Option<f64> {
    let v: f64 = text.trim().parse().ok()?;
    v.is_finite().then(|| (v * 1e6).round() / 1e6)
}

impl Reference {
    /// The copies built into the binary.
    pub fn builtin() -> Result<Self, MeasureError> {
        Self::parse(
            BUILTIN_LAIT_CSV,
            "built-in benchmarks_lait.csv",
            BUILTIN_AREAS_CSV,
            "built-in benchmarks_areas.csv",
        )
    }

    /// `benchmarks_lait.csv` and `benchmarks_areas.csv` in `dir`.
    pub fn read_dir(dir: &Path) -> Result<Self, MeasureError> {
        let read = |name: &str| {
            let p = dir.join(name);
            std::fs::read_to_string(&p).map_err(|e| MeasureError::Reference { file: p.clone(), message: e.to_string() })
        };
        let (lait, areas) = (read(LAIT_FILE)?, read(AREAS_FILE)?);
        Self::parse(
            &lait,
            &dir.join(LAIT_FILE).display().to_string(),
            &areas,
            &dir.join(AREAS_FILE).display().to_string(),
        )
    }

    fn parse(lait: &str, lait_name: &str, areas: &str, areas_name: &str) -> Result<Self, MeasureError> {
        let mut out = Reference::default();
        let mut r = csv::Reader::from_reader(areas.as_bytes());
        for (i, rec) in r.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| bad(areas_name, e.to_string()))?;
            let at = |message: String| bad(areas_name, format!("line {line}: {message}"));
            let number: u32 =
                rec.get(0).unwrap_or("").parse().map_err(|_| at("`area_number` is not a number".into()))?;
            let kind = match rec.get(2).unwrap_or("") {
                "council" => AreaKind::Council,
                "region" => AreaKind::Region,
                "england" => AreaKind::England,
                other => return Err(at(format!("`kind` is `{other}`, not council, region or england"))),
            };
            let region = match rec.get(3).unwrap_or("") {
                "" => None,
                s => Some(s.parse().map_err(|_| at("`region_number` is not a number".into()))?),
            };
            let neighbours = rec
                .get(4)
                .unwrap_or("")
                .split_whitespace()
                .map(|n| n.parse().map_err(|_| at(format!("neighbour `{n}` is not a number"))))
                .collect::<Result<Vec<u32>, _>>()?;
            out.areas
                .insert(number, Area { number, name: rec.get(1).unwrap_or("").to_string(), kind, region, neighbours });
        }
        let mut r = csv::Reader::from_reader(lait.as_bytes());
        for (i, rec) in r.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| bad(lait_name, e.to_string()))?;
            let at = |message: String| bad(lait_name, format!("line {line}: {message}"));
            let year = year_ending(rec.get(1).unwrap_or("")).ok_or_else(|| at("`year` is not a year".into()))?;
            let area: u32 = rec.get(2).unwrap_or("").parse().map_err(|_| at("`area_number` is not a number".into()))?;
            out.values
                .insert((rec.get(0).unwrap_or("").to_string(), year, area), parse_published(rec.get(3).unwrap_or("")));
        }
        Ok(out)
    }

    /// The council's area, or a message listing how to find the right number.
    pub fn council(&self, la_number: u32) -> Result<&Area, String> {
        match self.areas.get(&la_number) {
            Some(a) if a.kind == AreaKind::Council => Ok(a),
            Some(a) => Err(format!("{la_number} is {} ({}), not a council", a.name, a.kind.as_str())),
            None => Err(format!(
                "no council numbered {la_number} in the published figures ({} councils, numbered {}..{}; the DfE's old 3-digit numbers)",
                self.areas.values().filter(|a| a.kind == AreaKind::Council).count(),
                self.areas.keys().next().copied().unwrap_or(0),
                self.areas.values().filter(|a| a.kind == AreaKind::Council).map(|a| a.number).max().unwrap_or(0),
            )),
        }
    }

    /// Whether any figure is published under the LAIT key `key`.
    pub fn has_key(&self, key: &str) -> bool {
        self.values.keys().any(|k| k.0 == key)
    }

    fn value(&self, key: &str, year: NaiveDate, area: u32) -> Option<Option<f64>> {
        self.values.get(&(key.to_string(), year, area)).copied()
    }

    /// The years published for `key`, oldest first.
    fn years(&self, key: &str) -> Vec<NaiveDate> {
        let mut ys: Vec<NaiveDate> = self.values.keys().filter(|k| k.0 == key).map(|k| k.1).collect();
        ys.sort_unstable();
        ys.dedup();
        ys
    }
}

/// The `benchmarks` rows of `council` for every measure with a published comparator, for every
/// published year ending on or before `period_end` (a rerun of an old period sees only what was
/// published by then). Counts are compared with the council's own figure only: a national or
/// regional count says nothing about one council.
pub fn rows(
    measures: &[Measure],
    reference: &Reference,
    council: &Council,
    period_end: NaiveDate,
) -> Vec<BenchmarkRow> {
    let Some(area) = reference.areas.get(&council.la_number) else { return Vec::new() };
    let mut out = Vec::new();
    for m in measures {
        let Some(b) = &m.meta.benchmark else { continue };
        let scale = |v: Option<f64>| match (b.published_as, m.meta.unit) {
            (PublishedAs::Percent, Unit::Rate) => v.map(|x| (x / 100.0 * 1e9).round() / 1e9),
            _ => v,
        };
        for year in reference.years(&b.lait).into_iter().filter(|y| *y <= period_end) {
            let get = |n: u32| scale(reference.value(&b.lait, year, n).flatten());
            let row = |comparator, area: String, value, with| BenchmarkRow {
                metric_id: m.meta.id.clone(),
                year_ending: year,
                comparator,
                area,
                value,
                neighbours_with_value: with,
            };
            out.push(row("council", council.name.clone(), get(council.la_number), None));
            if b.published_as == PublishedAs::Count {
                continue;
            }
            out.push(row("england", "England".into(), get(970), None));
            if let Some(r) = area.region {
                let name = reference.areas.get(&r).map_or_else(|| r.to_string(), |a| a.name.clone());
                out.push(row("region", name, get(r), None));
            }
            let known: Vec<f64> = area.neighbours.iter().filter_map(|&n| get(n)).collect();
            let mean =
                (!known.is_empty()).then(|| (known.iter().sum::<f64>() / known.len() as f64 * 1e9).round() / 1e9);
            out.push(row(
                "statistical_neighbours",
                format!("mean of {} neighbours", known.len()),
                mean,
                Some(known.len() as i64),
            ));
        }
    }
    out
}

/// The latest published year of `metric_id` (the newest in `rows`), as "2020-21".
pub fn year_label(year_ending: NaiveDate) -> String {
    format!("{}-{:02}", year_ending.year() - 1, year_ending.year() % 100)
}

// ---- `scrutiny benchmarks import` ----------------------------------------------------------

/// What an import wrote, for the command to print.
#[derive(Debug)]
pub struct Imported {
    pub values: usize,
    pub councils: usize,
    pub with_neighbours: usize,
    pub years: (String, String),
}

/// Derives the reference files from the DfE's published files: the LAIT long file (Parquet)
/// for the LAIT keys the measures name, and a statistical-neighbour file (the dashboard's CSV,
/// LAIT's xlsx or the older CSV: the header row is found by its council-number column).
pub fn import(measures: &[Measure], lait: &Path, neighbours: &Path, out: &Path) -> Result<Imported, MeasureError> {
    let keys: Vec<&str> = measures.iter().filter_map(|m| m.meta.benchmark.as_ref()).map(|b| b.lait.as_str()).collect();
    let lait_name = lait.display().to_string();
    let table = read_lait(lait)?;
    let mut areas: BTreeMap<u32, (String, Option<String>)> = BTreeMap::new();
    let mut rows: Vec<(String, String, u32, String)> = Vec::new();
    for r in &table {
        areas.entry(r.number).or_insert_with(|| (r.area.clone(), r.region.clone()));
        if keys.contains(&r.key.as_str()) {
            rows.push((r.key.clone(), r.year.clone(), r.number, r.value.clone()));
        }
    }
    for k in &keys {
        if !rows.iter().any(|r| r.0 == *k) {
            return Err(bad(&lait_name, format!("no rows for the LAIT key `{k}` that a measure names")));
        }
    }
    // Regions are areas 980-990; a council's `Region` names one, London spelt the other way.
    let region_number = |name: &str| -> Option<u32> {
        let wanted = match name {
            "Inner London" => "London (Inner)",
            "Outer London" => "London (Outer)",
            n => n,
        };
        areas.iter().find(|(n, (a, _))| (980..=990).contains(*n) && a.eq_ignore_ascii_case(wanted)).map(|(n, _)| *n)
    };
    let groups = read_neighbours(neighbours)?;
    let written = |e: csv::Error| bad(&out.display().to_string(), e.to_string());
    std::fs::create_dir_all(out)
        .map_err(|e| MeasureError::Reference { file: out.to_path_buf(), message: e.to_string() })?;
    let mut areas_csv = csv::Writer::from_path(out.join(AREAS_FILE)).map_err(written)?;
    areas_csv.write_record(["area_number", "area_name", "kind", "region_number", "neighbours"]).map_err(written)?;
    let (mut councils, mut with_neighbours) = (0, 0);
    for (n, (name, region)) in &areas {
        let kind = match n {
            970 => "england",
            980..=990 => "region",
            _ => "council",
        };
        let region = if kind == "council" { region.as_deref().and_then(region_number) } else { None };
        if kind == "council" {
            councils += 1;
            if region.is_none() {
                return Err(bad(
                    &lait_name,
                    format!("council {n} ({name}): its region {region:?} is not an area of the file"),
                ));
            }
        }
        let sn = groups.get(n).map(|g| g.iter().map(u32::to_string).collect::<Vec<_>>().join(" ")).unwrap_or_default();
        with_neighbours += usize::from(!sn.is_empty());
        let region = region.map(|r| r.to_string()).unwrap_or_default();
        areas_csv.write_record([n.to_string().as_str(), name, kind, &region, &sn]).map_err(written)?;
    }
    areas_csv.flush().map_err(|e| written(e.into()))?;
    rows.sort();
    let mut lait_csv = csv::Writer::from_path(out.join(LAIT_FILE)).map_err(written)?;
    lait_csv.write_record(["lait_key", "year", "area_number", "value"]).map_err(written)?;
    for (k, y, n, v) in &rows {
        lait_csv.write_record([k.as_str(), y, &n.to_string(), v]).map_err(written)?;
    }
    lait_csv.flush().map_err(|e| written(e.into()))?;
    let years = (
        rows.iter().map(|r| r.1.clone()).min().unwrap_or_default(),
        rows.iter().map(|r| r.1.clone()).max().unwrap_or_default(),
    );
    Ok(Imported { values: rows.len(), councils, with_neighbours, years })
}

struct LaitRow {
    key: String,
    year: String,
    area: String,
    value: String,
    number: u32,
    region: Option<String>,
}

fn read_lait(path: &Path) -> Result<Vec<LaitRow>, MeasureError> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let name = path.display().to_string();
    let f = std::fs::File::open(path).map_err(|e| bad(&name, e.to_string()))?;
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .and_then(|b| b.build())
        .map_err(|e| bad(&name, format!("not a LAIT Parquet file: {e}")))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(&name, e.to_string()))?;
        let col = |c: &str| -> Result<Vec<Option<String>>, MeasureError> {
            let a = batch.column_by_name(c).ok_or_else(|| bad(&name, format!("no `{c}` column (a LAIT long file has `Short Desc`, `Years`, `LA and Regions`, `Values`, `LA Number`, `Region`)")))?;
            let a = cast(a, &DataType::Utf8).map_err(|e| bad(&name, format!("`{c}`: {e}")))?;
            let s = a.as_string::<i32>();
            Ok((0..s.len()).map(|i| s.is_valid(i).then(|| s.value(i).to_string())).collect())
        };
        let (keys, years, areas, values, numbers, regions) = (
            col("Short Desc")?,
            col("Years")?,
            col("LA and Regions")?,
            col("Values")?,
            col("LA Number")?,
            col("Region")?,
        );
        for i in 0..batch.num_rows() {
            let Some(number) = numbers[i].as_deref().and_then(|n| n.parse::<f64>().ok()).map(|n| n as u32) else {
                continue;
            };
            out.push(LaitRow {
                key: keys[i].clone().unwrap_or_default(),
                year: years[i].clone().unwrap_or_default(),
                area: areas[i].clone().unwrap_or_default(),
                value: values[i].clone().unwrap_or_default(),
                number,
                region: regions[i].clone().filter(|r| r != "NA" && !r.is_empty()),
            });
        }
    }
    Ok(out)
}

/// Council number -> its neighbours, closest first, from any of the DfE's neighbour files.
pub fn read_neighbours(path: &Path) -> Result<BTreeMap<u32, Vec<u32>>, MeasureError> {
    let name = path.display().to_string();
    let rows: Vec<Vec<String>> = if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("xlsx")) {
        use calamine::{Reader, Xlsx, open_workbook};
        let mut wb: Xlsx<_> = open_workbook(path).map_err(|e| bad(&name, format!("not an xlsx workbook: {e}")))?;
        let sheet = wb.sheet_names().first().cloned().ok_or_else(|| bad(&name, "no sheets".into()))?;
        let range = wb.worksheet_range(&sheet).map_err(|e| bad(&name, format!("sheet `{sheet}`: {e}")))?;
        range.rows().map(|r| r.iter().map(|c| c.to_string()).collect()).collect()
    } else {
        let text = std::fs::read(path).map_err(|e| bad(&name, e.to_string()))?;
        let text = String::from_utf8_lossy(&text);
        let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        r.records()
            .map(|rec| rec.map(|rec| rec.iter().map(str::to_string).collect()).map_err(|e| bad(&name, e.to_string())))
            .collect::<Result<_, _>>()?
    };
    let clean = |s: &str| s.trim().trim_start_matches('\u{feff}').to_ascii_lowercase();
    let header_at = rows
        .iter()
        .position(|r| {
            r.first().is_some_and(|c| ["old_la_code", "la num", "la_number", "la number"].contains(&clean(c).as_str()))
        })
        .ok_or_else(|| {
            bad(&name, "no header row starting with a council-number column (`old_la_code` or `LA num`)".into())
        })?;
    let header = &rows[header_at];
    // SN1..SN10 or SN_1..SN_10, in order; the columns beside them say how close each is.
    let mut sn: Vec<(u32, usize)> = header
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let h = clean(h);
            let n = h.strip_prefix("sn_").or_else(|| h.strip_prefix("sn"))?;
            Some((n.parse().ok()?, i))
        })
        .collect();
    sn.sort_unstable();
    if sn.is_empty() {
        return Err(bad(&name, format!("line {}: no neighbour columns (SN1..SN10 or SN_1..SN_10)", header_at + 1)));
    }
    let number = |s: &str| s.trim().parse::<f64>().ok().filter(|n| *n > 0.0).map(|n| n as u32);
    let mut out = BTreeMap::new();
    for r in &rows[header_at + 1..] {
        let Some(la) = r.first().and_then(|c| number(c)) else { continue };
        let group: Vec<u32> = sn.iter().filter_map(|&(_, i)| r.get(i).and_then(|c| number(c))).collect();
        out.insert(la, group);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suppressed_values_are_missing_never_zero_and_float_noise_is_rounded() {
        assert_eq!(parse_published("-"), None);
        assert_eq!(parse_published(""), None);
        assert_eq!(parse_published("x"), None);
        assert_eq!(parse_published("76.900000000000006"), Some(76.9));
        assert_eq!(parse_published("0"), Some(0.0));
    }

    #[test]
    fn years_are_labelled_as_the_dfe_writes_them() {
        assert_eq!(year_label(NaiveDate::from_ymd_opt(2021, 3, 31).unwrap()), "2020-21");
        assert_eq!(year_label(NaiveDate::from_ymd_opt(2010, 3, 31).unwrap()), "2009-10");
    }

    fn shipped_measures() -> Vec<Measure> {
        crate::Project::load(&scrutiny_core::checkout_root().join("sql")).unwrap().measures
    }

    #[test]
    fn devon_s_rereferrals_for_2020_21_beside_england_the_south_west_and_its_neighbours() {
        let r = Reference::builtin().unwrap();
        let devon = Council { name: "Devon".into(), la_number: 878 };
        let jan_2022 = NaiveDate::from_ymd_opt(2022, 1, 31).unwrap();
        let rows = rows(&shipped_measures(), &r, &devon, jan_2022);
        let year = NaiveDate::from_ymd_opt(2021, 3, 31).unwrap();
        let get = |c: &str| {
            rows.iter()
                .find(|b| b.metric_id == "referrals_rereferral_rate" && b.year_ending == year && b.comparator == c)
                .unwrap_or_else(|| panic!("no {c} row"))
        };
        assert_eq!((get("council").value, get("council").area.as_str()), (Some(0.188), "Devon"));
        assert_eq!((get("england").value, get("england").area.as_str()), (Some(0.227), "England"));
        assert_eq!((get("region").value, get("region").area.as_str()), (Some(0.227), "South West"));
        // The 2021 figures of 845, 838, 926, 886, 933, 935, 938, 830, 881 and 885 average 22.27.
        let sn = get("statistical_neighbours");
        assert_eq!(
            (sn.value, sn.neighbours_with_value, sn.area.as_str()),
            (Some(0.2227), Some(10), "mean of 10 neighbours")
        );
        assert!(rows.iter().all(|b| b.year_ending <= jan_2022), "nothing published after the period");
        assert!(!rows.iter().any(|b| b.metric_id == "care_leavers_in_touch_rate"), "NOT in touch is not our measure");
        let counts: Vec<_> = rows.iter().filter(|b| b.metric_id == "cla_count").collect();
        assert!(
            !counts.is_empty() && counts.iter().all(|b| b.comparator == "council"),
            "a count is the council's own only"
        );
    }

    #[test]
    fn a_suppressed_neighbour_is_left_out_of_the_mean_and_counted_out() {
        let areas = "area_number,area_name,kind,region_number,neighbours\n970,England,england,,\n990,South West,region,,\n\
            100,Here,council,990,101 102 103\n101,A,council,990,\n102,B,council,990,\n103,C,council,990,\n";
        let lait = "lait_key,year,area_number,value\nReReferral,2021,100,-\nReReferral,2021,101,20\n\
            ReReferral,2021,102,-\nReReferral,2021,103,30\nReReferral,2021,970,22.7\n";
        let r = Reference::parse(lait, "lait", areas, "areas").unwrap();
        let here = Council { name: "Here".into(), la_number: 100 };
        let measures: Vec<Measure> =
            shipped_measures().into_iter().filter(|m| m.meta.id == "referrals_rereferral_rate").collect();
        let rows = rows(&measures, &r, &here, NaiveDate::from_ymd_opt(2022, 1, 31).unwrap());
        let by = |c: &str| rows.iter().find(|b| b.comparator == c).unwrap();
        assert_eq!(by("council").value, None, "suppressed is missing, never zero");
        assert_eq!(by("region").value, None, "a region with no published row");
        assert_eq!(
            (by("statistical_neighbours").value, by("statistical_neighbours").neighbours_with_value),
            (Some(0.25), Some(2))
        );
    }

    #[test]
    fn the_built_in_copy_knows_devon_and_its_neighbours() {
        let r = Reference::builtin().unwrap();
        let devon = r.council(878).unwrap();
        assert_eq!(devon.name, "Devon");
        assert_eq!(devon.neighbours, [845, 838, 926, 886, 933, 935, 938, 830, 881, 885]);
        assert_eq!(r.areas[&devon.region.unwrap()].name, "South West");
        assert!(r.council(999).is_err());
        assert!(r.has_key("ReReferral") && !r.has_key("ReRefferal"));
        assert!(r.council(970).unwrap_err().contains("not a council"));
    }
}
