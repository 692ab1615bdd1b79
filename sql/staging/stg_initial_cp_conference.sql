-- Initial child protection conferences: exact duplicates count once; flags follow the flag
-- rule; a conference with no (or an empty) icpc_s47_enquiry_id is unlinked.
SELECT
    icpc_icpc_id,
    NULLIF(icpc_person_id, '') AS icpc_person_id,
    NULLIF(icpc_s47_enquiry_id, '') AS icpc_s47_enquiry_id,
    icpc_icpc_date,
    is_yes(icpc_icpc_transfer_in) AS is_transfer_in,
    is_yes(icpc_icpc_outcome_cp_flag) AS is_cp_plan_outcome,
    icpc_icpc_target_date,
    icpc_cp_plan_id
FROM (SELECT DISTINCT * FROM ssd_initial_cp_conference) AS conferences
