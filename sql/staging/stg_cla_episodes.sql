-- Care episodes. Reasons are normalised to SSDA903 codes (kpis.md section 8).
-- Exact duplicate rows count once. Of rows sharing a clae_cla_episode_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no clae_cla_episode_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS clae_cla_episode_id FROM stg_shared_ids WHERE table_name = 'ssd_cla_episodes'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_cla_episodes
    WHERE NULLIF(clae_cla_episode_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.clae_cla_episode_id = ssd_cla_episodes.clae_cla_episode_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.clae_cla_episode_id ORDER BY x.clae_person_id NULLS LAST, x.clae_cla_episode_start_date NULLS LAST, x.clae_cla_episode_start_reason NULLS LAST, x.clae_cla_episode_ceased_date NULLS LAST, x.clae_cla_episode_ceased_reason NULLS LAST, x.clae_entered_care_date NULLS LAST, x.clae_cla_placement_id NULLS LAST) AS key_rank
    FROM ssd_cla_episodes AS x
    JOIN shared_ids AS s ON s.clae_cla_episode_id = x.clae_cla_episode_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_cla_episodes
    WHERE clae_cla_episode_id IS NULL OR clae_cla_episode_id = ''
)
SELECT
    clae_cla_episode_id,
    NULLIF(clae_person_id, '') AS clae_person_id,
    clae_cla_episode_start_date,
    normalise_code('episode_start_reason', clae_cla_episode_start_reason) AS start_reason_code,
    clae_cla_episode_ceased_date,
    normalise_code('episode_ceased_reason', clae_cla_episode_ceased_reason) AS ceased_reason_code,
    clae_entered_care_date,
    clae_cla_placement_id
FROM ranked
WHERE key_rank = 1
