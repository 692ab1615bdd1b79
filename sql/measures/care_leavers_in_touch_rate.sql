/*---
id: care_leavers_in_touch_rate
title: "Young People In Touch %"
area: Care Experienced
unit: rate
polarity: higher_is_better
target: ~
snapshot: true
order: 710
description: >
  Of the cohort less those whose in-touch code is DIED or RHOM, those whose in-touch code is
  YES. A snapshot measure: ssd_care_leavers holds current status, so a run computes it for its
  own period only and earlier periods keep the values their runs computed.
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(CASE WHEN c.in_touch_code = 'YES' THEN 1 END) AS numerator,
    COUNT(CASE WHEN COALESCE(c.in_touch_code, '') NOT IN ('DIED', 'RHOM') THEN c.clea_person_id END) AS denominator
FROM reporting_periods AS p
LEFT JOIN int_care_leavers_current AS c ON TRUE
GROUP BY p.period
