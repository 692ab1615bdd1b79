//! A realistic synthetic Standard Safeguarding Dataset: every table of the source contract for
//! a council the size of the seed report's (about 500 referrals a month, 930 children on CIN
//! plans, 650 on CP plans, 820 in care, 430 care leavers), with its rough rates, some dirty
//! rows, and the same output for the same seed.

use chrono::{Datelike, Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use scrutiny_core::Period;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct SynthError {
    pub path: PathBuf,
    pub source: csv::Error,
}

#[derive(Debug, Clone)]
pub struct Options {
    pub seed: u64,
    /// The last complete month of data: the extract is taken a few days after its end.
    pub period: Period,
    /// Multiplies the council: 1 is the seed's council, 150 about England.
    pub scale: f64,
}

/// Teams of the seed's four localities and two services, with the team map that places them.
pub const TEAMS: &[(&str, &str, &str)] = &[
    ("T-SOU-1", "SOUTH", "locality"),
    ("T-SOU-2", "SOUTH", "locality"),
    ("T-NOR-1", "NORTH", "locality"),
    ("T-NOR-2", "NORTH", "locality"),
    ("T-MID-1", "MID & EAST", "locality"),
    ("T-MID-2", "MID & EAST", "locality"),
    ("T-EXE-1", "EXETER", "locality"),
    ("T-EXE-2", "EXETER", "locality"),
    ("T-DCS-1", "DISABLED CHILDREN SERVICE", "service"),
    ("T-SWS-1", "SOCIAL WORKERS IN SCHOOL", "service"),
];

type Row = Vec<String>;

/// A table's CSV file, written as its rows are generated: every table is open at once (the
/// generator moves between them as a child's case moves on), so memory stays flat at any scale
/// and a seed still gives the same files. Values are in the source contract's column order
/// (`sql/sources.yaml`, which gives the header).
struct Sink {
    name: &'static str,
    path: PathBuf,
    writer: csv::Writer<std::fs::File>,
    rows: usize,
    /// The first write error: generation carries on (it must draw the same numbers), and the
    /// error is reported when the files are finished.
    error: Option<csv::Error>,
}

impl Sink {
    fn create(dir: &Path, name: &'static str) -> Result<Self, SynthError> {
        let path = dir.join(format!("{name}.csv"));
        let mut writer = csv::WriterBuilder::new()
            .buffer_capacity(1 << 16)
            .from_path(&path)
            .map_err(|source| SynthError { path: path.clone(), source })?;
        writer.write_record(header(name)).map_err(|source| SynthError { path: path.clone(), source })?;
        Ok(Self { name, path, writer, rows: 0, error: None })
    }

    fn push(&mut self, row: Row) {
        if self.error.is_none()
            && let Err(e) = self.writer.write_record(&row)
        {
            self.error = Some(e);
        }
        self.rows += 1;
    }

    fn finish(mut self) -> Result<(String, usize), SynthError> {
        if let Some(source) = self.error.take() {
            return Err(SynthError { path: self.path, source });
        }
        self.writer.flush().map_err(|e| SynthError { path: self.path.clone(), source: e.into() })?;
        Ok((self.name.to_string(), self.rows))
    }
}

fn header(table: &str) -> Vec<&'static str> {
    let t = scrutiny_extract::Contract::builtin().table(table).expect("every synthetic table is in the contract");
    t.columns.iter().map(|c| c.name.as_str()).collect()
}

fn d(x: NaiveDate) -> String {
    x.format("%Y-%m-%d").to_string()
}

fn od(x: Option<NaiveDate>) -> String {
    x.map(d).unwrap_or_default()
}

struct Gen {
    rng: ChaCha8Rng,
    next_id: u64,
    as_at: NaiveDate,
}

