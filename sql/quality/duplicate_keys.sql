-- Rows sharing a primary key with another, different row: the staging models keep the first in
-- contract column order and drop the others (rows_seen: rows after exact duplicates are dropped).
SELECT 'ssd_person' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(pers_person_id, '')) - COUNT(DISTINCT NULLIF(pers_person_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_person) AS d
UNION ALL
SELECT 'ssd_cin_episodes' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(cine_referral_id, '')) - COUNT(DISTINCT NULLIF(cine_referral_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_cin_episodes) AS d
UNION ALL
SELECT 'ssd_cin_assessments' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(cina_assessment_id, '')) - COUNT(DISTINCT NULLIF(cina_assessment_id, '')) AS rows_affected
FROM (SELECT DISTINCT cina_assessment_id, cina_person_id, cina_referral_id, cina_assessment_start_date, CASE WHEN cina_assessment_auth_date = DATE '1900-01-01' THEN NULL ELSE cina_assessment_auth_date END AS cina_assessment_auth_date, cina_assessment_team FROM ssd_cin_assessments) AS d
UNION ALL
SELECT 'ssd_s47_enquiry' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(s47e_s47_enquiry_id, '')) - COUNT(DISTINCT NULLIF(s47e_s47_enquiry_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_s47_enquiry) AS d
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(icpc_icpc_id, '')) - COUNT(DISTINCT NULLIF(icpc_icpc_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_initial_cp_conference) AS d
UNION ALL
SELECT 'ssd_cin_plans' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(cinp_cin_plan_id, '')) - COUNT(DISTINCT NULLIF(cinp_cin_plan_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_cin_plans) AS d
UNION ALL
SELECT 'ssd_cp_plans' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(cppl_cp_plan_id, '')) - COUNT(DISTINCT NULLIF(cppl_cp_plan_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_cp_plans) AS d
UNION ALL
SELECT 'ssd_cin_visits' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(cinv_cin_visit_id, '')) - COUNT(DISTINCT NULLIF(cinv_cin_visit_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_cin_visits) AS d
UNION ALL
SELECT 'ssd_cp_visits' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(cppv_cp_visit_id, '')) - COUNT(DISTINCT NULLIF(cppv_cp_visit_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_cp_visits) AS d
UNION ALL
SELECT 'ssd_involvements' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(invo_involvements_id, '')) - COUNT(DISTINCT NULLIF(invo_involvements_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_involvements) AS d
UNION ALL
SELECT 'ssd_department' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(dept_team_id, '')) - COUNT(DISTINCT NULLIF(dept_team_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_department) AS d
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(clae_cla_episode_id, '')) - COUNT(DISTINCT NULLIF(clae_cla_episode_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_cla_episodes) AS d
UNION ALL
SELECT 'ssd_legal_status' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(lega_legal_status_id, '')) - COUNT(DISTINCT NULLIF(lega_legal_status_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_legal_status) AS d
UNION ALL
SELECT 'ssd_cla_placement' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(clap_cla_placement_id, '')) - COUNT(DISTINCT NULLIF(clap_cla_placement_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_cla_placement) AS d
UNION ALL
SELECT 'ssd_cla_health' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(clah_health_check_id, '')) - COUNT(DISTINCT NULLIF(clah_health_check_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_cla_health) AS d
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'duplicate_key_dropped' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(NULLIF(clea_table_id, '')) - COUNT(DISTINCT NULLIF(clea_table_id, '')) AS rows_affected
FROM (SELECT DISTINCT * FROM ssd_care_leavers) AS d
