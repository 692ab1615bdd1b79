-- Legal statuses, normalised to SSDA903 codes.
-- Exact duplicate rows count once. Of rows sharing a lega_legal_status_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no lega_legal_status_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_legal_status
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(lega_legal_status_id, '') ORDER BY lega_legal_status_id NULLS LAST, lega_person_id NULLS LAST, lega_legal_status NULLS LAST, lega_legal_status_start_date NULLS LAST, lega_legal_status_end_date NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    lega_legal_status_id,
    NULLIF(lega_person_id, '') AS lega_person_id,
    normalise_code('legal_status', lega_legal_status) AS legal_status_code,
    lega_legal_status_start_date,
    lega_legal_status_end_date
FROM ranked
WHERE NULLIF(lega_legal_status_id, '') IS NULL OR key_rank = 1
