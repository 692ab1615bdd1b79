-- ssd_cin_episodes: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('cine_referral_id') }} AS NVARCHAR(4000)) AS [cine_referral_id],
    CAST({{ col('cine_person_id') }} AS NVARCHAR(4000)) AS [cine_person_id],
    CAST({{ col('cine_referral_date') }} AS DATE) AS [cine_referral_date],
    CAST({{ col('cine_referral_nfa') }} AS NVARCHAR(4000)) AS [cine_referral_nfa],
    CAST({{ col('cine_close_date') }} AS DATE) AS [cine_close_date],
    CAST({{ col('cine_referral_team') }} AS NVARCHAR(4000)) AS [cine_referral_team]
FROM {{ table }}
