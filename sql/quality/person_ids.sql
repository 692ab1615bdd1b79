-- Rows whose person has no ssd_person row (kept in every measure, outside age-based cohorts),
-- and rows with no person id (they belong to no child). Every table's person ids are looked up
-- in one join with the people (stg_person holds each person id once).
WITH person_refs AS (
    SELECT 'ssd_cin_episodes' AS table_name, NULLIF(cine_person_id, '') AS person_id FROM ssd_cin_episodes
    UNION ALL
    SELECT 'ssd_cin_assessments' AS table_name, NULLIF(cina_person_id, '') AS person_id FROM ssd_cin_assessments
    UNION ALL
    SELECT 'ssd_s47_enquiry' AS table_name, NULLIF(s47e_person_id, '') AS person_id FROM ssd_s47_enquiry
    UNION ALL
    SELECT 'ssd_initial_cp_conference' AS table_name, NULLIF(icpc_person_id, '') AS person_id FROM ssd_initial_cp_conference
    UNION ALL
    SELECT 'ssd_cin_plans' AS table_name, NULLIF(cinp_person_id, '') AS person_id FROM ssd_cin_plans
    UNION ALL
    SELECT 'ssd_cp_plans' AS table_name, NULLIF(cppl_person_id, '') AS person_id FROM ssd_cp_plans
    UNION ALL
    SELECT 'ssd_cin_visits' AS table_name, NULLIF(cinv_person_id, '') AS person_id FROM ssd_cin_visits
    UNION ALL
    SELECT 'ssd_cp_visits' AS table_name, NULLIF(cppv_person_id, '') AS person_id FROM ssd_cp_visits
    UNION ALL
    SELECT 'ssd_involvements' AS table_name, NULLIF(invo_person_id, '') AS person_id FROM ssd_involvements
    UNION ALL
    SELECT 'ssd_cla_episodes' AS table_name, NULLIF(clae_person_id, '') AS person_id FROM ssd_cla_episodes
    UNION ALL
    SELECT 'ssd_legal_status' AS table_name, NULLIF(lega_person_id, '') AS person_id FROM ssd_legal_status
    UNION ALL
    SELECT 'ssd_cla_placement' AS table_name, NULLIF(clap_person_id, '') AS person_id FROM ssd_cla_placement
    UNION ALL
    SELECT 'ssd_cla_health' AS table_name, NULLIF(clah_person_id, '') AS person_id FROM ssd_cla_health
    UNION ALL
    SELECT 'ssd_care_leavers' AS table_name, NULLIF(clea_person_id, '') AS person_id FROM ssd_care_leavers
),
-- Both rules from one pass over the references.
counts AS (
    SELECT r.table_name,
           COUNT(*) AS rows_seen,
           COUNT(CASE WHEN r.person_id IS NOT NULL AND p.pers_person_id IS NULL THEN 1 END) AS orphans,
           COUNT(CASE WHEN r.person_id IS NULL THEN 1 END) AS no_id
    FROM person_refs AS r
    LEFT JOIN stg_person AS p ON p.pers_person_id = r.person_id
    GROUP BY r.table_name
)
SELECT c.table_name, r.rule, c.rows_seen,
       CASE r.rule WHEN 'orphan_person_id_kept' THEN c.orphans ELSE c.no_id END AS rows_affected
FROM counts AS c
CROSS JOIN (VALUES ('orphan_person_id_kept'), ('no_person_id')) AS r(rule)
