-- CIN visits. `is_seen` follows the flag rule.
-- Exact duplicate rows count once. Of rows sharing a cinv_cin_visit_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cinv_cin_visit_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS cinv_cin_visit_id FROM stg_shared_ids WHERE table_name = 'ssd_cin_visits'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_cin_visits
    WHERE NULLIF(cinv_cin_visit_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.cinv_cin_visit_id = ssd_cin_visits.cinv_cin_visit_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.cinv_cin_visit_id ORDER BY x.cinv_person_id NULLS LAST, x.cinv_cin_visit_date NULLS LAST, x.cinv_cin_visit_seen NULLS LAST) AS key_rank
    FROM ssd_cin_visits AS x
    JOIN shared_ids AS s ON s.cinv_cin_visit_id = x.cinv_cin_visit_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_cin_visits
    WHERE cinv_cin_visit_id IS NULL OR cinv_cin_visit_id = ''
)
SELECT
    cinv_cin_visit_id,
    NULLIF(cinv_person_id, '') AS cinv_person_id,
    cinv_cin_visit_date,
    is_yes(cinv_cin_visit_seen) AS is_seen
FROM ranked
WHERE key_rank = 1
