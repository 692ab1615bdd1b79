-- Ids on more than one row of their table, by table: the rows each staging model ranks to keep
-- one per id, and, with the rows that have no id, the only rows that can be duplicates
-- (quality/duplicates.sql). One GROUP BY over each table's ids, done once here for both.
-- Nearly every id is on one row, so this is small. `id <> ''` leaves out NULL ids too (NULL <> ''
-- is not true), and costs less than NULLIF(id, '') IS NOT NULL.
SELECT 'ssd_care_leavers' AS table_name, clea_table_id AS id FROM ssd_care_leavers
WHERE clea_table_id <> '' GROUP BY clea_table_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cin_assessments' AS table_name, cina_assessment_id AS id FROM ssd_cin_assessments
WHERE cina_assessment_id <> '' GROUP BY cina_assessment_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cin_episodes' AS table_name, cine_referral_id AS id FROM ssd_cin_episodes
WHERE cine_referral_id <> '' GROUP BY cine_referral_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cin_plans' AS table_name, cinp_cin_plan_id AS id FROM ssd_cin_plans
WHERE cinp_cin_plan_id <> '' GROUP BY cinp_cin_plan_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cin_visits' AS table_name, cinv_cin_visit_id AS id FROM ssd_cin_visits
WHERE cinv_cin_visit_id <> '' GROUP BY cinv_cin_visit_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, clae_cla_episode_id AS id FROM ssd_cla_episodes
WHERE clae_cla_episode_id <> '' GROUP BY clae_cla_episode_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cla_health' AS table_name, clah_health_check_id AS id FROM ssd_cla_health
WHERE clah_health_check_id <> '' GROUP BY clah_health_check_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cla_placement' AS table_name, clap_cla_placement_id AS id FROM ssd_cla_placement
WHERE clap_cla_placement_id <> '' GROUP BY clap_cla_placement_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cp_plans' AS table_name, cppl_cp_plan_id AS id FROM ssd_cp_plans
WHERE cppl_cp_plan_id <> '' GROUP BY cppl_cp_plan_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_cp_visits' AS table_name, cppv_cp_visit_id AS id FROM ssd_cp_visits
WHERE cppv_cp_visit_id <> '' GROUP BY cppv_cp_visit_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_department' AS table_name, dept_team_id AS id FROM ssd_department
WHERE dept_team_id <> '' GROUP BY dept_team_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, icpc_icpc_id AS id FROM ssd_initial_cp_conference
WHERE icpc_icpc_id <> '' GROUP BY icpc_icpc_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_involvements' AS table_name, invo_involvements_id AS id FROM ssd_involvements
WHERE invo_involvements_id <> '' GROUP BY invo_involvements_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_legal_status' AS table_name, lega_legal_status_id AS id FROM ssd_legal_status
WHERE lega_legal_status_id <> '' GROUP BY lega_legal_status_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_person' AS table_name, pers_person_id AS id FROM ssd_person
WHERE pers_person_id <> '' GROUP BY pers_person_id HAVING COUNT(*) > 1
UNION ALL
SELECT 'ssd_s47_enquiry' AS table_name, s47e_s47_enquiry_id AS id FROM ssd_s47_enquiry
WHERE s47e_s47_enquiry_id <> '' GROUP BY s47e_s47_enquiry_id HAVING COUNT(*) > 1
