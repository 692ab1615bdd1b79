-- Child protection plans.
-- Exact duplicate rows count once. Of rows sharing a cppl_cp_plan_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cppl_cp_plan_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS cppl_cp_plan_id FROM stg_shared_ids WHERE table_name = 'ssd_cp_plans'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_cp_plans
    WHERE NULLIF(cppl_cp_plan_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.cppl_cp_plan_id = ssd_cp_plans.cppl_cp_plan_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.cppl_cp_plan_id ORDER BY x.cppl_person_id NULLS LAST, x.cppl_cp_plan_start_date NULLS LAST, x.cppl_cp_plan_end_date NULLS LAST) AS key_rank
    FROM ssd_cp_plans AS x
    JOIN shared_ids AS s ON s.cppl_cp_plan_id = x.cppl_cp_plan_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_cp_plans
    WHERE cppl_cp_plan_id IS NULL OR cppl_cp_plan_id = ''
)
SELECT
    cppl_cp_plan_id,
    NULLIF(cppl_person_id, '') AS cppl_person_id,
    cppl_cp_plan_start_date,
    cppl_cp_plan_end_date
FROM ranked
WHERE key_rank = 1
