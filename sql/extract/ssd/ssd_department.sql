-- ssd_department: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('dept_team_id') }} AS NVARCHAR(4000)) AS [dept_team_id],
    CAST({{ col('dept_team_name') }} AS NVARCHAR(4000)) AS [dept_team_name],
    CAST({{ col('dept_team_parent_id') }} AS NVARCHAR(4000)) AS [dept_team_parent_id],
    CAST({{ col('dept_team_parent_name') }} AS NVARCHAR(4000)) AS [dept_team_parent_name]
FROM {{ table }}
