-- Duplicates, both rules from one pass over each table (its distinct rows, with how many
-- times each occurs):
--   exact_duplicate_dropped: rows identical in every contract column (after typing, and after
--     1900-01-01 became NULL in cina_assessment_auth_date) count once (kpis.md section 9): how
--     many were dropped.
--   duplicate_key_dropped: rows sharing a primary key with another, different row; the staging
--     models keep the first in contract column order and drop the others (rows_seen: rows after
--     exact duplicates are dropped).
SELECT 'ssd_person' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(pers_person_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(pers_person_id, '')) AS keys
    FROM (SELECT pers_person_id, COUNT(*) AS copies FROM ssd_person GROUP BY pers_person_id, pers_dob, pers_expected_dob, pers_sex, pers_ethnicity) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cin_episodes' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(cine_referral_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(cine_referral_id, '')) AS keys
    FROM (SELECT cine_referral_id, COUNT(*) AS copies FROM ssd_cin_episodes GROUP BY cine_referral_id, cine_person_id, cine_referral_date, cine_referral_nfa, cine_close_date, cine_referral_team) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cin_assessments' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(cina_assessment_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(cina_assessment_id, '')) AS keys
    FROM (SELECT cina_assessment_id, COUNT(*) AS copies FROM (SELECT cina_assessment_id, cina_person_id, cina_referral_id, cina_assessment_start_date, CASE WHEN cina_assessment_auth_date = DATE '1900-01-01' THEN NULL ELSE cina_assessment_auth_date END AS cina_assessment_auth_date, cina_assessment_team FROM ssd_cin_assessments) AS t GROUP BY cina_assessment_id, cina_person_id, cina_referral_id, cina_assessment_start_date, cina_assessment_auth_date, cina_assessment_team) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_s47_enquiry' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(s47e_s47_enquiry_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(s47e_s47_enquiry_id, '')) AS keys
    FROM (SELECT s47e_s47_enquiry_id, COUNT(*) AS copies FROM ssd_s47_enquiry GROUP BY s47e_s47_enquiry_id, s47e_person_id, s47e_referral_id, s47e_s47_start_date, s47e_s47_end_date) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(icpc_icpc_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(icpc_icpc_id, '')) AS keys
    FROM (SELECT icpc_icpc_id, COUNT(*) AS copies FROM ssd_initial_cp_conference GROUP BY icpc_icpc_id, icpc_person_id, icpc_s47_enquiry_id, icpc_icpc_date, icpc_icpc_transfer_in, icpc_icpc_outcome_cp_flag, icpc_icpc_target_date, icpc_cp_plan_id) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cin_plans' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(cinp_cin_plan_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(cinp_cin_plan_id, '')) AS keys
    FROM (SELECT cinp_cin_plan_id, COUNT(*) AS copies FROM ssd_cin_plans GROUP BY cinp_cin_plan_id, cinp_person_id, cinp_cin_plan_start_date, cinp_cin_plan_end_date, cinp_cin_plan_team) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cp_plans' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(cppl_cp_plan_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(cppl_cp_plan_id, '')) AS keys
    FROM (SELECT cppl_cp_plan_id, COUNT(*) AS copies FROM ssd_cp_plans GROUP BY cppl_cp_plan_id, cppl_person_id, cppl_cp_plan_start_date, cppl_cp_plan_end_date) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cin_visits' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(cinv_cin_visit_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(cinv_cin_visit_id, '')) AS keys
    FROM (SELECT cinv_cin_visit_id, COUNT(*) AS copies FROM ssd_cin_visits GROUP BY cinv_cin_visit_id, cinv_person_id, cinv_cin_visit_date, cinv_cin_visit_seen) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cp_visits' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(cppv_cp_visit_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(cppv_cp_visit_id, '')) AS keys
    FROM (SELECT cppv_cp_visit_id, COUNT(*) AS copies FROM ssd_cp_visits GROUP BY cppv_cp_visit_id, cppv_person_id, cppv_cp_plan_id, cppv_cp_visit_date, cppv_cp_visit_seen) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_involvements' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(invo_involvements_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(invo_involvements_id, '')) AS keys
    FROM (SELECT invo_involvements_id, COUNT(*) AS copies FROM ssd_involvements GROUP BY invo_involvements_id, invo_person_id, invo_professional_team, invo_professional_role_id, invo_involvement_start_date, invo_involvement_end_date) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_department' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(dept_team_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(dept_team_id, '')) AS keys
    FROM (SELECT dept_team_id, COUNT(*) AS copies FROM ssd_department GROUP BY dept_team_id, dept_team_name, dept_team_parent_id, dept_team_parent_name) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(clae_cla_episode_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(clae_cla_episode_id, '')) AS keys
    FROM (SELECT clae_cla_episode_id, COUNT(*) AS copies FROM ssd_cla_episodes GROUP BY clae_cla_episode_id, clae_person_id, clae_cla_episode_start_date, clae_cla_episode_start_reason, clae_cla_episode_ceased_date, clae_cla_episode_ceased_reason, clae_entered_care_date, clae_cla_placement_id) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_legal_status' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(lega_legal_status_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(lega_legal_status_id, '')) AS keys
    FROM (SELECT lega_legal_status_id, COUNT(*) AS copies FROM ssd_legal_status GROUP BY lega_legal_status_id, lega_person_id, lega_legal_status, lega_legal_status_start_date, lega_legal_status_end_date) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cla_placement' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(clap_cla_placement_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(clap_cla_placement_id, '')) AS keys
    FROM (SELECT clap_cla_placement_id, COUNT(*) AS copies FROM ssd_cla_placement GROUP BY clap_cla_placement_id, clap_person_id, clap_cla_placement_start_date, clap_cla_placement_end_date, clap_cla_placement_type) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cla_health' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(clah_health_check_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(clah_health_check_id, '')) AS keys
    FROM (SELECT clah_health_check_id, COUNT(*) AS copies FROM ssd_cla_health GROUP BY clah_health_check_id, clah_person_id, clah_health_check_type, clah_health_check_date, clah_health_check_status) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.keyed_rows - c.keys END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COUNT(*) AS distinct_rows,
           COUNT(NULLIF(clea_table_id, '')) AS keyed_rows, COUNT(DISTINCT NULLIF(clea_table_id, '')) AS keys
    FROM (SELECT clea_table_id, COUNT(*) AS copies FROM ssd_care_leavers GROUP BY clea_table_id, clea_person_id, clea_care_leaver_eligibility, clea_care_leaver_in_touch, clea_care_leaver_latest_contact, clea_care_leaver_accommodation, clea_care_leaver_accom_suitable, clea_care_leaver_activity) AS d
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
