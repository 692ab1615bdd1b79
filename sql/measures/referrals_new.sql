/*---
id: referrals_new
title: Number of New Referrals
area: Referrals
unit: count
polarity: neutral
target: ~
order: 100
description: >
  Referrals with cine_referral_date in the month. Every referral row counts, including one
  with no person id; exact duplicate rows count once.
benchmark:
  lait: CPP_Total_NumRef
  published_as: count
  note: referrals in the year
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(r.cine_referral_date) AS numerator,
    CAST(NULL AS BIGINT) AS denominator
FROM reporting_periods AS p
LEFT JOIN stg_cin_episodes AS r
    ON r.cine_referral_date BETWEEN p.period_start AND p.period_end
GROUP BY p.period