impl Gen {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}{}", self.next_id)
    }
    fn chance(&mut self, p: f64) -> bool {
        self.rng.random_bool(p.clamp(0.0, 1.0))
    }
    fn days(&mut self, lo: i64, hi: i64) -> Duration {
        Duration::days(self.rng.random_range(lo..=hi))
    }
    fn in_month(&mut self, p: Period) -> NaiveDate {
        let n = p.end().day() as i64;
        p.start() + self.days(0, n - 1)
    }
    fn team(&mut self) -> &'static str {
        TEAMS[self.rng.random_range(0..TEAMS.len())].0
    }
    /// A Y/N flag as case management systems write it, now and then in another spelling.
    fn flag(&mut self, yes: bool) -> String {
        let variants: &[&str] =
            if yes { &["Y", "YES", "True", "1", "y", " Y "] } else { &["N", "NO", "False", "0", "n"] };
        if self.chance(0.9) {
            variants[0].to_string()
        } else {
            variants[self.rng.random_range(0..variants.len())].to_string()
        }
    }
    /// A date, now and then written with a time of day.
    fn stamp(&mut self, x: Option<NaiveDate>) -> String {
        match x {
            Some(v) if self.chance(0.05) => {
                format!("{} {:02}:{:02}:00", d(v), self.rng.random_range(8..18), self.rng.random_range(0..60))
            }
            _ => od(x),
        }
    }
    /// An end date as the extract sees it: none if it lies after the extract.
    fn ended(&self, x: NaiveDate) -> Option<NaiveDate> {
        (x <= self.as_at).then_some(x)
    }
}

fn scaled(n: f64, scale: f64) -> usize {
    (n * scale).round().max(0.0) as usize
}

/// Generates every table and writes `<table>.csv` files and `team_org_units.csv` into `out`,
/// streaming: rows go to their file as they are generated.
pub fn generate(opts: &Options, out: &Path) -> Result<Vec<(String, usize)>, SynthError> {
    std::fs::create_dir_all(out).map_err(|e| SynthError { path: out.to_path_buf(), source: e.into() })?;
    let counts = build(opts, out)?;
    let path = out.join("team_org_units.csv");
    let mut w = csv::Writer::from_path(&path).map_err(|source| SynthError { path: path.clone(), source })?;
    w.write_record(["team_id", "org_unit", "org_unit_kind"])
        .map_err(|source| SynthError { path: path.clone(), source })?;
    for (t, o, k) in TEAMS {
        w.write_record([t, o, k]).map_err(|source| SynthError { path: path.clone(), source })?;
    }
    w.flush().map_err(|e| SynthError { path: path.clone(), source: e.into() })?;
    Ok(counts)
}

