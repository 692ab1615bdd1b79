/*---
id: referrals_nfa_rate
title: "% Referral NFA"
area: Referrals
unit: rate
polarity: neutral
target: ~
order: 120
description: >
  Of the referrals in the month, those with cine_referral_nfa = Y (Y, YES, TRUE or 1,
  trimmed, any case).
benchmark:
  lait: CIN_Refferals_NFA
  published_as: percent
---*/
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(CASE WHEN r.cine_referral_nfa THEN 1 END) AS numerator,
    COUNT(r.cine_referral_date) AS denominator
FROM reporting_periods AS p
LEFT JOIN stg_cin_episodes AS r
    ON r.cine_referral_date BETWEEN p.period_start AND p.period_end
GROUP BY p.period
