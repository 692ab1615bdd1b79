-- ssd_s47_enquiry: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('s47e_s47_enquiry_id') }} AS NVARCHAR(4000)) AS [s47e_s47_enquiry_id],
    CAST({{ col('s47e_person_id') }} AS NVARCHAR(4000)) AS [s47e_person_id],
    CAST({{ col('s47e_referral_id') }} AS NVARCHAR(4000)) AS [s47e_referral_id],
    CAST({{ col('s47e_s47_start_date') }} AS DATE) AS [s47e_s47_start_date],
    CAST({{ col('s47e_s47_end_date') }} AS DATE) AS [s47e_s47_end_date]
FROM {{ table }}
