/*---
id: cin_plans_open
title: "Child in Need Plan: Children on Plan"
area: Plans and Visits
unit: count
polarity: neutral
target: ~
order: 500
description: >
  Children with a CIN plan open at the as-at date: started on or before the end of the month
  and not ended by then (no end date, or one after the end of the month). Each child counts
  once; a plan with no person id belongs to no child.
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(DISTINCT c.cinp_person_id) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
LEFT JOIN stg_cin_plans AS c
    ON c.cinp_cin_plan_start_date <= p.period_end
   AND (c.cinp_cin_plan_end_date IS NULL OR c.cinp_cin_plan_end_date > p.period_end)
GROUP BY p.period
