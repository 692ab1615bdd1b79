-- Code columns (kpis.md section 8): values that are no known code, no code followed by a
-- description and not in the code map (treated as no code), and values repaired to a code.
-- A code column holds a few dozen distinct values however many rows it has, so each column's
-- values are counted first and judged once each, not once per row.
WITH distinct_values AS (
    SELECT 'ssd_cla_episodes' AS table_name, 'clae_cla_episode_start_reason' AS column_name, 'episode_start_reason' AS code_set, clae_cla_episode_start_reason AS value, COUNT(*) AS n
    FROM ssd_cla_episodes GROUP BY clae_cla_episode_start_reason
    UNION ALL
    SELECT 'ssd_cla_episodes' AS table_name, 'clae_cla_episode_ceased_reason' AS column_name, 'episode_ceased_reason' AS code_set, clae_cla_episode_ceased_reason AS value, COUNT(*) AS n
    FROM ssd_cla_episodes GROUP BY clae_cla_episode_ceased_reason
    UNION ALL
    SELECT 'ssd_legal_status' AS table_name, 'lega_legal_status' AS column_name, 'legal_status' AS code_set, lega_legal_status AS value, COUNT(*) AS n
    FROM ssd_legal_status GROUP BY lega_legal_status
    UNION ALL
    SELECT 'ssd_care_leavers' AS table_name, 'clea_care_leaver_in_touch' AS column_name, 'care_leaver_in_touch' AS code_set, clea_care_leaver_in_touch AS value, COUNT(*) AS n
    FROM ssd_care_leavers GROUP BY clea_care_leaver_in_touch
    UNION ALL
    SELECT 'ssd_care_leavers' AS table_name, 'clea_care_leaver_activity' AS column_name, 'care_leaver_activity' AS code_set, clea_care_leaver_activity AS value, COUNT(*) AS n
    FROM ssd_care_leavers GROUP BY clea_care_leaver_activity
    UNION ALL
    SELECT 'ssd_care_leavers' AS table_name, 'clea_care_leaver_accommodation' AS column_name, 'care_leaver_accommodation' AS code_set, clea_care_leaver_accommodation AS value, COUNT(*) AS n
    FROM ssd_care_leavers GROUP BY clea_care_leaver_accommodation
    UNION ALL
    SELECT 'ssd_care_leavers' AS table_name, 'clea_care_leaver_accom_suitable' AS column_name, 'accommodation_suitable' AS code_set, clea_care_leaver_accom_suitable AS value, COUNT(*) AS n
    FROM ssd_care_leavers GROUP BY clea_care_leaver_accom_suitable
),
counts AS (
    SELECT table_name, column_name,
           SUM(n) AS rows_seen,
           SUM(CASE WHEN is_unknown_code(code_set, value) THEN n ELSE 0 END) AS unknown,
           SUM(CASE WHEN normalise_code(code_set, value) IS NOT NULL
                     AND UPPER(ascii_trim(value)) <> normalise_code(code_set, value) THEN n ELSE 0 END) AS read_from_description
    FROM distinct_values
    GROUP BY table_name, column_name
)
-- Every column's two rules, with 0 for an empty table (which has no values to count): a new
-- code column is a branch of distinct_values above and a line of this list.
SELECT k.table_name, r.rule || ':' || k.column_name AS rule,
       COALESCE(c.rows_seen, 0) AS rows_seen,
       COALESCE(CASE r.rule WHEN 'unknown_code' THEN c.unknown ELSE c.read_from_description END, 0) AS rows_affected
FROM (VALUES
    ('ssd_cla_episodes', 'clae_cla_episode_start_reason'),
    ('ssd_cla_episodes', 'clae_cla_episode_ceased_reason'),
    ('ssd_legal_status', 'lega_legal_status'),
    ('ssd_care_leavers', 'clea_care_leaver_in_touch'),
    ('ssd_care_leavers', 'clea_care_leaver_activity'),
    ('ssd_care_leavers', 'clea_care_leaver_accommodation'),
    ('ssd_care_leavers', 'clea_care_leaver_accom_suitable')
) AS k(table_name, column_name)
CROSS JOIN (VALUES ('unknown_code'), ('code_read_from_description')) AS r(rule)
LEFT JOIN counts AS c ON c.table_name = k.table_name AND c.column_name = k.column_name
