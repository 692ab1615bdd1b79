/*---
id: care_leavers_suitable_accommodation_rate
title: "% in Suitable Accommodation"
area: Care Experienced
unit: rate
polarity: higher_is_better
target: ~
snapshot: true
order: 730
description: >
  Of the cohort, those whose accommodation suitability code is 1 (Suitable). A snapshot
  measure: ssd_care_leavers holds current status, so a run computes it for its own period only
  and earlier periods keep the values their runs computed.
benchmark:
  lait: CareLeaverAcc
  published_as: percent
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(CASE WHEN c.suitability_code = '1' THEN 1 END) AS numerator,
    COUNT(c.clea_person_id) AS denominator
FROM reporting_periods AS p
LEFT JOIN int_care_leavers_current AS c ON TRUE
GROUP BY p.period
