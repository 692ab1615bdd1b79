-- Legal statuses, normalised to SSDA903 codes.
-- Exact duplicate rows count once. Of rows sharing a lega_legal_status_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no lega_legal_status_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS lega_legal_status_id FROM stg_shared_ids WHERE table_name = 'ssd_legal_status'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_legal_status
    WHERE NULLIF(lega_legal_status_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.lega_legal_status_id = ssd_legal_status.lega_legal_status_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.lega_legal_status_id ORDER BY x.lega_person_id NULLS LAST, x.lega_legal_status NULLS LAST, x.lega_legal_status_start_date NULLS LAST, x.lega_legal_status_end_date NULLS LAST) AS key_rank
    FROM ssd_legal_status AS x
    JOIN shared_ids AS s ON s.lega_legal_status_id = x.lega_legal_status_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_legal_status
    WHERE lega_legal_status_id IS NULL OR lega_legal_status_id = ''
)
SELECT
    lega_legal_status_id,
    NULLIF(lega_person_id, '') AS lega_person_id,
    normalise_code('legal_status', lega_legal_status) AS legal_status_code,
    lega_legal_status_start_date,
    lega_legal_status_end_date
FROM ranked
WHERE key_rank = 1
