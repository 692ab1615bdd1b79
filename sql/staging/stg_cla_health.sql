-- Health and dental checks. Types (vars health_assessment_types, dental_check_types) and the
-- status are compared trimmed, ignoring case.
-- Exact duplicate rows count once. Of rows sharing a clah_health_check_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no clah_health_check_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS clah_health_check_id FROM stg_shared_ids WHERE table_name = 'ssd_cla_health'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_cla_health
    WHERE NULLIF(clah_health_check_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.clah_health_check_id = ssd_cla_health.clah_health_check_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.clah_health_check_id ORDER BY x.clah_person_id NULLS LAST, x.clah_health_check_type NULLS LAST, x.clah_health_check_date NULLS LAST, x.clah_health_check_status NULLS LAST) AS key_rank
    FROM ssd_cla_health AS x
    JOIN shared_ids AS s ON s.clah_health_check_id = x.clah_health_check_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_cla_health
    WHERE clah_health_check_id IS NULL OR clah_health_check_id = ''
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
WHERE key_rank = 1
