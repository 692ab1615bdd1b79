-- Y/N flags written another way (YES, True, 1, lower case, spaces): read by the flag rule.
SELECT 'ssd_cin_episodes' AS table_name, 'flag_spelling_read:cine_referral_nfa' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN cine_referral_nfa IS NOT NULL AND cine_referral_nfa NOT IN ('Y', 'N') THEN 1 END) AS rows_affected
FROM ssd_cin_episodes
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, 'flag_spelling_read:icpc_icpc_transfer_in' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN icpc_icpc_transfer_in IS NOT NULL AND icpc_icpc_transfer_in NOT IN ('Y', 'N') THEN 1 END) AS rows_affected
FROM ssd_initial_cp_conference
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, 'flag_spelling_read:icpc_icpc_outcome_cp_flag' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN icpc_icpc_outcome_cp_flag IS NOT NULL AND icpc_icpc_outcome_cp_flag NOT IN ('Y', 'N') THEN 1 END) AS rows_affected
FROM ssd_initial_cp_conference
UNION ALL
SELECT 'ssd_cin_visits' AS table_name, 'flag_spelling_read:cinv_cin_visit_seen' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN cinv_cin_visit_seen IS NOT NULL AND cinv_cin_visit_seen NOT IN ('Y', 'N') THEN 1 END) AS rows_affected
FROM ssd_cin_visits
UNION ALL
SELECT 'ssd_cp_visits' AS table_name, 'flag_spelling_read:cppv_cp_visit_seen' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN cppv_cp_visit_seen IS NOT NULL AND cppv_cp_visit_seen NOT IN ('Y', 'N') THEN 1 END) AS rows_affected
FROM ssd_cp_visits
