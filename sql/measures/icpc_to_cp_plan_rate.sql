/*---
id: icpc_to_cp_plan_rate
title: "% ICPCs resulting in CP Plan"
area: Child Protection Conferences
unit: rate
polarity: higher_is_better
target: ~
order: 320
description: >
  Of the conferences in the month (transfer-ins left out), those with
  icpc_icpc_outcome_cp_flag = Y.
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(CASE WHEN c.is_cp_plan_outcome THEN 1 END) AS numerator,
    COUNT(c.icpc_icpc_date) AS denominator
FROM reporting_periods AS p
LEFT JOIN stg_initial_cp_conference AS c
    ON c.icpc_icpc_date BETWEEN p.period_start AND p.period_end
   AND NOT c.is_transfer_in
GROUP BY p.period
