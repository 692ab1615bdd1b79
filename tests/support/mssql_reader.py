#!/usr/bin/env python3
"""Independent SQL Server clients for the end-to-end tests: PyPI's `python-tds` (pytds, TDS in
pure Python, TLS through pyOpenSSL) and `pymssql` (FreeTDS, in C). They log in over TLS and
read what scrutiny or the test put in the SQL Server stand-in, so that a stand-in that only
tiberius understands cannot pass.

    mssql_reader.py CLIENT rows SCHEMA.TABLE        every row, as canonical JSON (one list)
    mssql_reader.py CLIENT query SQL                the rows of a query, likewise
    mssql_reader.py CLIENT tables SCHEMA            the schema's tables (INFORMATION_SCHEMA)
    mssql_reader.py CLIENT compare SCHEMA LOCAL_CURRENT
                                                    exit 0 and print {table: rows} when every
                                                    table of the local Parquet mart is in SCHEMA
                                                    with the same rows, in any order

CLIENT is pytds or pymssql. The server comes from MSSQL_HOST, MSSQL_PORT, MSSQL_DATABASE,
MSSQL_USER and MSSQL_PASSWORD; MSSQL_CAFILE is the server's certificate, which pytds verifies
(FreeTDS encrypts without verifying, as its `encryption = require` does).
"""
import datetime
import decimal
import json
import os
import sys
import uuid


def connect(client):
    host, port = os.environ["MSSQL_HOST"], int(os.environ["MSSQL_PORT"])
    db, user, pw = os.environ["MSSQL_DATABASE"], os.environ["MSSQL_USER"], os.environ["MSSQL_PASSWORD"]
    if client == "pytds":
        import pytds

        return pytds.connect(
            server=host, port=port, database=db, user=user, password=pw,
            cafile=os.environ["MSSQL_CAFILE"], validate_host=False, autocommit=True, login_timeout=20,
        )
    if client == "pymssql":
        import pymssql

        return pymssql.connect(
            server=host, port=str(port), database=db, user=user, password=pw,
            encryption="require", tds_version="7.4", autocommit=True, login_timeout=20,
        )
    sys.exit(f"unknown client {client}")


def canonical(v):
    """One spelling for a value whichever client (or pyarrow) read it."""
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        return v
    if isinstance(v, uuid.UUID):
        return str(v).upper()
    if isinstance(v, decimal.Decimal):
        # Not normalize(): it rounds to the context's 28 digits, and DECIMAL(38) has more.
        s = format(v, "f")
        return s.rstrip("0").rstrip(".") if "." in s else s
    if isinstance(v, datetime.datetime):
        if v.tzinfo is not None:
            v = v.astimezone(datetime.timezone.utc).replace(tzinfo=None)
        return v.isoformat(timespec="microseconds")
    if isinstance(v, datetime.date):
        return v.isoformat()
    return repr(v)


def query(conn, sql):
    cur = conn.cursor()
    cur.execute(sql)
    names = [d[0] for d in cur.description]
    rows = [[canonical(v) for v in r] for r in cur.fetchall()]
    return names, rows


def quote(name):
    return "[" + name.replace("]", "]]") + "]"


def compare(conn, schema, local):
    import pyarrow.parquet as pq

    out = {}
    for f in sorted(os.listdir(local)):
        if not f.endswith(".parquet"):
            continue
        table = f[: -len(".parquet")]
        t = pq.read_table(os.path.join(local, f))
        cols = t.column_names
        want = [[canonical(r[c]) for c in cols] for r in t.to_pylist()]
        _, got = query(conn, f"SELECT {', '.join(quote(c) for c in cols)} FROM {quote(schema)}.{quote(table)}")
        key = lambda r: json.dumps(r, sort_keys=True, default=str)
        want.sort(key=key)
        got.sort(key=key)
        if want != got:
            diff = [(w, g) for w, g in zip(want, got) if w != g][:3]
            sys.exit(f"{schema}.{table}: {len(got)} rows in SQL Server, {len(want)} in the mart; first differences: {diff}")
        out[table] = len(got)
    print(json.dumps(out, sort_keys=True))


def main():
    client, cmd, arg = sys.argv[1], sys.argv[2], sys.argv[3]
    conn = connect(client)
    if cmd == "rows":
        schema, table = arg.split(".")
        _, rows = query(conn, f"SELECT * FROM {quote(schema)}.{quote(table)}")
        print(json.dumps(rows))
    elif cmd == "query":
        _, rows = query(conn, arg)
        print(json.dumps(rows))
    elif cmd == "tables":
        _, rows = query(
            conn, f"SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = '{arg}' ORDER BY TABLE_NAME"
        )
        print(json.dumps([r[0] for r in rows]))
    elif cmd == "compare":
        compare(conn, arg, sys.argv[4])
    else:
        sys.exit(f"unknown command {cmd}")
    conn.close()


if __name__ == "__main__":
    main()
