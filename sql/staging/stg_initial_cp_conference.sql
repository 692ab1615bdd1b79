-- Initial child protection conferences. Flags follow the flag rule; a conference with no (or an
-- empty) icpc_s47_enquiry_id is unlinked.
-- Exact duplicate rows count once. Of rows sharing a icpc_icpc_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no icpc_icpc_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_initial_cp_conference
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(icpc_icpc_id, '') ORDER BY icpc_icpc_id NULLS LAST, icpc_person_id NULLS LAST, icpc_s47_enquiry_id NULLS LAST, icpc_icpc_date NULLS LAST, icpc_icpc_transfer_in NULLS LAST, icpc_icpc_outcome_cp_flag NULLS LAST, icpc_icpc_target_date NULLS LAST, icpc_cp_plan_id NULLS LAST) AS key_rank
    FROM distinct_rows
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
WHERE NULLIF(icpc_icpc_id, '') IS NULL OR key_rank = 1
