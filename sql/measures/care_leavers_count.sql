/*---
id: care_leavers_count
title: "Care Experienced: Young People"
area: Care Experienced
unit: count
polarity: neutral
target: ~
snapshot: true
order: 700
description: >
  The care leaver cohort: young people whose current row (latest contact, then greatest
  clea_table_id) has an eligibility of Relevant or Former Relevant (var
  care_leaver_eligibility). A snapshot measure: ssd_care_leavers holds current status, so a
  run computes it for its own period only and earlier periods keep the values their runs
  computed.
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(c.clea_person_id) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
LEFT JOIN int_care_leavers_current AS c ON TRUE
GROUP BY p.period
