/*---
id: icpc_count
title: Number of ICPCs
area: Child Protection Conferences
unit: count
polarity: neutral
target: ~
order: 300
description: >
  Initial child protection conferences with icpc_icpc_date in the month, transfer-in
  conferences left out.
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(c.icpc_icpc_date) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
LEFT JOIN stg_initial_cp_conference AS c
    ON c.icpc_icpc_date BETWEEN p.period_start AND p.period_end
   AND NOT c.is_transfer_in
GROUP BY p.period
