-- Child in need plans.
-- Exact duplicate rows count once. Of rows sharing a cinp_cin_plan_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cinp_cin_plan_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS cinp_cin_plan_id FROM stg_shared_ids WHERE table_name = 'ssd_cin_plans'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_cin_plans
    WHERE NULLIF(cinp_cin_plan_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.cinp_cin_plan_id = ssd_cin_plans.cinp_cin_plan_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.cinp_cin_plan_id ORDER BY x.cinp_person_id NULLS LAST, x.cinp_cin_plan_start_date NULLS LAST, x.cinp_cin_plan_end_date NULLS LAST, x.cinp_cin_plan_team NULLS LAST) AS key_rank
    FROM ssd_cin_plans AS x
    JOIN shared_ids AS s ON s.cinp_cin_plan_id = x.cinp_cin_plan_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_cin_plans
    WHERE cinp_cin_plan_id IS NULL OR cinp_cin_plan_id = ''
)
SELECT
    cinp_cin_plan_id,
    NULLIF(cinp_person_id, '') AS cinp_person_id,
    cinp_cin_plan_start_date,
    cinp_cin_plan_end_date,
    cinp_cin_plan_team
FROM ranked
WHERE key_rank = 1
