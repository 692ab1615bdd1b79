-- ssd_cla_episodes: only the source contract's columns, typed to the contract (text as NVARCHAR,
-- DATETIME values cast to DATE, so the time of day is dropped on the server). `table` is the
-- table in the configured schema; `col('x')` is the council's name for contract column x
-- (settings: source.sqlserver.column_renames).
SELECT
    CAST({{ col('clae_cla_episode_id') }} AS NVARCHAR(4000)) AS [clae_cla_episode_id],
    CAST({{ col('clae_person_id') }} AS NVARCHAR(4000)) AS [clae_person_id],
    CAST({{ col('clae_cla_episode_start_date') }} AS DATE) AS [clae_cla_episode_start_date],
    CAST({{ col('clae_cla_episode_start_reason') }} AS NVARCHAR(4000)) AS [clae_cla_episode_start_reason],
    CAST({{ col('clae_cla_episode_ceased_date') }} AS DATE) AS [clae_cla_episode_ceased_date],
    CAST({{ col('clae_cla_episode_ceased_reason') }} AS NVARCHAR(4000)) AS [clae_cla_episode_ceased_reason],
    CAST({{ col('clae_entered_care_date') }} AS DATE) AS [clae_entered_care_date],
    CAST({{ col('clae_cla_placement_id') }} AS NVARCHAR(4000)) AS [clae_cla_placement_id]
FROM {{ table }}
