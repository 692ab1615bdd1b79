/*---
id: cla_count
title: "Children in Care"
area: Children in Care
unit: count
polarity: neutral
target: ~
order: 600
description: >
  Children looked after at the as-at date: one of their care episodes other than a short break
  (an episode for which a V3 or V4 legal status of the child is open at its start) is open
  then. Each child counts once.
benchmark:
  lait: LACnum
  published_as: count
  note: children in care at 31 March
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(l.person_id) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
LEFT JOIN int_looked_after AS l ON l.period = p.period
GROUP BY p.period
