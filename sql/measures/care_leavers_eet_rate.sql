/*---
id: care_leavers_eet_rate
title: "% in Education, Employment or Training"
area: Care Experienced
unit: rate
polarity: higher_is_better
target: ~
snapshot: true
order: 720
description: >
  Of the cohort, those whose activity code is one of F1 to F5 or P1 to P5. A snapshot measure:
  ssd_care_leavers holds current status, so a run computes it for its own period only and
  earlier periods keep the values their runs computed.
benchmark:
  lait: CareLeaverEET
  published_as: percent
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(CASE WHEN c.activity_code IN ('F1', 'F2', 'F3', 'F4', 'F5', 'P1', 'P2', 'P3', 'P4', 'P5') THEN 1 END) AS numerator,
    COUNT(c.clea_person_id) AS denominator
FROM reporting_periods AS p
LEFT JOIN int_care_leavers_current AS c ON TRUE
GROUP BY p.period
