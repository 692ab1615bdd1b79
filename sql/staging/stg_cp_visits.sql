-- CP visits. `is_seen` follows the flag rule.
-- Exact duplicate rows count once. Of rows sharing a cppv_cp_visit_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cppv_cp_visit_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS cppv_cp_visit_id FROM stg_shared_ids WHERE table_name = 'ssd_cp_visits'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_cp_visits
    WHERE NULLIF(cppv_cp_visit_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.cppv_cp_visit_id = ssd_cp_visits.cppv_cp_visit_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.cppv_cp_visit_id ORDER BY x.cppv_person_id NULLS LAST, x.cppv_cp_plan_id NULLS LAST, x.cppv_cp_visit_date NULLS LAST, x.cppv_cp_visit_seen NULLS LAST) AS key_rank
    FROM ssd_cp_visits AS x
    JOIN shared_ids AS s ON s.cppv_cp_visit_id = x.cppv_cp_visit_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_cp_visits
    WHERE cppv_cp_visit_id IS NULL OR cppv_cp_visit_id = ''
)
SELECT
    cppv_cp_visit_id,
    NULLIF(cppv_person_id, '') AS cppv_person_id,
    cppv_cp_plan_id,
    cppv_cp_visit_date,
    is_yes(cppv_cp_visit_seen) AS is_seen
FROM ranked
WHERE key_rank = 1