fn build(opts: &Options, dir: &Path) -> Result<Vec<(String, usize)>, SynthError> {
    let s = opts.scale;
    let as_at = opts.period.end() + Duration::days(4);
    let mut g = Gen { rng: ChaCha8Rng::seed_from_u64(opts.seed), next_id: 1000, as_at };
    let open = |name| Sink::create(dir, name);
    let mut person = open("ssd_person")?;
    let mut new_child = |g: &mut Gen, at: NaiveDate, min_age: i64, max_age: i64| -> String {
        let id = g.id("P");
        let dob = at - g.days(min_age * 365, max_age * 365 + 364);
        let sex = if g.chance(0.5) { "M" } else { "F" };
        person.push(vec![id.clone(), d(dob), String::new(), sex.into(), "WBRI".into()]);
        id
    };

    // Referrals, assessments, S47 enquiries, conferences and the plans that follow.
    let first = opts.period.minus_months(47);
    let mut referrals = open("ssd_cin_episodes")?;
    let mut assessments = open("ssd_cin_assessments")?;
    let mut s47 = open("ssd_s47_enquiry")?;
    let mut icpcs = open("ssd_initial_cp_conference")?;
    let mut cin_plans = open("ssd_cin_plans")?;
    let mut cp_plans = open("ssd_cp_plans")?;
    let mut cin_visits = open("ssd_cin_visits")?;
    let mut cp_visits = open("ssd_cp_visits")?;
    let mut involvements = open("ssd_involvements")?;
    // Referrals of the last twelve months, oldest first, for re-referrals.
    let mut recent: std::collections::VecDeque<(String, NaiveDate)> = Default::default();
    let mut month = first;
    while month <= opts.period {
        let seasonal = 1.0 + 0.06 * ((month.month() as f64 - 1.0) / 12.0 * std::f64::consts::TAU).cos();
        let noise = g.rng.random_range(0.9..1.1);
        let n = scaled(500.0 * seasonal * noise, s);
        // Month by month is close enough to "within a year" for synthetic re-referrals.
        let horizon = month.start() - Duration::days(365);
        while recent.front().is_some_and(|(_, r)| *r < horizon) {
            recent.pop_front();
        }
        for _ in 0..n {
            let date = g.in_month(month);
            let child = if !recent.is_empty() && g.chance(0.22) {
                recent[g.rng.random_range(0..recent.len())].0.clone()
            } else {
                new_child(&mut g, date, 0, 17)
            };
            recent.push_back((child.clone(), date));
            let rid = g.id("R");
            let team = g.team();
            let nfa = g.chance(0.082);
            let row = vec![rid.clone(), child.clone(), g.stamp(Some(date)), g.flag(nfa), String::new(), team.into()];
            if g.chance(0.002) {
                referrals.push(row.clone()); // an exact duplicate, as real extracts have
            }
            referrals.push(row);
            if nfa || !g.chance(0.48) {
                continue;
            }
            let start = date + g.days(0, 7);
            let auth = start + if g.chance(0.68) { g.days(10, 58) } else { g.days(66, 110) };
            let auth_txt = match g.ended(auth) {
                Some(a) => d(a),
                None if g.chance(0.3) => "1900-01-01".into(),
                None => String::new(),
            };
            assessments.push(vec![g.id("A"), child.clone(), rid.clone(), d(start), auth_txt, team.into()]);
            if g.chance(0.30) {
                let s47_id = g.id("S");
                let s47_start = start + g.days(0, 5);
                let s47_end = s47_start + g.days(5, 30);
                s47.push(vec![s47_id.clone(), child.clone(), rid.clone(), d(s47_start), od(g.ended(s47_end))]);
                if g.chance(0.75) {
                    let icpc_date = s47_start + if g.chance(0.6) { g.days(5, 19) } else { g.days(23, 45) };
                    if icpc_date > as_at {
                        continue;
                    }
                    let transfer = g.chance(0.03);
                    let to_plan = g.chance(0.87);
                    let plan_id = g.id("CP");
                    icpcs.push(vec![
                        g.id("C"),
                        child.clone(),
                        s47_id,
                        d(icpc_date),
                        g.flag(transfer),
                        g.flag(to_plan),
                        d(s47_start + Duration::days(21)),
                        if to_plan { plan_id.clone() } else { String::new() },
                    ]);
                    if to_plan {
                        let end = icpc_date + g.days(90, 900);
                        cp_plans.push(vec![plan_id.clone(), child.clone(), d(icpc_date), od(g.ended(end))]);
                        visits(&mut g, &mut cp_visits, &child, Some(&plan_id), icpc_date, end.min(as_at), 4, 21, "CPV");
                        involvements.push(vec![
                            g.id("I"),
                            child.clone(),
                            team.into(),
                            "CW".into(),
                            d(icpc_date),
                            od(g.ended(end)),
                        ]);
                    }
                    continue;
                }
            }
            if g.chance(0.55) {
                let plan_start = auth.min(as_at);
                let end = plan_start + g.days(60, 600);
                cin_plans.push(vec![g.id("CIN"), child.clone(), d(plan_start), od(g.ended(end)), team.into()]);
                visits(&mut g, &mut cin_visits, &child, None, plan_start, end.min(as_at), 8, 40, "CINV");
                let role = if g.chance(0.95) { "CW" } else { "TM" };
                involvements.push(vec![
                    g.id("I"),
                    child.clone(),
                    if g.chance(0.97) { team.into() } else { "T-OLD-9".into() },
                    role.into(),
                    d(plan_start),
                    od(g.ended(end)),
                ]);
            }
        }
        month = month.next();
    }

    // Children in care: about 23 periods of care start a month; they last about three years.
    let mut episodes = open("ssd_cla_episodes")?;
    let mut legal = open("ssd_legal_status")?;
    let mut placements = open("ssd_cla_placement")?;
    let mut health = open("ssd_cla_health")?;
    let care_first = opts.period.minus_months(119);
    let mut month = care_first;
    while month <= opts.period {
        for _ in 0..scaled(23.0, s) {
            let start = g.in_month(month);
            let child = new_child(&mut g, start, 0, 16);
            let short_break = g.chance(0.04);
            let end = start + if short_break { g.days(2, 20) } else { g.days(120, 1900) };
            // One to three episodes, each with its own placement.
            let mut ep_start = start;
            let n_eps = if short_break { 1 } else { g.rng.random_range(1..=3) };
            for k in 0..n_eps {
                let ep_end = if k + 1 == n_eps { end } else { (ep_start + g.days(60, 500)).min(end) };
                let reason = if k == 0 {
                    if g.chance(0.05) { "S - Started to be looked after".to_string() } else { "S".into() }
                } else {
                    "P".into()
                };
                let ceased = g.ended(ep_end);
                let ceased_reason = match ceased {
                    None => String::new(),
                    Some(_) if k + 1 < n_eps => "X1".into(),
                    Some(_) => ["E11", "E12", "E13", "E41", "E8", "E4A"][g.rng.random_range(0..6)].into(),
                };
                // Placements within the episode: some children move often.
                let first_place = g.id("PL");
                let (mut place, mut place_start) = (first_place.clone(), ep_start);
                loop {
                    let stay = if g.chance(0.75) { g.days(300, 2400) } else { g.days(20, 200) };
                    let place_end = (place_start + stay).min(ep_end);
                    let ended = if place_end < ep_end { g.ended(place_end) } else { ceased };
                    placements.push(vec![place.clone(), child.clone(), d(place_start), od(ended), "U1".into()]);
                    if place_end >= ep_end || place_end >= as_at {
                        break;
                    }
                    place_start = place_end;
                    place = g.id("PL");
                }
                episodes.push(vec![
                    g.id("E"),
                    child.clone(),
                    d(ep_start),
                    reason,
                    od(ceased),
                    ceased_reason,
                    d(start),
                    first_place,
                ]);
                if ep_end >= as_at {
                    break;
                }
                ep_start = ep_end;
            }
            let status = if short_break {
                if g.chance(0.5) { "V3" } else { "V4" }
            } else {
                ["C2", "C1", "J2", "E1", "V2"][g.rng.random_range(0..5)]
            };
            legal.push(vec![g.id("L"), child.clone(), status.into(), d(start), od(g.ended(end))]);
            // Yearly health and dental checks while in care.
            let mut due = start + Duration::days(20);
            while due <= end.min(as_at) {
                if g.chance(0.8) {
                    health.push(vec![
                        g.id("H"),
                        child.clone(),
                        "Health Assessment".into(),
                        d(due + g.days(0, 60)),
                        "Completed".into(),
                    ]);
                }
                if g.chance(0.55) {
                    let kind = if g.chance(0.9) { "Dental Check" } else { "DENTAL" };
                    health.push(vec![
                        g.id("H"),
                        child.clone(),
                        kind.into(),
                        d(due + g.days(0, 90)),
                        "Completed".into(),
                    ]);
                }
                due += Duration::days(365);
            }
        }
        month = month.next();
    }

    // Care leavers: current status only.
    let mut leavers = open("ssd_care_leavers")?;
    let codes = ["B", "C", "D", "E", "G", "H", "K", "R", "S", "T", "U", "V", "W", "X", "Z", "Y"];
    for _ in 0..scaled(575.0, s) {
        let child = new_child(&mut g, as_at, 18, 24);
        let eligibility = ["Relevant", "Former Relevant", "Former Relevant", "Qualifying"][g.rng.random_range(0..4)];
        let in_touch =
            if g.chance(0.92) { "YES" } else { ["NO", "DIED", "REFU", "NREQ", "RHOM"][g.rng.random_range(0..5)] };
        let activity = if g.chance(0.5) {
            ["F1", "F2", "P1", "P2", "F3"][g.rng.random_range(0..5)]
        } else {
            ["G4", "G5", "G6"][g.rng.random_range(0..3)]
        };
        let suitable = if g.chance(0.83) { "1" } else { "2" };
        let suitable = if g.chance(0.05) { if suitable == "1" { "Suitable" } else { "Unsuitable" } } else { suitable };
        let contact = as_at - g.days(0, 120);
        leavers.push(vec![
            g.id("CL"),
            child,
            eligibility.into(),
            in_touch.into(),
            d(contact),
            codes[g.rng.random_range(0..codes.len())].into(),
            suitable.into(),
            activity.into(),
        ]);
    }
    let mut department = open("ssd_department")?;
    for (t, o, _) in TEAMS {
        department.push(vec![t.to_string(), format!("{o} team {}", &t[t.len() - 1..]), String::new(), o.to_string()]);
    }

    // In the contract's order.
    [
        person,
        referrals,
        assessments,
        s47,
        icpcs,
        cin_plans,
        cp_plans,
        cin_visits,
        cp_visits,
        involvements,
        department,
        episodes,
        legal,
        placements,
        health,
        leavers,
    ]
    .into_iter()
    .map(Sink::finish)
    .collect()
}

