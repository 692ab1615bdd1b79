-- ssd_person: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('pers_person_id') }} AS NVARCHAR(4000)) AS [pers_person_id],
    CAST({{ col('pers_dob') }} AS DATE) AS [pers_dob],
    CAST({{ col('pers_expected_dob') }} AS DATE) AS [pers_expected_dob],
    CAST({{ col('pers_sex') }} AS NVARCHAR(4000)) AS [pers_sex],
    CAST({{ col('pers_ethnicity') }} AS NVARCHAR(4000)) AS [pers_ethnicity]
FROM {{ table }}
