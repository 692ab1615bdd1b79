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
kinds AS (
    SELECT 'health' AS check_kind
    UNION ALL
    SELECT 'dental' AS check_kind
)
-- A child is checked when at least one completed check of the kind falls in the window.
SELECT
    k.check_kind,
    c.period,
    c.person_id,
    COUNT(ch.person_id) > 0 AS is_checked
FROM cohort AS c
CROSS JOIN kinds AS k
LEFT JOIN completed AS ch
    ON ch.check_kind = k.check_kind
   AND ch.person_id = c.person_id
   AND ch.check_date > c.period_end - INTERVAL '12 months'
   AND ch.check_date <= c.period_end
GROUP BY k.check_kind, c.period, c.person_id
