-- Code columns (kpis.md section 8): values that are no known code, no code followed by a
-- description and not in the code map (treated as no code), and values repaired to a code.
SELECT 'ssd_cla_episodes' AS table_name, 'unknown_code:clae_cla_episode_start_reason' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN is_unknown_code('episode_start_reason', clae_cla_episode_start_reason) THEN 1 END) AS rows_affected
FROM ssd_cla_episodes
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, 'code_read_from_description:clae_cla_episode_start_reason' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN normalise_code('episode_start_reason', clae_cla_episode_start_reason) IS NOT NULL AND UPPER(ascii_trim(clae_cla_episode_start_reason)) <> normalise_code('episode_start_reason', clae_cla_episode_start_reason) THEN 1 END) AS rows_affected
FROM ssd_cla_episodes
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, 'unknown_code:clae_cla_episode_ceased_reason' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN is_unknown_code('episode_ceased_reason', clae_cla_episode_ceased_reason) THEN 1 END) AS rows_affected
FROM ssd_cla_episodes
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, 'code_read_from_description:clae_cla_episode_ceased_reason' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN normalise_code('episode_ceased_reason', clae_cla_episode_ceased_reason) IS NOT NULL AND UPPER(ascii_trim(clae_cla_episode_ceased_reason)) <> normalise_code('episode_ceased_reason', clae_cla_episode_ceased_reason) THEN 1 END) AS rows_affected
FROM ssd_cla_episodes
UNION ALL
SELECT 'ssd_legal_status' AS table_name, 'unknown_code:lega_legal_status' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN is_unknown_code('legal_status', lega_legal_status) THEN 1 END) AS rows_affected
FROM ssd_legal_status
UNION ALL
SELECT 'ssd_legal_status' AS table_name, 'code_read_from_description:lega_legal_status' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN normalise_code('legal_status', lega_legal_status) IS NOT NULL AND UPPER(ascii_trim(lega_legal_status)) <> normalise_code('legal_status', lega_legal_status) THEN 1 END) AS rows_affected
FROM ssd_legal_status
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'unknown_code:clea_care_leaver_in_touch' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN is_unknown_code('care_leaver_in_touch', clea_care_leaver_in_touch) THEN 1 END) AS rows_affected
FROM ssd_care_leavers
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'code_read_from_description:clea_care_leaver_in_touch' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN normalise_code('care_leaver_in_touch', clea_care_leaver_in_touch) IS NOT NULL AND UPPER(ascii_trim(clea_care_leaver_in_touch)) <> normalise_code('care_leaver_in_touch', clea_care_leaver_in_touch) THEN 1 END) AS rows_affected
FROM ssd_care_leavers
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'unknown_code:clea_care_leaver_activity' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN is_unknown_code('care_leaver_activity', clea_care_leaver_activity) THEN 1 END) AS rows_affected
FROM ssd_care_leavers
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'code_read_from_description:clea_care_leaver_activity' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN normalise_code('care_leaver_activity', clea_care_leaver_activity) IS NOT NULL AND UPPER(ascii_trim(clea_care_leaver_activity)) <> normalise_code('care_leaver_activity', clea_care_leaver_activity) THEN 1 END) AS rows_affected
FROM ssd_care_leavers
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'unknown_code:clea_care_leaver_accommodation' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN is_unknown_code('care_leaver_accommodation', clea_care_leaver_accommodation) THEN 1 END) AS rows_affected
FROM ssd_care_leavers
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'code_read_from_description:clea_care_leaver_accommodation' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN normalise_code('care_leaver_accommodation', clea_care_leaver_accommodation) IS NOT NULL AND UPPER(ascii_trim(clea_care_leaver_accommodation)) <> normalise_code('care_leaver_accommodation', clea_care_leaver_accommodation) THEN 1 END) AS rows_affected
FROM ssd_care_leavers
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'unknown_code:clea_care_leaver_accom_suitable' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN is_unknown_code('accommodation_suitable', clea_care_leaver_accom_suitable) THEN 1 END) AS rows_affected
FROM ssd_care_leavers
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, 'code_read_from_description:clea_care_leaver_accom_suitable' AS rule,
       COUNT(*) AS rows_seen,
       COUNT(CASE WHEN normalise_code('accommodation_suitable', clea_care_leaver_accom_suitable) IS NOT NULL AND UPPER(ascii_trim(clea_care_leaver_accom_suitable)) <> normalise_code('accommodation_suitable', clea_care_leaver_accom_suitable) THEN 1 END) AS rows_affected
FROM ssd_care_leavers
