-- CP visits. `is_seen` follows the flag rule.
-- Exact duplicate rows count once. Of rows sharing a cppv_cp_visit_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cppv_cp_visit_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_cp_visits
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(cppv_cp_visit_id, '') ORDER BY cppv_cp_visit_id NULLS LAST, cppv_person_id NULLS LAST, cppv_cp_plan_id NULLS LAST, cppv_cp_visit_date NULLS LAST, cppv_cp_visit_seen NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    cppv_cp_visit_id,
    NULLIF(cppv_person_id, '') AS cppv_person_id,
    cppv_cp_plan_id,
    cppv_cp_visit_date,
    is_yes(cppv_cp_visit_seen) AS is_seen
FROM ranked
WHERE NULLIF(cppv_cp_visit_id, '') IS NULL OR key_rank = 1
