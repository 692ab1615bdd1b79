-- Assessments. cina_assessment_auth_date 1900-01-01 means "not yet authorised" and becomes NULL
-- before exact duplicates are counted once. Of rows sharing a cina_assessment_id, the first in
-- contract column order (ascending, NULLs last) is kept. `clock_start` is where the timeliness
-- clock starts (var assessment_clock): the assessment's own start, or its linked referral's date.
WITH typed AS (
    SELECT
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
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
shared_ids AS (
    SELECT id AS cina_assessment_id FROM stg_shared_ids WHERE table_name = 'ssd_cin_assessments'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM typed
    WHERE NULLIF(cina_assessment_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.cina_assessment_id = typed.cina_assessment_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.cina_assessment_id ORDER BY x.cina_person_id NULLS LAST, x.cina_referral_id NULLS LAST, x.cina_assessment_start_date NULLS LAST, x.cina_assessment_auth_date NULLS LAST, x.cina_assessment_team NULLS LAST) AS key_rank
    FROM typed AS x
    JOIN shared_ids AS s ON s.cina_assessment_id = x.cina_assessment_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM typed
    WHERE cina_assessment_id IS NULL OR cina_assessment_id = ''
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
-- The linked referral is read only when the clock starts there: with the default setting the
-- condition is false, and the planner leaves the referrals out. An assessment with no referral
-- id matches none (stg_cin_episodes keeps every row that has no id).
LEFT JOIN (
    SELECT cine_referral_id, cine_referral_date
    FROM stg_cin_episodes
    WHERE {{ var('assessment_clock') }} = 'referral'
) AS r ON r.cine_referral_id = NULLIF(a.cina_referral_id, '')
WHERE a.key_rank = 1
