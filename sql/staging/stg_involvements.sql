-- Involvements of professionals. `is_allocated_worker`: the role is one of the allocated-worker
-- roles (var allocated_worker_roles), trimmed, any case.
-- Exact duplicate rows count once. Of rows sharing an invo_involvements_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no invo_involvements_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS invo_involvements_id FROM stg_shared_ids WHERE table_name = 'ssd_involvements'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_involvements
    WHERE NULLIF(invo_involvements_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.invo_involvements_id = ssd_involvements.invo_involvements_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.invo_involvements_id ORDER BY x.invo_person_id NULLS LAST, x.invo_professional_team NULLS LAST, x.invo_professional_role_id NULLS LAST, x.invo_involvement_start_date NULLS LAST, x.invo_involvement_end_date NULLS LAST) AS key_rank
    FROM ssd_involvements AS x
    JOIN shared_ids AS s ON s.invo_involvements_id = x.invo_involvements_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_involvements
    WHERE invo_involvements_id IS NULL OR invo_involvements_id = ''
)
SELECT
    invo_involvements_id,
    NULLIF(invo_person_id, '') AS invo_person_id,
    invo_professional_team,
    invo_professional_role_id,
    invo_involvement_start_date,
    invo_involvement_end_date,
    UPPER(ascii_trim(invo_professional_role_id)) IN ({{ var_upper('allocated_worker_roles') }}) AS is_allocated_worker
FROM ranked
WHERE key_rank = 1
