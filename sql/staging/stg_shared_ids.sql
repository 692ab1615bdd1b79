-- Ids on more than one row of their table, by table: the rows each staging model ranks to keep
-- one per id, and, with the rows that have no id, the only rows that can be duplicates
-- (quality/duplicates.sql). One GROUP BY over each table's ids, done once here for both.
-- Nearly every id is on one row, so this is small.
SELECT 'ssd_care_leavers' AS table_name, clea_table_id AS id FROM ssd_care_leavers
WHERE NULLIF(clea_table_id, '') IS NOT NULL GROUP BY clea_table_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cin_assessments' AS table_name, cina_assessment_id AS id FROM ssd_cin_assessments
WHERE NULLIF(cina_assessment_id, '') IS NOT NULL GROUP BY cina_assessment_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cin_episodes' AS table_name, cine_referral_id AS id FROM ssd_cin_episodes
WHERE NULLIF(cine_referral_id, '') IS NOT NULL GROUP BY cine_referral_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cin_plans' AS table_name, cinp_cin_plan_id AS id FROM ssd_cin_plans
WHERE NULLIF(cinp_cin_plan_id, '') IS NOT NULL GROUP BY cinp_cin_plan_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cin_visits' AS table_name, cinv_cin_visit_id AS id FROM ssd_cin_visits
WHERE NULLIF(cinv_cin_visit_id, '') IS NOT NULL GROUP BY cinv_cin_visit_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, clae_cla_episode_id AS id FROM ssd_cla_episodes
WHERE NULLIF(clae_cla_episode_id, '') IS NOT NULL GROUP BY clae_cla_episode_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cla_health' AS table_name, clah_health_check_id AS id FROM ssd_cla_health
WHERE NULLIF(clah_health_check_id, '') IS NOT NULL GROUP BY clah_health_check_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cla_placement' AS table_name, clap_cla_placement_id AS id FROM ssd_cla_placement
WHERE NULLIF(clap_cla_placement_id, '') IS NOT NULL GROUP BY clap_cla_placement_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cp_plans' AS table_name, cppl_cp_plan_id AS id FROM ssd_cp_plans
WHERE NULLIF(cppl_cp_plan_id, '') IS NOT NULL GROUP BY cppl_cp_plan_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cp_visits' AS table_name, cppv_cp_visit_id AS id FROM ssd_cp_visits
WHERE NULLIF(cppv_cp_visit_id, '') IS NOT NULL GROUP BY cppv_cp_visit_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_department' AS table_name, dept_team_id AS id FROM ssd_department
WHERE NULLIF(dept_team_id, '') IS NOT NULL GROUP BY dept_team_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, icpc_icpc_id AS id FROM ssd_initial_cp_conference
WHERE NULLIF(icpc_icpc_id, '') IS NOT NULL GROUP BY icpc_icpc_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_involvements' AS table_name, invo_involvements_id AS id FROM ssd_involvements
WHERE NULLIF(invo_involvements_id, '') IS NOT NULL GROUP BY invo_involvements_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_legal_status' AS table_name, lega_legal_status_id AS id FROM ssd_legal_status
WHERE NULLIF(lega_legal_status_id, '') IS NOT NULL GROUP BY lega_legal_status_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_person' AS table_name, pers_person_id AS id FROM ssd_person
WHERE NULLIF(pers_person_id, '') IS NOT NULL GROUP BY pers_person_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_s47_enquiry' AS table_name, s47e_s47_enquiry_id AS id FROM ssd_s47_enquiry
WHERE NULLIF(s47e_s47_enquiry_id, '') IS NOT NULL GROUP BY s47e_s47_enquiry_id HAVING COUNT(*) > 1
