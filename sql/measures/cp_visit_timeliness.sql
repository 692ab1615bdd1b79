/*---
id: cp_visit_timeliness
title: "CP Current Visit Timeliness"
area: Plans and Visits
unit: rate
polarity: higher_is_better
target: ~
order: 530
description: >
  Of the children with a CP plan open at the as-at date, those seen in time: the clock starts
  at the later of the latest start among their open CP plans and their latest CP visit on or
  before the as-at date whose seen flag is Y (the plan start when there is none); the child is
  timely when working_days(clock, as-at) <= 10 (var cp_visit_threshold_wd). Written for ALL,
  for every org unit of the team map (the team of the child's allocated worker at the as-at
  date) and for UNKNOWN.
---*/
WITH by_org_unit AS (
    SELECT period, person_id, org_unit, is_timely FROM int_visit_timeliness WHERE plan_type = 'CP'
    UNION ALL
    SELECT period, person_id, 'ALL' AS org_unit, is_timely FROM int_visit_timeliness WHERE plan_type = 'CP'
)
SELECT
    p.period,
    u.org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(CASE WHEN b.is_timely THEN 1 END) AS numerator,
    COUNT(b.person_id) AS denominator
FROM reporting_periods AS p
CROSS JOIN org_units AS u
LEFT JOIN by_org_unit AS b ON b.period = p.period AND b.org_unit = u.org_unit
GROUP BY p.period, u.org_unit
