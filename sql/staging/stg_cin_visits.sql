-- CIN visits. `is_seen` follows the flag rule.
-- Exact duplicate rows count once. Of rows sharing a cinv_cin_visit_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cinv_cin_visit_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_cin_visits
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(cinv_cin_visit_id, '') ORDER BY cinv_cin_visit_id NULLS LAST, cinv_person_id NULLS LAST, cinv_cin_visit_date NULLS LAST, cinv_cin_visit_seen NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    cinv_cin_visit_id,
    NULLIF(cinv_person_id, '') AS cinv_person_id,
    cinv_cin_visit_date,
    is_yes(cinv_cin_visit_seen) AS is_seen
FROM ranked
WHERE NULLIF(cinv_cin_visit_id, '') IS NULL OR key_rank = 1
