-- ssd_cin_assessments: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('cina_assessment_id') }} AS NVARCHAR(4000)) AS [cina_assessment_id],
    CAST({{ col('cina_person_id') }} AS NVARCHAR(4000)) AS [cina_person_id],
    CAST({{ col('cina_referral_id') }} AS NVARCHAR(4000)) AS [cina_referral_id],
    CAST({{ col('cina_assessment_start_date') }} AS DATE) AS [cina_assessment_start_date],
    CAST({{ col('cina_assessment_auth_date') }} AS DATE) AS [cina_assessment_auth_date],
    CAST({{ col('cina_assessment_team') }} AS NVARCHAR(4000)) AS [cina_assessment_team]
FROM {{ table }}
