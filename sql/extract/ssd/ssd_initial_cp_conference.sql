-- ssd_initial_cp_conference: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('icpc_icpc_id') }} AS NVARCHAR(4000)) AS [icpc_icpc_id],
    CAST({{ col('icpc_person_id') }} AS NVARCHAR(4000)) AS [icpc_person_id],
    CAST({{ col('icpc_s47_enquiry_id') }} AS NVARCHAR(4000)) AS [icpc_s47_enquiry_id],
    CAST({{ col('icpc_icpc_date') }} AS DATE) AS [icpc_icpc_date],
    CAST({{ col('icpc_icpc_transfer_in') }} AS NVARCHAR(4000)) AS [icpc_icpc_transfer_in],
    CAST({{ col('icpc_icpc_outcome_cp_flag') }} AS NVARCHAR(4000)) AS [icpc_icpc_outcome_cp_flag],
    CAST({{ col('icpc_icpc_target_date') }} AS DATE) AS [icpc_icpc_target_date],
    CAST({{ col('icpc_cp_plan_id') }} AS NVARCHAR(4000)) AS [icpc_cp_plan_id]
FROM {{ table }}
