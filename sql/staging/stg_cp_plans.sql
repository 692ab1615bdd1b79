-- Child protection plans.
-- Exact duplicate rows count once. Of rows sharing a cppl_cp_plan_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cppl_cp_plan_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_cp_plans
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(cppl_cp_plan_id, '') ORDER BY cppl_cp_plan_id NULLS LAST, cppl_person_id NULLS LAST, cppl_cp_plan_start_date NULLS LAST, cppl_cp_plan_end_date NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    cppl_cp_plan_id,
    NULLIF(cppl_person_id, '') AS cppl_person_id,
    cppl_cp_plan_start_date,
    cppl_cp_plan_end_date
FROM ranked
WHERE NULLIF(cppl_cp_plan_id, '') IS NULL OR key_rank = 1
