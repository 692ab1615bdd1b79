-- ssd_care_leavers: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('clea_table_id') }} AS NVARCHAR(4000)) AS [clea_table_id],
    CAST({{ col('clea_person_id') }} AS NVARCHAR(4000)) AS [clea_person_id],
    CAST({{ col('clea_care_leaver_eligibility') }} AS NVARCHAR(4000)) AS [clea_care_leaver_eligibility],
    CAST({{ col('clea_care_leaver_in_touch') }} AS NVARCHAR(4000)) AS [clea_care_leaver_in_touch],
    CAST({{ col('clea_care_leaver_latest_contact') }} AS DATE) AS [clea_care_leaver_latest_contact],
    CAST({{ col('clea_care_leaver_accommodation') }} AS NVARCHAR(4000)) AS [clea_care_leaver_accommodation],
    CAST({{ col('clea_care_leaver_accom_suitable') }} AS NVARCHAR(4000)) AS [clea_care_leaver_accom_suitable],
    CAST({{ col('clea_care_leaver_activity') }} AS NVARCHAR(4000)) AS [clea_care_leaver_activity]
FROM {{ table }}
