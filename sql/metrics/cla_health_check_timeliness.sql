/*---
id: cla_health_check_timeliness
title: "Health Check Timeliness"
area: Children in Care
unit: rate
polarity: higher_is_better
target: ~
order: 630
description: >
  Of the children looked after at the as-at date whose period of care started on or before the
  as-at date less 12 months, those with a health check (var health_assessment_types) with
  status Completed dated after the as-at date less 12 months and on or before the as-at date.
---*/
WITH cohort AS (
    SELECT period, period_end, person_id
    FROM int_looked_after
    WHERE care_started <= period_end - INTERVAL '12 months'
),
checked AS (
    SELECT DISTINCT c.period, c.person_id
    FROM cohort AS c
    JOIN stg_cla_health AS h
        ON h.clah_person_id = c.person_id
       AND h.is_health_assessment
       AND h.is_completed
       AND h.clah_health_check_date > c.period_end - INTERVAL '12 months'
       AND h.clah_health_check_date <= c.period_end
)
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(k.person_id) AS numerator,
    COUNT(c.person_id) AS denominator
FROM reporting_periods AS p
LEFT JOIN cohort AS c ON c.period = p.period
LEFT JOIN checked AS k ON k.period = c.period AND k.person_id = c.person_id
GROUP BY p.period
