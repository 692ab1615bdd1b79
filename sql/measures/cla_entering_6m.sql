/*---
id: cla_entering_6m
title: "Children Entering Care (Last 6 Months)"
area: Children in Care
unit: count
polarity: neutral
target: ~
order: 610
description: >
  Children with a care episode other than a short break whose start reason code is S (Started
  to be looked after) and whose start date lies in the six calendar months ending with the
  period. Each child counts once.
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(DISTINCT e.clae_person_id) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
LEFT JOIN int_cla_episodes AS e
    ON NOT e.is_short_break
   AND e.start_reason_code = 'S'
   AND e.clae_cla_episode_start_date BETWEEN p.last_month_start - INTERVAL '5 months' AND p.period_end
GROUP BY p.period
