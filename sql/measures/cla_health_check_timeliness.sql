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
benchmark:
  lait: "LACHealth%"
  published_as: percent
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(CASE WHEN t.is_checked THEN 1 END) AS numerator,
    COUNT(t.person_id) AS denominator
FROM reporting_periods AS p
LEFT JOIN int_cla_checks AS t ON t.period = p.period AND t.check_kind = 'health'
GROUP BY p.period
