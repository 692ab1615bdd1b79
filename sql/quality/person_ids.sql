-- Rows whose person has no ssd_person row (kept in every measure, outside age-based cohorts),
-- and rows with no person id (they belong to no child).
SELECT 'ssd_cin_episodes' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.cine_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_cin_episodes AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.cine_person_id
UNION ALL
SELECT 'ssd_cin_assessments' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.cina_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_cin_assessments AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.cina_person_id
UNION ALL
SELECT 'ssd_s47_enquiry' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.s47e_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_s47_enquiry AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.s47e_person_id
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.icpc_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_initial_cp_conference AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.icpc_person_id
UNION ALL
SELECT 'ssd_cin_plans' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.cinp_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_cin_plans AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.cinp_person_id
UNION ALL
SELECT 'ssd_cp_plans' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.cppl_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_cp_plans AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.cppl_person_id
UNION ALL
SELECT 'ssd_cin_visits' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.cinv_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_cin_visits AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.cinv_person_id
UNION ALL
SELECT 'ssd_cp_visits' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.cppv_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_cp_visits AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.cppv_person_id
UNION ALL
SELECT 'ssd_involvements' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.invo_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_involvements AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.invo_person_id
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.clae_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_cla_episodes AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.clae_person_id
UNION ALL
SELECT 'ssd_legal_status' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.lega_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_legal_status AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.lega_person_id
UNION ALL
SELECT 'ssd_cla_placement' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.clap_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_cla_placement AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.clap_person_id
UNION ALL
SELECT 'ssd_cla_health' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.clah_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_cla_health AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.clah_person_id
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'orphan_person_id_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(x.clea_person_id, '') IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS rows_affected
FROM ssd_care_leavers AS x
LEFT JOIN (SELECT DISTINCT pers_person_id FROM ssd_person) AS p ON p.pers_person_id = x.clea_person_id
UNION ALL
SELECT 'ssd_cin_episodes' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(cine_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_cin_episodes
UNION ALL
SELECT 'ssd_cin_assessments' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(cina_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_cin_assessments
UNION ALL
SELECT 'ssd_s47_enquiry' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(s47e_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_s47_enquiry
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(icpc_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_initial_cp_conference
UNION ALL
SELECT 'ssd_cin_plans' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(cinp_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_cin_plans
UNION ALL
SELECT 'ssd_cp_plans' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(cppl_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_cp_plans
UNION ALL
SELECT 'ssd_cin_visits' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(cinv_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_cin_visits
UNION ALL
SELECT 'ssd_cp_visits' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(cppv_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_cp_visits
UNION ALL
SELECT 'ssd_involvements' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(invo_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_involvements
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(clae_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_cla_episodes
UNION ALL
SELECT 'ssd_legal_status' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(lega_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_legal_status
UNION ALL
SELECT 'ssd_cla_placement' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(clap_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_cla_placement
UNION ALL
SELECT 'ssd_cla_health' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(clah_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_cla_health
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'no_person_id' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(clea_person_id, '') IS NULL THEN 1 END) AS rows_affected
FROM ssd_care_leavers
