#!/usr/bin/env python3
"""Checks that scrutiny's mart and DuckDB's rows agree.

  same_rows.py METRIC_VALUES.parquet ROWS.csv            the measures: (metric_id, period,
                                                          org_unit, category, numerator, denominator)
  same_rows.py --quality DATA_QUALITY.parquet ROWS.csv   the data-quality counts: (table_name,
                                                          rule, rows_seen, rows_affected)

Compares row for row; prints the count and the first differences, exits 1 when they differ."""
import csv, sys
import duckdb

quality = sys.argv[1] == "--quality"
mart, peer = sys.argv[-2], sys.argv[-1]
if quality:
    what = "table, rule, rows seen, rows affected"
    query = f"""SELECT table_name, rule, CAST(rows_seen AS VARCHAR), CAST(rows_affected AS VARCHAR)
                FROM read_parquet('{mart}')"""
else:
    what = "metric, period, org unit, category, numerator, denominator"
    query = f"""
    SELECT metric_id, period, org_unit, coalesce(category, ''),
           coalesce(CAST(numerator AS VARCHAR), ''), coalesce(CAST(denominator AS VARCHAR), '')
    FROM read_parquet('{mart}')"""
ours = sorted(tuple(r) for r in duckdb.sql(query).fetchall())
if quality:
    # Times of day dropped are counted by scrutiny's landing, not by a rule in sql/quality.
    ours = [r for r in ours if r[1] != "time_of_day_dropped"]
theirs = sorted(tuple(r) for r in list(csv.reader(open(peer)))[1:])
only_ours = sorted(set(ours) - set(theirs))
only_theirs = sorted(set(theirs) - set(ours))
if ours == theirs:
    print(f"same rows: {len(ours)} ({what})")
    sys.exit(0)
print(f"DIFFERENT: scrutiny {len(ours)} rows, DuckDB {len(theirs)}")
for r in only_ours[:10]:
    print("  only scrutiny:", r)
for r in only_theirs[:10]:
    print("  only DuckDB:  ", r)
sys.exit(1)
