-- Placements. A placement with no id is not a placement.
-- Exact duplicate rows count once. Of rows sharing a clap_cla_placement_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no clap_cla_placement_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS clap_cla_placement_id FROM stg_shared_ids WHERE table_name = 'ssd_cla_placement'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_cla_placement
    WHERE NULLIF(clap_cla_placement_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.clap_cla_placement_id = ssd_cla_placement.clap_cla_placement_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.clap_cla_placement_id ORDER BY x.clap_person_id NULLS LAST, x.clap_cla_placement_start_date NULLS LAST, x.clap_cla_placement_end_date NULLS LAST, x.clap_cla_placement_type NULLS LAST) AS key_rank
    FROM ssd_cla_placement AS x
    JOIN shared_ids AS s ON s.clap_cla_placement_id = x.clap_cla_placement_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_cla_placement
    WHERE clap_cla_placement_id IS NULL OR clap_cla_placement_id = ''
)
SELECT
    NULLIF(clap_cla_placement_id, '') AS clap_cla_placement_id,
    NULLIF(clap_person_id, '') AS clap_person_id,
    clap_cla_placement_start_date,
    clap_cla_placement_end_date,
    clap_cla_placement_type
FROM ranked
WHERE key_rank = 1
