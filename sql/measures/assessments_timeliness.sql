/*---
id: assessments_timeliness
title: Assessment Timeliness
area: Assessments
unit: rate
polarity: higher_is_better
target: 0.90
order: 210
description: >
  Of the assessments authorised in the month, those authorised within 45 working days of the
  clock start: working_days(clock start, authorisation) <= 45. The clock starts at the
  assessment's start (or at the linked referral, setting assessment_clock). An assessment
  with no clock start is in the denominator and never timely. An authorisation date of
  1900-01-01 means not yet authorised.
benchmark:
  lait: Continue_Assess_Comp
  published_as: percent
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(
        CASE
            WHEN working_days(a.clock_start, a.cina_assessment_auth_date) <= {{ var('assessment_timescale_wd') }}
            THEN 1
        END
    ) AS numerator,
    COUNT(a.cina_assessment_auth_date) AS denominator
FROM reporting_periods AS p
LEFT JOIN stg_cin_assessments AS a
    ON a.cina_assessment_auth_date BETWEEN p.period_start AND p.period_end
GROUP BY p.period
