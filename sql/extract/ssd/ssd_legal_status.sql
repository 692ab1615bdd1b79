-- ssd_legal_status: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('lega_legal_status_id') }} AS NVARCHAR(4000)) AS [lega_legal_status_id],
    CAST({{ col('lega_person_id') }} AS NVARCHAR(4000)) AS [lega_person_id],
    CAST({{ col('lega_legal_status') }} AS NVARCHAR(4000)) AS [lega_legal_status],
    CAST({{ col('lega_legal_status_start_date') }} AS DATE) AS [lega_legal_status_start_date],
    CAST({{ col('lega_legal_status_end_date') }} AS DATE) AS [lega_legal_status_end_date]
FROM {{ table }}
