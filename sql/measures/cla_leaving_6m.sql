/*---
id: cla_leaving_6m
title: "Children Leaving Care (Last 6 Months)"
area: Children in Care
unit: count
polarity: neutral
target: ~
order: 620
description: >
  Children with a care episode other than a short break whose ceased date lies in the six
  calendar months ending with the period and whose ceased reason code is present and not X1
  (an episode ending only to start another). Each child counts once.
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
   AND e.ceased_reason_code IS NOT NULL
   AND e.ceased_reason_code <> 'X1'
   AND e.clae_cla_episode_ceased_date BETWEEN p.last_month_start - INTERVAL '5 months' AND p.period_end
GROUP BY p.period
