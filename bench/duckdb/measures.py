#!/usr/bin/env python3
"""The peer for bench/compare.sh: the same 25 measures, computed by DuckDB.

How it is written: DuckDB runs the project's own definitions (sql/staging/*.sql and
sql/measures/*.sql, with {{ var(...) }} rendered from sql/vars.yaml's defaults) unchanged, over
source tables it types itself in SQL from sql/sources.yaml: the CSV files read as text
(`read_csv(all_varchar)`), dates `TRY_CAST` from their first ten characters, as scrutiny's
landing does. What scrutiny implements in Rust is written here as DuckDB macros over tables:
`working_days` (a prefix count of working days per calendar date), `is_yes`, `ascii_trim`,
`normalise_code` (kpis.md section 8: code, code followed by a separator, code map), and the
reference tables (reporting_periods, team_org_units, org_units, code_sets, code_map). Staging
models are materialised as tables, as scrutiny does; the measures then run in file order.

  measures.py --sources csv:DIR | parquet:LANDING_DIR --project DIR --teams CSV
              --period YYYY-MM [--trend 18] --out rows.csv [--copy-parquet DIR]

With --land DIR it only lands: each CSV, typed the same way, straight to DIR/<table>.parquet
with DuckDB's `COPY (SELECT ...) TO ... (FORMAT parquet)`: the landing comparison.
"""
import argparse, csv, datetime, json, os, re, sys, time
import duckdb, yaml


