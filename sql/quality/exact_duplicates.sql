-- Rows identical in every contract column (after typing, and after 1900-01-01 became NULL in
-- cina_assessment_auth_date) count once (kpis.md section 9): how many were dropped, per table.
SELECT 'ssd_person' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_person) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_person) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_person) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_cin_episodes' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_cin_episodes) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_cin_episodes) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_cin_episodes) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_cin_assessments' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_cin_assessments) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_cin_assessments) - (SELECT COUNT(*) FROM (SELECT DISTINCT cina_assessment_id, cina_person_id, cina_referral_id, cina_assessment_start_date, CASE WHEN cina_assessment_auth_date = DATE '1900-01-01' THEN NULL ELSE cina_assessment_auth_date END AS cina_assessment_auth_date, cina_assessment_team FROM ssd_cin_assessments) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_s47_enquiry' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_s47_enquiry) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_s47_enquiry) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_s47_enquiry) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_initial_cp_conference) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_initial_cp_conference) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_initial_cp_conference) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_cin_plans' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_cin_plans) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_cin_plans) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_cin_plans) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_cp_plans' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_cp_plans) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_cp_plans) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_cp_plans) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_cin_visits' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_cin_visits) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_cin_visits) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_cin_visits) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_cp_visits' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_cp_visits) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_cp_visits) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_cp_visits) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_involvements' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_involvements) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_involvements) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_involvements) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_department' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_department) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_department) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_department) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_cla_episodes) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_cla_episodes) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_cla_episodes) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_legal_status' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_legal_status) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_legal_status) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_legal_status) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_cla_placement' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_cla_placement) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_cla_placement) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_cla_placement) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_cla_health' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_cla_health) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_cla_health) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_cla_health) AS d) AS rows_affected
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'exact_duplicate_dropped' AS rule,
       (SELECT COUNT(*) FROM ssd_care_leavers) AS rows_seen,
       (SELECT COUNT(*) FROM ssd_care_leavers) - (SELECT COUNT(*) FROM (SELECT DISTINCT * FROM ssd_care_leavers) AS d) AS rows_affected
