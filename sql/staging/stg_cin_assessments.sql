-- Assessments. cina_assessment_auth_date 1900-01-01 means "not yet authorised" and becomes NULL
-- before exact duplicates are counted once. Of rows sharing a cina_assessment_id, the first in
-- contract column order (ascending, NULLs last) is kept. `clock_start` is where the timeliness
-- clock starts (var assessment_clock): the assessment's own start, or its linked referral's date.
WITH distinct_rows AS (
    SELECT DISTINCT
        cina_assessment_id,
        cina_person_id,
        cina_referral_id,
        cina_assessment_start_date,
        CASE
            WHEN cina_assessment_auth_date = DATE '1900-01-01' THEN NULL
            ELSE cina_assessment_auth_date
        END AS cina_assessment_auth_date,
        cina_assessment_team
    FROM ssd_cin_assessments
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(cina_assessment_id, '') ORDER BY cina_assessment_id NULLS LAST, cina_person_id NULLS LAST, cina_referral_id NULLS LAST, cina_assessment_start_date NULLS LAST, cina_assessment_auth_date NULLS LAST, cina_assessment_team NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    a.cina_assessment_id,
    NULLIF(a.cina_person_id, '') AS cina_person_id,
    a.cina_referral_id,
    a.cina_assessment_start_date,
    a.cina_assessment_auth_date,
    a.cina_assessment_team,
    CASE {{ var('assessment_clock') }}
        WHEN 'referral' THEN r.cine_referral_date
        ELSE a.cina_assessment_start_date
    END AS clock_start
FROM ranked AS a
LEFT JOIN stg_cin_episodes AS r ON r.cine_referral_id = a.cina_referral_id
WHERE NULLIF(a.cina_assessment_id, '') IS NULL OR a.key_rank = 1