/// Visits from `from` to `to`, every `lo..=hi` days, mostly seen.
#[allow(clippy::too_many_arguments)]
fn visits(
    g: &mut Gen,
    out: &mut Sink,
    child: &str,
    plan: Option<&str>,
    from: NaiveDate,
    to: NaiveDate,
    lo: i64,
    hi: i64,
    prefix: &str,
) {
    let mut at = from + g.days(lo / 2, hi);
    // Only the last two years of visits matter to any measure.
    let horizon = g.as_at - Duration::days(800);
    while at <= to {
        if at >= horizon {
            let seen = g.chance(0.95);
            let mut row = vec![g.id(prefix), child.to_string()];
            if let Some(p) = plan {
                row.push(p.to_string());
            }
            row.push(d(at));
            row.push(g.flag(seen));
            out.push(row);
        }
        at += g.days(lo, hi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(dir: &Path) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
            .collect();
        out.sort();
        out
    }

    #[test]
    fn same_seed_same_data_and_every_table() {
        let opts = Options { seed: 7, period: "2022-01".parse().unwrap(), scale: 0.05 };
        let (a, b, c) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let counts = generate(&opts, a.path()).unwrap();
        generate(&opts, b.path()).unwrap();
        let names: Vec<&str> = counts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, scrutiny_extract::Contract::builtin().names().collect::<Vec<_>>(), "every contract table");
        let (fa, fb) = (files(a.path()), files(b.path()));
        assert_eq!(fa, fb, "the same seed writes the same files");
        for (name, rows) in &counts {
            let mut r = csv::Reader::from_path(a.path().join(format!("{name}.csv"))).unwrap();
            let header = r.headers().unwrap().clone();
            assert_eq!(header.iter().collect::<Vec<_>>(), super::header(name), "{name}: the contract's header");
            let records: Vec<_> = r.records().map(|x| x.unwrap()).collect();
            assert_eq!(records.len(), *rows, "{name}: every generated row written");
            assert!(records.iter().all(|x| x.len() == header.len()), "{name}: a value for each contract column");
        }
        generate(&Options { seed: 8, ..opts }, c.path()).unwrap();
        let referrals = |d: &Path| std::fs::read_to_string(d.join("ssd_cin_episodes.csv")).unwrap();
        assert_ne!(referrals(a.path()), referrals(c.path()));
    }
}