def month_periods(period, trend):
    y, m = map(int, period.split("-"))
    out = []
    for k in range(trend - 1, -1, -1):
        yy, mm = divmod((y * 12 + m - 1) - k, 12)
        start = datetime.date(yy, mm + 1, 1)
        nxt = datetime.date(yy + (mm + 1) // 12, (mm + 1) % 12 + 1, 1)
        end = nxt - datetime.timedelta(days=1)
        out.append((f"{yy:04d}-{mm + 1:02d}", start, end, start, start.strftime("%B %Y")))
    return out


def literal(v, upper=False):
    if isinstance(v, list):
        return ", ".join(literal(x, upper) for x in v)
    if isinstance(v, str):
        if upper:
            v = v.strip(" \t\r\n").upper()
        return "'" + v.replace("'", "''") + "'"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def render(sql, vars_):
    sql = re.sub(r"\{\{\s*var\('(\w+)'\)\s*\}\}", lambda m: literal(vars_[m.group(1)]), sql)
    return re.sub(r"\{\{\s*var_upper\('(\w+)'\)\s*\}\}", lambda m: literal(vars_[m.group(1)], True), sql)


def front_matter(text):
    m = re.match(r"\s*/\*---\n(.*?)\n---\*/\n(.*)", text, re.S)
    return yaml.safe_load(m.group(1)), m.group(2)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", required=True)
    ap.add_argument("--project", required=True)
    ap.add_argument("--reference", required=True, help="config/reference")
    ap.add_argument("--teams", required=True)
    ap.add_argument("--period", required=True)
    ap.add_argument("--trend", type=int, default=18)
    ap.add_argument("--out")
    ap.add_argument("--land", help="only land: COPY each CSV, typed, to DIR/<table>.parquet")
    ap.add_argument("--timings")
    ap.add_argument("--quality", help="also run sql/quality and write its rows here")
    a = ap.parse_args()
    sql_dir = a.project
    timings = {}
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    contract = yaml.safe_load(open(os.path.join(sql_dir, "sources.yaml")))["tables"]
    vars_ = {k: v["default"] for k, v in yaml.safe_load(open(os.path.join(sql_dir, "vars.yaml"))).items()}

    # Reference tables and the functions scrutiny implements in Rust.
    ref = a.reference
    con.execute(f"CREATE TABLE code_sets AS SELECT code_set, code, label, CAST(sort_order AS UINTEGER) AS sort_order FROM read_csv('{ref}/ssda903_codes.csv', all_varchar=true)")
    con.execute(f"CREATE TABLE code_map AS SELECT code_set, description, code FROM read_csv('{ref}/code_map.csv', all_varchar=true)")
    con.execute("CREATE TABLE code_known AS SELECT DISTINCT code_set, upper(trim(code)) AS code FROM code_sets")
    con.execute("CREATE TABLE code_desc AS SELECT code_set, lower(trim(description, chr(32)||chr(9)||chr(13)||chr(10))) AS description, any_value(code) AS code FROM code_map GROUP BY ALL")
    teams = []
    for r in csv.DictReader(open(a.teams)):
        if not any(t[0] == r["team_id"] for t in teams):
            teams.append((r["team_id"], r["org_unit"], r["org_unit_kind"]))
    con.execute("CREATE TABLE team_org_units (team_id VARCHAR, org_unit VARCHAR, org_unit_kind VARCHAR)")
    con.executemany("INSERT INTO team_org_units VALUES (?, ?, ?)", teams)
    units = [("ALL", "all")]
    for _, o, k in teams:
        if not any(u[0] == o for u in units):
            units.append((o, k))
    units.append(("UNKNOWN", "unknown"))
    con.execute("CREATE TABLE org_units (org_unit VARCHAR, org_unit_kind VARCHAR, sort_order UINTEGER)")
    con.executemany("INSERT INTO org_units VALUES (?, ?, ?)", [(u[0], u[1], i) for i, u in enumerate(units)])
    periods = month_periods(a.period, a.trend)
    con.execute("CREATE TABLE reporting_periods (period VARCHAR, period_start DATE, period_end DATE, last_month_start DATE, label VARCHAR)")
    con.executemany("INSERT INTO reporting_periods VALUES (?, ?, ?, ?, ?)", periods)
    con.execute(f"CREATE TABLE holidays AS SELECT CAST(date AS DATE) AS d FROM read_csv('{ref}/bank_holidays_england_wales.csv', all_varchar=true)")
    # n: working days on or before d, so wd(a, b) = n(b) - n(a).
    con.execute("""CREATE TABLE calendar AS
        SELECT d, SUM(CASE WHEN isodow(d) <= 5 AND h.d IS NULL THEN 1 ELSE 0 END) OVER (ORDER BY d) AS n
        FROM (SELECT CAST(range AS DATE) AS d FROM range(DATE '1900-01-01', DATE '2101-01-01', INTERVAL 1 DAY)) AS c
        LEFT JOIN holidays AS h USING (d)""")
    con.execute("CREATE MACRO ascii_trim(s) AS trim(s, chr(32)||chr(9)||chr(13)||chr(10))")
    con.execute("CREATE MACRO is_yes(s) AS coalesce(upper(ascii_trim(s)) IN ('Y', 'YES', 'TRUE', '1'), false)")
    con.execute("CREATE MACRO working_days(a, b) AS (SELECT n FROM calendar WHERE d = b) - (SELECT n FROM calendar WHERE d = a)")
    con.execute("""CREATE MACRO normalise_code(s, v) AS CASE
        WHEN v IS NULL OR ascii_trim(v) = '' THEN NULL
        ELSE coalesce(
            (SELECT k.code FROM code_known AS k WHERE k.code_set = s AND k.code = upper(ascii_trim(v))),
            (SELECT arg_max(k.code, length(k.code)) FROM code_known AS k
              WHERE k.code_set = s AND starts_with(upper(ascii_trim(v)), k.code)
                AND substr(upper(ascii_trim(v)), length(k.code) + 1, 1) IN (' ', '-', ':', ')')),
            (SELECT c.code FROM code_desc AS c WHERE c.code_set = s AND c.description = lower(ascii_trim(v))))
        END""")
    con.execute("CREATE MACRO is_unknown_code(s, v) AS NOT (v IS NULL OR ascii_trim(v) = '') AND normalise_code(s, v) IS NULL")

    # The source tables, typed in SQL.
    started = time.time()
    kind, _, where = a.sources.partition(":")
    for t in contract:
        name = t["name"]
        if kind == "csv":
            path = os.path.join(where, name + ".csv")
            if not os.path.exists(path):
                continue
            header = next(csv.reader(open(path)))
            cols = []
            for c in t["columns"]:
                n = c["name"]
                if n not in header:
                    cols.append(f"CAST(NULL AS {'DATE' if c['type'] == 'date' else 'VARCHAR'}) AS {n}")
                elif c["type"] == "date":
                    cols.append(f"TRY_CAST(left({n}, 10) AS DATE) AS {n}")
                else:
                    cols.append(f"coalesce({n}, '') AS {n}")
            select = f"SELECT {', '.join(cols)} FROM read_csv('{path}', all_varchar=true, header=true)"
            if a.land:
                os.makedirs(a.land, exist_ok=True)
                con.execute(f"COPY ({select}) TO '{a.land}/{name}.parquet' (FORMAT parquet)")
            else:
                con.execute(f"CREATE TABLE {name} AS {select}")
        else:
            path = os.path.join(where, name + ".parquet")
            if not os.path.exists(path):
                continue
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{path}')")
    timings["sources_ms"] = int((time.time() - started) * 1000)
    if a.land:
        if a.timings:
            json.dump(timings, open(a.timings, "w"))
        return

    # Staging models: materialised in dependency order (retry until each one's inputs exist).
    started = time.time()
    models = {}
    for f in sorted(os.listdir(os.path.join(sql_dir, "staging"))):
        if f.endswith(".sql"):
            models[f[:-4]] = render(open(os.path.join(sql_dir, "staging", f)).read(), vars_)
    pending = dict(models)
    while pending:
        progress = False
        for name, sql in list(pending.items()):
            if any(re.search(rf"\b{o}\b", sql) for o in pending if o != name):
                continue
            con.execute(f"CREATE TABLE {name} AS {sql}")
            del pending[name]
            progress = True
        if not progress:
            sys.exit(f"staging models depend on each other in a cycle: {sorted(pending)}")
    timings["staging_ms"] = int((time.time() - started) * 1000)

    started = time.time()
    rows = []
    for f in sorted(os.listdir(os.path.join(sql_dir, "measures"))):
        if not f.endswith(".sql"):
            continue
        meta, sql = front_matter(open(os.path.join(sql_dir, "measures", f)).read())
        for period, org_unit, category, num, den in con.execute(
            f"SELECT period, org_unit, category, numerator, denominator FROM ({render(sql, vars_)})"
        ).fetchall():
            if meta.get("snapshot") and period != a.period:
                continue
            rows.append((meta["id"], period, org_unit, category or "",
                         "" if num is None else int(num),
                         "" if den is None or meta["unit"] == "count" else int(den)))
    timings["measures_ms"] = int((time.time() - started) * 1000)

    # The data-quality rules (sql/quality), which scrutiny's compute also runs: with them the
    # two sides do the same work. Their rows go to --quality, for the same-rows check.
    if a.quality:
        started = time.time()
        found = []
        for f in sorted(os.listdir(os.path.join(sql_dir, "quality"))):
            if f.endswith(".sql"):
                sql = render(open(os.path.join(sql_dir, "quality", f)).read(), vars_)
                # row_hash is scrutiny's row fingerprint (a Rust function, 128 bits); DuckDB's
                # own hash of the values (64 bits) does the same job.
                sql = re.sub(r"\brow_hash\(", "hash(", sql)
                found.extend(con.execute(
                    f"SELECT table_name, rule, rows_seen, rows_affected FROM ({sql})").fetchall())
        timings["quality_ms"] = int((time.time() - started) * 1000)
        with open(a.quality, "w", newline="") as out:
            csv.writer(out).writerows([("table_name", "rule", "rows_seen", "rows_affected")] + sorted(found))
    rows.sort()
    with open(a.out, "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["metric_id", "period", "org_unit", "category", "numerator", "denominator"])
        w.writerows(rows)
    if a.timings:
        json.dump(timings, open(a.timings, "w"))
    print(json.dumps(timings), file=sys.stderr)


if __name__ == "__main__":
    main()
