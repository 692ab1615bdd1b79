-- Duplicates, both rules:
--   exact_duplicate_dropped: rows identical in every contract column (after typing, and after
--     1900-01-01 became NULL in cina_assessment_auth_date) count once (kpis.md section 9): how
--     many were dropped.
--   duplicate_key_dropped: rows sharing a primary key with another, different row; the staging
--     models keep the first in contract column order and drop the others (rows_seen: rows after
--     exact duplicates are dropped).
-- Only two kinds of row can be dropped: a row whose id is on another row too (stg_shared_ids)
-- and a row with no id. The rows of every other id count once each. So only these "suspect"
-- rows are fingerprinted (row_hash of every contract column: equal exactly for identical rows)
-- and grouped, inside out: each distinct row with its copies, then each id with its distinct
-- rows ("variants"). An id on n different rows drops n - 1.
WITH suspects AS (
    SELECT 'ssd_person' AS table_name, NULLIF(pers_person_id, '') AS id,
           row_hash(pers_person_id, pers_dob, pers_expected_dob, pers_sex, pers_ethnicity) AS fingerprint
    FROM ssd_person
    WHERE NULLIF(pers_person_id, '') IS NULL OR pers_person_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_person')
    UNION ALL
    SELECT 'ssd_cin_episodes' AS table_name, NULLIF(cine_referral_id, '') AS id,
           row_hash(cine_referral_id, cine_person_id, cine_referral_date, cine_referral_nfa, cine_close_date, cine_referral_team) AS fingerprint
    FROM ssd_cin_episodes
    WHERE NULLIF(cine_referral_id, '') IS NULL OR cine_referral_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_cin_episodes')
    UNION ALL
    SELECT 'ssd_cin_assessments' AS table_name, NULLIF(cina_assessment_id, '') AS id,
           row_hash(cina_assessment_id, cina_person_id, cina_referral_id, cina_assessment_start_date, CASE WHEN cina_assessment_auth_date = DATE '1900-01-01' THEN NULL ELSE cina_assessment_auth_date END, cina_assessment_team) AS fingerprint
    FROM ssd_cin_assessments
    WHERE NULLIF(cina_assessment_id, '') IS NULL OR cina_assessment_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_cin_assessments')
    UNION ALL
    SELECT 'ssd_s47_enquiry' AS table_name, NULLIF(s47e_s47_enquiry_id, '') AS id,
           row_hash(s47e_s47_enquiry_id, s47e_person_id, s47e_referral_id, s47e_s47_start_date, s47e_s47_end_date) AS fingerprint
    FROM ssd_s47_enquiry
    WHERE NULLIF(s47e_s47_enquiry_id, '') IS NULL OR s47e_s47_enquiry_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_s47_enquiry')
    UNION ALL
    SELECT 'ssd_initial_cp_conference' AS table_name, NULLIF(icpc_icpc_id, '') AS id,
           row_hash(icpc_icpc_id, icpc_person_id, icpc_s47_enquiry_id, icpc_icpc_date, icpc_icpc_transfer_in, icpc_icpc_outcome_cp_flag, icpc_icpc_target_date, icpc_cp_plan_id) AS fingerprint
    FROM ssd_initial_cp_conference
    WHERE NULLIF(icpc_icpc_id, '') IS NULL OR icpc_icpc_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_initial_cp_conference')
    UNION ALL
    SELECT 'ssd_cin_plans' AS table_name, NULLIF(cinp_cin_plan_id, '') AS id,
           row_hash(cinp_cin_plan_id, cinp_person_id, cinp_cin_plan_start_date, cinp_cin_plan_end_date, cinp_cin_plan_team) AS fingerprint
    FROM ssd_cin_plans
    WHERE NULLIF(cinp_cin_plan_id, '') IS NULL OR cinp_cin_plan_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_cin_plans')
    UNION ALL
    SELECT 'ssd_cp_plans' AS table_name, NULLIF(cppl_cp_plan_id, '') AS id,
           row_hash(cppl_cp_plan_id, cppl_person_id, cppl_cp_plan_start_date, cppl_cp_plan_end_date) AS fingerprint
    FROM ssd_cp_plans
    WHERE NULLIF(cppl_cp_plan_id, '') IS NULL OR cppl_cp_plan_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_cp_plans')
    UNION ALL
    SELECT 'ssd_cin_visits' AS table_name, NULLIF(cinv_cin_visit_id, '') AS id,
           row_hash(cinv_cin_visit_id, cinv_person_id, cinv_cin_visit_date, cinv_cin_visit_seen) AS fingerprint
    FROM ssd_cin_visits
    WHERE NULLIF(cinv_cin_visit_id, '') IS NULL OR cinv_cin_visit_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_cin_visits')
    UNION ALL
    SELECT 'ssd_cp_visits' AS table_name, NULLIF(cppv_cp_visit_id, '') AS id,
           row_hash(cppv_cp_visit_id, cppv_person_id, cppv_cp_plan_id, cppv_cp_visit_date, cppv_cp_visit_seen) AS fingerprint
    FROM ssd_cp_visits
    WHERE NULLIF(cppv_cp_visit_id, '') IS NULL OR cppv_cp_visit_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_cp_visits')
    UNION ALL
    SELECT 'ssd_involvements' AS table_name, NULLIF(invo_involvements_id, '') AS id,
           row_hash(invo_involvements_id, invo_person_id, invo_professional_team, invo_professional_role_id, invo_involvement_start_date, invo_involvement_end_date) AS fingerprint
    FROM ssd_involvements
    WHERE NULLIF(invo_involvements_id, '') IS NULL OR invo_involvements_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_involvements')
    UNION ALL
    SELECT 'ssd_department' AS table_name, NULLIF(dept_team_id, '') AS id,
           row_hash(dept_team_id, dept_team_name, dept_team_parent_id, dept_team_parent_name) AS fingerprint
    FROM ssd_department
    WHERE NULLIF(dept_team_id, '') IS NULL OR dept_team_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_department')
    UNION ALL
    SELECT 'ssd_cla_episodes' AS table_name, NULLIF(clae_cla_episode_id, '') AS id,
           row_hash(clae_cla_episode_id, clae_person_id, clae_cla_episode_start_date, clae_cla_episode_start_reason, clae_cla_episode_ceased_date, clae_cla_episode_ceased_reason, clae_entered_care_date, clae_cla_placement_id) AS fingerprint
    FROM ssd_cla_episodes
    WHERE NULLIF(clae_cla_episode_id, '') IS NULL OR clae_cla_episode_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_cla_episodes')
    UNION ALL
    SELECT 'ssd_legal_status' AS table_name, NULLIF(lega_legal_status_id, '') AS id,
           row_hash(lega_legal_status_id, lega_person_id, lega_legal_status, lega_legal_status_start_date, lega_legal_status_end_date) AS fingerprint
    FROM ssd_legal_status
    WHERE NULLIF(lega_legal_status_id, '') IS NULL OR lega_legal_status_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_legal_status')
    UNION ALL
    SELECT 'ssd_cla_placement' AS table_name, NULLIF(clap_cla_placement_id, '') AS id,
           row_hash(clap_cla_placement_id, clap_person_id, clap_cla_placement_start_date, clap_cla_placement_end_date, clap_cla_placement_type) AS fingerprint
    FROM ssd_cla_placement
    WHERE NULLIF(clap_cla_placement_id, '') IS NULL OR clap_cla_placement_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_cla_placement')
    UNION ALL
    SELECT 'ssd_cla_health' AS table_name, NULLIF(clah_health_check_id, '') AS id,
           row_hash(clah_health_check_id, clah_person_id, clah_health_check_type, clah_health_check_date, clah_health_check_status) AS fingerprint
    FROM ssd_cla_health
    WHERE NULLIF(clah_health_check_id, '') IS NULL OR clah_health_check_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_cla_health')
    UNION ALL
    SELECT 'ssd_care_leavers' AS table_name, NULLIF(clea_table_id, '') AS id,
           row_hash(clea_table_id, clea_person_id, clea_care_leaver_eligibility, clea_care_leaver_in_touch, clea_care_leaver_latest_contact, clea_care_leaver_accommodation, clea_care_leaver_accom_suitable, clea_care_leaver_activity) AS fingerprint
    FROM ssd_care_leavers
    WHERE NULLIF(clea_table_id, '') IS NULL OR clea_table_id IN (SELECT id FROM stg_shared_ids WHERE table_name = 'ssd_care_leavers')
),
all_rows AS (
    SELECT 'ssd_person' AS table_name, COUNT(*) AS all_rows FROM ssd_person
    UNION ALL
    SELECT 'ssd_cin_episodes' AS table_name, COUNT(*) AS all_rows FROM ssd_cin_episodes
    UNION ALL
    SELECT 'ssd_cin_assessments' AS table_name, COUNT(*) AS all_rows FROM ssd_cin_assessments
    UNION ALL
    SELECT 'ssd_s47_enquiry' AS table_name, COUNT(*) AS all_rows FROM ssd_s47_enquiry
    UNION ALL
    SELECT 'ssd_initial_cp_conference' AS table_name, COUNT(*) AS all_rows FROM ssd_initial_cp_conference
    UNION ALL
    SELECT 'ssd_cin_plans' AS table_name, COUNT(*) AS all_rows FROM ssd_cin_plans
    UNION ALL
    SELECT 'ssd_cp_plans' AS table_name, COUNT(*) AS all_rows FROM ssd_cp_plans
    UNION ALL
    SELECT 'ssd_cin_visits' AS table_name, COUNT(*) AS all_rows FROM ssd_cin_visits
    UNION ALL
    SELECT 'ssd_cp_visits' AS table_name, COUNT(*) AS all_rows FROM ssd_cp_visits
    UNION ALL
    SELECT 'ssd_involvements' AS table_name, COUNT(*) AS all_rows FROM ssd_involvements
    UNION ALL
    SELECT 'ssd_department' AS table_name, COUNT(*) AS all_rows FROM ssd_department
    UNION ALL
    SELECT 'ssd_cla_episodes' AS table_name, COUNT(*) AS all_rows FROM ssd_cla_episodes
    UNION ALL
    SELECT 'ssd_legal_status' AS table_name, COUNT(*) AS all_rows FROM ssd_legal_status
    UNION ALL
    SELECT 'ssd_cla_placement' AS table_name, COUNT(*) AS all_rows FROM ssd_cla_placement
    UNION ALL
    SELECT 'ssd_cla_health' AS table_name, COUNT(*) AS all_rows FROM ssd_cla_health
    UNION ALL
    SELECT 'ssd_care_leavers' AS table_name, COUNT(*) AS all_rows FROM ssd_care_leavers
),
per_id AS (
    SELECT table_name, id, SUM(copies) AS copies, COUNT(*) AS variants
    FROM (
        SELECT table_name, id, fingerprint, COUNT(*) AS copies
        FROM suspects
        GROUP BY table_name, id, fingerprint
    ) AS distinct_rows
    GROUP BY table_name, id
),
per_table AS (
    SELECT table_name, SUM(copies) AS suspect_rows, SUM(variants) AS suspect_distinct_rows,
           SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END) AS key_duplicates
    FROM per_id
    GROUP BY table_name
),
totals AS (
    SELECT a.table_name, a.all_rows,
           a.all_rows - COALESCE(s.suspect_rows, 0) + COALESCE(s.suspect_distinct_rows, 0) AS distinct_rows,
           COALESCE(s.key_duplicates, 0) AS key_duplicates
    FROM all_rows AS a
    LEFT JOIN per_table AS s ON s.table_name = a.table_name
)
SELECT t.table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN t.all_rows ELSE t.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN t.all_rows - t.distinct_rows ELSE t.key_duplicates END AS rows_affected
FROM totals AS t
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
