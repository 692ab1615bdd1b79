-- ssd_cla_health: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('clah_health_check_id') }} AS NVARCHAR(4000)) AS [clah_health_check_id],
    CAST({{ col('clah_person_id') }} AS NVARCHAR(4000)) AS [clah_person_id],
    CAST({{ col('clah_health_check_type') }} AS NVARCHAR(4000)) AS [clah_health_check_type],
    CAST({{ col('clah_health_check_date') }} AS DATE) AS [clah_health_check_date],
    CAST({{ col('clah_health_check_status') }} AS NVARCHAR(4000)) AS [clah_health_check_status]
FROM {{ table }}
