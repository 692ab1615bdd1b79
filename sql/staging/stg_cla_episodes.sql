-- Care episodes. Reasons are normalised to SSDA903 codes (kpis.md section 8).
-- Exact duplicate rows count once. Of rows sharing a clae_cla_episode_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no clae_cla_episode_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_cla_episodes
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(clae_cla_episode_id, '') ORDER BY clae_cla_episode_id NULLS LAST, clae_person_id NULLS LAST, clae_cla_episode_start_date NULLS LAST, clae_cla_episode_start_reason NULLS LAST, clae_cla_episode_ceased_date NULLS LAST, clae_cla_episode_ceased_reason NULLS LAST, clae_entered_care_date NULLS LAST, clae_cla_placement_id NULLS LAST) AS key_rank
    FROM distinct_rows
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
WHERE NULLIF(clae_cla_episode_id, '') IS NULL OR key_rank = 1
