-- ssd_cp_plans: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('cppl_cp_plan_id') }} AS NVARCHAR(4000)) AS [cppl_cp_plan_id],
    CAST({{ col('cppl_person_id') }} AS NVARCHAR(4000)) AS [cppl_person_id],
    CAST({{ col('cppl_cp_plan_start_date') }} AS DATE) AS [cppl_cp_plan_start_date],
    CAST({{ col('cppl_cp_plan_end_date') }} AS DATE) AS [cppl_cp_plan_end_date]
FROM {{ table }}
