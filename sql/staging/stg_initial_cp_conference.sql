-- Initial child protection conferences. Flags follow the flag rule; a conference with no (or an
-- empty) icpc_s47_enquiry_id is unlinked.
-- Exact duplicate rows count once. Of rows sharing a icpc_icpc_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no icpc_icpc_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS icpc_icpc_id FROM stg_shared_ids WHERE table_name = 'ssd_initial_cp_conference'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_initial_cp_conference
    WHERE NULLIF(icpc_icpc_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.icpc_icpc_id = ssd_initial_cp_conference.icpc_icpc_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.icpc_icpc_id ORDER BY x.icpc_person_id NULLS LAST, x.icpc_s47_enquiry_id NULLS LAST, x.icpc_icpc_date NULLS LAST, x.icpc_icpc_transfer_in NULLS LAST, x.icpc_icpc_outcome_cp_flag NULLS LAST, x.icpc_icpc_target_date NULLS LAST, x.icpc_cp_plan_id NULLS LAST) AS key_rank
    FROM ssd_initial_cp_conference AS x
    JOIN shared_ids AS s ON s.icpc_icpc_id = x.icpc_icpc_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_initial_cp_conference
    WHERE icpc_icpc_id IS NULL OR icpc_icpc_id = ''
)
SELECT
    icpc_icpc_id,
    NULLIF(icpc_person_id, '') AS icpc_person_id,
    NULLIF(icpc_s47_enquiry_id, '') AS icpc_s47_enquiry_id,
    icpc_icpc_date,
    is_yes(icpc_icpc_transfer_in) AS is_transfer_in,
    is_yes(icpc_icpc_outcome_cp_flag) AS is_cp_plan_outcome,
    icpc_icpc_target_date,
    icpc_cp_plan_id
FROM ranked
WHERE key_rank = 1
