-- Health and dental checks. Types (vars health_assessment_types, dental_check_types) and the
-- status are compared trimmed, ignoring case.
-- Exact duplicate rows count once. Of rows sharing a clah_health_check_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no clah_health_check_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_cla_health
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(clah_health_check_id, '') ORDER BY clah_health_check_id NULLS LAST, clah_person_id NULLS LAST, clah_health_check_type NULLS LAST, clah_health_check_date NULLS LAST, clah_health_check_status NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    clah_health_check_id,
    NULLIF(clah_person_id, '') AS clah_person_id,
    clah_health_check_type,
    clah_health_check_date,
    clah_health_check_status,
    UPPER(ascii_trim(clah_health_check_type)) IN ({{ var_upper('health_assessment_types') }}) AS is_health_assessment,
    UPPER(ascii_trim(clah_health_check_type)) IN ({{ var_upper('dental_check_types') }}) AS is_dental_check,
    UPPER(ascii_trim(clah_health_check_status)) = 'COMPLETED' AS is_completed
FROM ranked
WHERE NULLIF(clah_health_check_id, '') IS NULL OR key_rank = 1
