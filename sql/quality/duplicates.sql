-- Duplicates, both rules from one pass over each table:
--   exact_duplicate_dropped: rows identical in every contract column (after typing, and after
--     1900-01-01 became NULL in cina_assessment_auth_date) count once (kpis.md section 9): how
--     many were dropped.
--   duplicate_key_dropped: rows sharing a primary key with another, different row; the staging
--     models keep the first in contract column order and drop the others (rows_seen: rows after
--     exact duplicates are dropped).
-- Inside out: each distinct row (its id and row_hash of every contract column, equal exactly for
-- identical rows) with its copies; then each id with its distinct rows ("variants"): an id on
-- n different rows drops n - 1. Two GROUP BYs rather than COUNT(DISTINCT ...), which merges on
-- one core and was most of this rule's time at national scale.
SELECT 'ssd_person' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(pers_person_id, '') AS id,
                         row_hash(pers_person_id, pers_dob, pers_expected_dob, pers_sex, pers_ethnicity) AS fingerprint
                  FROM ssd_person) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cin_episodes' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(cine_referral_id, '') AS id,
                         row_hash(cine_referral_id, cine_person_id, cine_referral_date, cine_referral_nfa, cine_close_date, cine_referral_team) AS fingerprint
                  FROM ssd_cin_episodes) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cin_assessments' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(cina_assessment_id, '') AS id,
                         row_hash(cina_assessment_id, cina_person_id, cina_referral_id, cina_assessment_start_date, CASE WHEN cina_assessment_auth_date = DATE '1900-01-01' THEN NULL ELSE cina_assessment_auth_date END, cina_assessment_team) AS fingerprint
                  FROM ssd_cin_assessments) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_s47_enquiry' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(s47e_s47_enquiry_id, '') AS id,
                         row_hash(s47e_s47_enquiry_id, s47e_person_id, s47e_referral_id, s47e_s47_start_date, s47e_s47_end_date) AS fingerprint
                  FROM ssd_s47_enquiry) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_initial_cp_conference' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(icpc_icpc_id, '') AS id,
                         row_hash(icpc_icpc_id, icpc_person_id, icpc_s47_enquiry_id, icpc_icpc_date, icpc_icpc_transfer_in, icpc_icpc_outcome_cp_flag, icpc_icpc_target_date, icpc_cp_plan_id) AS fingerprint
                  FROM ssd_initial_cp_conference) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cin_plans' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(cinp_cin_plan_id, '') AS id,
                         row_hash(cinp_cin_plan_id, cinp_person_id, cinp_cin_plan_start_date, cinp_cin_plan_end_date, cinp_cin_plan_team) AS fingerprint
                  FROM ssd_cin_plans) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cp_plans' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(cppl_cp_plan_id, '') AS id,
                         row_hash(cppl_cp_plan_id, cppl_person_id, cppl_cp_plan_start_date, cppl_cp_plan_end_date) AS fingerprint
                  FROM ssd_cp_plans) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cin_visits' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(cinv_cin_visit_id, '') AS id,
                         row_hash(cinv_cin_visit_id, cinv_person_id, cinv_cin_visit_date, cinv_cin_visit_seen) AS fingerprint
                  FROM ssd_cin_visits) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cp_visits' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(cppv_cp_visit_id, '') AS id,
                         row_hash(cppv_cp_visit_id, cppv_person_id, cppv_cp_plan_id, cppv_cp_visit_date, cppv_cp_visit_seen) AS fingerprint
                  FROM ssd_cp_visits) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_involvements' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(invo_involvements_id, '') AS id,
                         row_hash(invo_involvements_id, invo_person_id, invo_professional_team, invo_professional_role_id, invo_involvement_start_date, invo_involvement_end_date) AS fingerprint
                  FROM ssd_involvements) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_department' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(dept_team_id, '') AS id,
                         row_hash(dept_team_id, dept_team_name, dept_team_parent_id, dept_team_parent_name) AS fingerprint
                  FROM ssd_department) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cla_episodes' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(clae_cla_episode_id, '') AS id,
                         row_hash(clae_cla_episode_id, clae_person_id, clae_cla_episode_start_date, clae_cla_episode_start_reason, clae_cla_episode_ceased_date, clae_cla_episode_ceased_reason, clae_entered_care_date, clae_cla_placement_id) AS fingerprint
                  FROM ssd_cla_episodes) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_legal_status' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(lega_legal_status_id, '') AS id,
                         row_hash(lega_legal_status_id, lega_person_id, lega_legal_status, lega_legal_status_start_date, lega_legal_status_end_date) AS fingerprint
                  FROM ssd_legal_status) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cla_placement' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(clap_cla_placement_id, '') AS id,
                         row_hash(clap_cla_placement_id, clap_person_id, clap_cla_placement_start_date, clap_cla_placement_end_date, clap_cla_placement_type) AS fingerprint
                  FROM ssd_cla_placement) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_cla_health' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(clah_health_check_id, '') AS id,
                         row_hash(clah_health_check_id, clah_person_id, clah_health_check_type, clah_health_check_date, clah_health_check_status) AS fingerprint
                  FROM ssd_cla_health) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
UNION ALL
SELECT 'ssd_care_leavers' AS table_name, r.rule,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows ELSE c.distinct_rows END AS rows_seen,
       CASE r.rule WHEN 'exact_duplicate_dropped' THEN c.all_rows - c.distinct_rows ELSE c.key_duplicates END AS rows_affected
FROM (
    SELECT COALESCE(SUM(copies), 0) AS all_rows, COALESCE(SUM(variants), 0) AS distinct_rows,
           COALESCE(SUM(CASE WHEN id IS NOT NULL THEN variants - 1 ELSE 0 END), 0) AS key_duplicates
    FROM (
        SELECT id, COUNT(*) AS variants, SUM(copies) AS copies
        FROM (
            SELECT id, COUNT(*) AS copies
            FROM (SELECT NULLIF(clea_table_id, '') AS id,
                         row_hash(clea_table_id, clea_person_id, clea_care_leaver_eligibility, clea_care_leaver_in_touch, clea_care_leaver_latest_contact, clea_care_leaver_accommodation, clea_care_leaver_accom_suitable, clea_care_leaver_activity) AS fingerprint
                  FROM ssd_care_leavers) AS t
            GROUP BY id, fingerprint
        ) AS d
        GROUP BY id
    ) AS k
) AS c
CROSS JOIN (VALUES ('exact_duplicate_dropped'), ('duplicate_key_dropped')) AS r(rule)
