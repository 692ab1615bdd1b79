/*---
id: assessments_open
title: Currently Open Assessments
area: Assessments
unit: count
polarity: neutral
target: ~
order: 220
description: >
  Assessments open at the as-at date: started on or before the end of the month and not
  authorised by then (no authorisation date, or one after the end of the month).
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(a.cina_assessment_start_date) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
LEFT JOIN stg_cin_assessments AS a
    ON a.cina_assessment_start_date <= p.period_end
   AND (a.cina_assessment_auth_date IS NULL OR a.cina_assessment_auth_date > p.period_end)
GROUP BY p.period
