/*---
id: cp_plans_open
title: "Child Protection Plan: Children on Plan"
area: Plans and Visits
unit: count
polarity: neutral
target: ~
order: 510
description: >
  Children with a CP plan open at the as-at date: started on or before the end of the month
  and not ended by then (no end date, or one after the end of the month). Each child counts
  once; a plan with no person id belongs to no child.
benchmark:
  lait: CPP_Num
  published_as: count
  note: children on a plan at 31 March
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(DISTINCT c.cppl_person_id) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
LEFT JOIN stg_cp_plans AS c
    ON c.cppl_cp_plan_start_date <= p.period_end
   AND (c.cppl_cp_plan_end_date IS NULL OR c.cppl_cp_plan_end_date > p.period_end)
GROUP BY p.period
