-- ssd_cin_visits: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('cinv_cin_visit_id') }} AS NVARCHAR(4000)) AS [cinv_cin_visit_id],
    CAST({{ col('cinv_person_id') }} AS NVARCHAR(4000)) AS [cinv_person_id],
    CAST({{ col('cinv_cin_visit_date') }} AS DATE) AS [cinv_cin_visit_date],
    CAST({{ col('cinv_cin_visit_seen') }} AS NVARCHAR(4000)) AS [cinv_cin_visit_seen]
FROM {{ table }}
