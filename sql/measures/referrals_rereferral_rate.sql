/*---
id: referrals_rereferral_rate
title: "% Re-referrals"
area: Referrals
unit: rate
polarity: lower_is_better
target: ~
order: 110
description: >
  Of the referrals in the month, those for which the same child has another referral dated
  on or after the referral date less 12 months and strictly before the referral date. A
  referral with no person id is in the denominator but is never a re-referral.
benchmark:
  lait: ReReferral
  published_as: percent
---*/
WITH in_month AS (
    SELECT
        p.period,
        r.cine_person_id,
        r.cine_referral_date,
        row_number() OVER () AS referral_row
    FROM reporting_periods AS p
    JOIN stg_cin_episodes AS r
        ON r.cine_referral_date BETWEEN p.period_start AND p.period_end
),
judged AS (
    SELECT
        m.period,
        m.referral_row,
        COUNT(earlier.cine_referral_date) > 0 AS is_rereferral
    FROM in_month AS m
    LEFT JOIN stg_cin_episodes AS earlier
        ON earlier.cine_person_id = m.cine_person_id
       AND earlier.cine_referral_date >= m.cine_referral_date - INTERVAL '12 months'
       AND earlier.cine_referral_date < m.cine_referral_date
    GROUP BY m.period, m.referral_row
)
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(CASE WHEN j.is_rereferral THEN 1 END) AS numerator,
    COUNT(j.referral_row) AS denominator
FROM reporting_periods AS p
LEFT JOIN judged AS j ON j.period = p.period
GROUP BY p.period
