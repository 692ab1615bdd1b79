-- Health and dental checks of children in care (kpis.md section 6), one row per check kind,
-- period and child in the cohort: looked after at the as-at date, in care since on or before
-- the as-at date less 12 months. `is_checked`: a completed check of that kind (vars
-- health_assessment_types, dental_check_types) dated after the as-at date less 12 months and
-- on or before the as-at date.
WITH cohort AS (
    SELECT period, period_end, person_id
    FROM int_looked_after
    WHERE care_started <= period_end - INTERVAL '12 months'
),
completed AS (
    SELECT 'health' AS check_kind, clah_person_id AS person_id, clah_health_check_date AS check_date
    FROM stg_cla_health
    WHERE is_health_assessment AND is_completed
    UNION ALL
    SELECT 'dental' AS check_kind, clah_person_id AS person_id, clah_health_check_date AS check_date
    FROM stg_cla_health
    WHERE is_dental_check AND is_completed
),
checked AS (
    SELECT DISTINCT k.check_kind, c.period, c.person_id
    FROM cohort AS c
    JOIN completed AS k
        ON k.person_id = c.person_id
       AND k.check_date > c.period_end - INTERVAL '12 months'
       AND k.check_date <= c.period_end
),
kinds AS (
    SELECT 'health' AS check_kind
    UNION ALL
    SELECT 'dental' AS check_kind
)
SELECT
    k.check_kind,
    c.period,
    c.person_id,
    ch.person_id IS NOT NULL AS is_checked
FROM cohort AS c
CROSS JOIN kinds AS k
LEFT JOIN checked AS ch
    ON ch.check_kind = k.check_kind AND ch.period = c.period AND ch.person_id = c.person_id
