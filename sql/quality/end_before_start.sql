-- Rows whose end date is before their start date. They are kept and read literally: never open,
-- but a rule that tests one date still sees it (kpis.md section 9).
SELECT 'ssd_cin_episodes' AS table_name, 'end_before_start_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN cine_close_date < cine_referral_date THEN 1 END) AS rows_affected
FROM ssd_cin_episodes
UNION ALL
SELECT 'ssd_cin_assessments' AS table_name, 'end_before_start_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN NULLIF(cina_assessment_auth_date, DATE '1900-01-01') < cina_assessment_start_date THEN 1 END) AS rows_affected
FROM ssd_cin_assessments
UNION ALL
SELECT 'ssd_s47_enquiry' AS table_name, 'end_before_start_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN s47e_s47_end_date < s47e_s47_start_date THEN 1 END) AS rows_affected
FROM ssd_s47_enquiry
UNION ALL
SELECT 'ssd_cin_plans' AS table_name, 'end_before_start_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN cinp_cin_plan_end_date < cinp_cin_plan_start_date THEN 1 END) AS rows_affected
FROM ssd_cin_plans
UNION ALL
SELECT 'ssd_cp_plans' AS table_name, 'end_before_start_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN cppl_cp_plan_end_date < cppl_cp_plan_start_date THEN 1 END) AS rows_affected
FROM ssd_cp_plans
UNION ALL
SELECT 'ssd_involvements' AS table_name, 'end_before_start_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN invo_involvement_end_date < invo_involvement_start_date THEN 1 END) AS rows_affected
FROM ssd_involvements
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, 'end_before_start_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN clae_cla_episode_ceased_date < clae_cla_episode_start_date THEN 1 END) AS rows_affected
FROM ssd_cla_episodes
UNION ALL
SELECT 'ssd_legal_status' AS table_name, 'end_before_start_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN lega_legal_status_end_date < lega_legal_status_start_date THEN 1 END) AS rows_affected
FROM ssd_legal_status
UNION ALL
SELECT 'ssd_cla_placement' AS table_name, 'end_before_start_kept' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN clap_cla_placement_end_date < clap_cla_placement_start_date THEN 1 END) AS rows_affected
FROM ssd_cla_placement
