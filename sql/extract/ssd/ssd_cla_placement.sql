-- ssd_cla_placement: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('clap_cla_placement_id') }} AS NVARCHAR(4000)) AS [clap_cla_placement_id],
    CAST({{ col('clap_person_id') }} AS NVARCHAR(4000)) AS [clap_person_id],
    CAST({{ col('clap_cla_placement_start_date') }} AS DATE) AS [clap_cla_placement_start_date],
    CAST({{ col('clap_cla_placement_end_date') }} AS DATE) AS [clap_cla_placement_end_date],
    CAST({{ col('clap_cla_placement_type') }} AS NVARCHAR(4000)) AS [clap_cla_placement_type]
FROM {{ table }}
