#!/usr/bin/env python3
"""Checks that scrutiny's mart and DuckDB's rows agree: same_rows.py METRIC_VALUES.parquet ROWS.csv.

Compares (metric_id, period, org_unit, category, numerator, denominator) row for row; prints
the count and the first differences, exits 1 when they differ."""
import csv, sys
import duckdb

mart, peer = sys.argv[1], sys.argv[2]
ours = duckdb.sql(f"""
    SELECT metric_id, period, org_unit, coalesce(category, ''),
           coalesce(CAST(numerator AS VARCHAR), ''), coalesce(CAST(denominator AS VARCHAR), '')
    FROM read_parquet('{mart}')""").fetchall()
ours = sorted(tuple(r) for r in ours)
theirs = sorted(tuple(r) for r in list(csv.reader(open(peer)))[1:])
only_ours = sorted(set(ours) - set(theirs))
only_theirs = sorted(set(theirs) - set(ours))
if ours == theirs:
    print(f"same rows: {len(ours)} (metric, period, org unit, category, numerator, denominator)")
    sys.exit(0)
print(f"DIFFERENT: scrutiny {len(ours)} rows, DuckDB {len(theirs)}")
for r in only_ours[:10]:
    print("  only scrutiny:", r)
for r in only_theirs[:10]:
    print("  only DuckDB:  ", r)
sys.exit(1)
