-- ssd_involvements: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('invo_involvements_id') }} AS NVARCHAR(4000)) AS [invo_involvements_id],
    CAST({{ col('invo_person_id') }} AS NVARCHAR(4000)) AS [invo_person_id],
    CAST({{ col('invo_professional_team') }} AS NVARCHAR(4000)) AS [invo_professional_team],
    CAST({{ col('invo_professional_role_id') }} AS NVARCHAR(4000)) AS [invo_professional_role_id],
    CAST({{ col('invo_involvement_start_date') }} AS DATE) AS [invo_involvement_start_date],
    CAST({{ col('invo_involvement_end_date') }} AS DATE) AS [invo_involvement_end_date]
FROM {{ table }}
