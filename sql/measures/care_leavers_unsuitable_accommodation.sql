/*---
id: care_leavers_unsuitable_accommodation
title: "Care Leavers in Unsuitable Accommodation"
area: Care Experienced
unit: count
polarity: lower_is_better
target: ~
snapshot: true
categories: care_leaver_accommodation
order: 740
description: >
  For each SSDA903 accommodation code (the category, labelled a) to p) in code_sets), the
  number of the cohort whose suitability code is 2 (Unsuitable) and whose accommodation has
  that code; codes with none are written as 0. A snapshot measure: ssd_care_leavers holds
  current status, so a run computes it for its own period only and earlier periods keep the
  values their runs computed.
---*/
WITH unsuitable AS (
    SELECT accommodation_code
    FROM int_care_leavers_current
    WHERE suitability_code = '2'
)
SELECT
    p.period,
    'ALL' AS org_unit,
    k.code AS category,
    COUNT(u.accommodation_code) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
CROSS JOIN code_sets AS k
LEFT JOIN unsuitable AS u ON u.accommodation_code = k.code
WHERE k.code_set = 'care_leaver_accommodation'
GROUP BY p.period, k.code
