-- Health and dental checks of children in care (kpis.md section 6), one row per check kind,
-- period and child in the cohort: looked after at the as-at date, in care since on or before
-- the as-at date less 12 months. `is_checked`: a completed check of that kind (vars
-- health_assessment_types, dental_check_types) dated after the as-at date less 12 months and
-- on or before the as-at date.
WITH cohort AS (
    SELECT period, period_end, period_end - INTERVAL '12 months' AS window_start, person_id
    FROM int_looked_after
    WHERE care_started <= period_end - INTERVAL '12 months'
),
-- A child is checked when at least one completed check of the kind falls in the window. Both
-- kinds are judged in one pass over the child's checks, so each child's checks are joined and
-- grouped once, not once per kind. The window's start is worked out once per child and period
-- in `cohort`, not again for each of their checks the join compares.
checked AS (
    SELECT
        c.period,
        c.person_id,
        COUNT(CASE WHEN ch.is_health_assessment THEN 1 END) > 0 AS health_checked,
        COUNT(CASE WHEN ch.is_dental_check THEN 1 END) > 0 AS dental_checked
    FROM cohort AS c
    LEFT JOIN stg_cla_health AS ch
        ON ch.clah_person_id = c.person_id
       AND ch.is_completed
       AND (ch.is_health_assessment OR ch.is_dental_check)
       AND ch.clah_health_check_date > c.window_start
       AND ch.clah_health_check_date <= c.period_end
    GROUP BY c.period, c.person_id
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
    CASE k.check_kind WHEN 'health' THEN c.health_checked ELSE c.dental_checked END AS is_checked
FROM checked AS c
CROSS JOIN kinds AS k
