-- ssd_cin_plans: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('cinp_cin_plan_id') }} AS NVARCHAR(4000)) AS [cinp_cin_plan_id],
    CAST({{ col('cinp_person_id') }} AS NVARCHAR(4000)) AS [cinp_person_id],
    CAST({{ col('cinp_cin_plan_start_date') }} AS DATE) AS [cinp_cin_plan_start_date],
    CAST({{ col('cinp_cin_plan_end_date') }} AS DATE) AS [cinp_cin_plan_end_date],
    CAST({{ col('cinp_cin_plan_team') }} AS NVARCHAR(4000)) AS [cinp_cin_plan_team]
FROM {{ table }}
