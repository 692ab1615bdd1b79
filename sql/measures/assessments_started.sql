/*---
id: assessments_started
title: Assessments Started
area: Assessments
unit: count
polarity: neutral
target: ~
order: 200
description: Assessments with cina_assessment_start_date in the month.
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(a.cina_assessment_start_date) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
LEFT JOIN stg_cin_assessments AS a
    ON a.cina_assessment_start_date BETWEEN p.period_start AND p.period_end
GROUP BY p.period
