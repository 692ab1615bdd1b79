-- Child in need plans.
-- Exact duplicate rows count once. Of rows sharing a cinp_cin_plan_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cinp_cin_plan_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_cin_plans
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(cinp_cin_plan_id, '') ORDER BY cinp_cin_plan_id NULLS LAST, cinp_person_id NULLS LAST, cinp_cin_plan_start_date NULLS LAST, cinp_cin_plan_end_date NULLS LAST, cinp_cin_plan_team NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    cinp_cin_plan_id,
    NULLIF(cinp_person_id, '') AS cinp_person_id,
    cinp_cin_plan_start_date,
    cinp_cin_plan_end_date,
    cinp_cin_plan_team
FROM ranked
WHERE NULLIF(cinp_cin_plan_id, '') IS NULL OR key_rank = 1
