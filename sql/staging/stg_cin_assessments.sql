-- Assessments as the measures read them.
-- cina_assessment_auth_date 1900-01-01 means "not yet authorised" and becomes NULL before
-- exact duplicates are counted once. `clock_start` is where the timeliness clock starts
-- (var assessment_clock): the assessment's own start, or its linked referral's date (the
-- earliest, should a referral id appear twice).
WITH typed AS (
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
referral_dates AS (
    SELECT cine_referral_id, MIN(cine_referral_date) AS cine_referral_date
    FROM stg_cin_episodes
    WHERE cine_referral_id IS NOT NULL AND cine_referral_id <> ''
    GROUP BY cine_referral_id
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
FROM typed AS a
LEFT JOIN referral_dates AS r ON r.cine_referral_id = a.cina_referral_id
