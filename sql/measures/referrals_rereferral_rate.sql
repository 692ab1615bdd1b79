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
-- The referrals in each month, one row each (a child referred twice on a day has two).
WITH in_month AS (
    SELECT p.period, r.cine_person_id, r.cine_referral_date
    FROM reporting_periods AS p
    JOIN stg_cin_episodes AS r
        ON r.cine_referral_date BETWEEN p.period_start AND p.period_end
),
-- Those for which the same child has another referral in the 12 months before. A referral
-- with no person id matches none (NULL equals nothing).
rereferrals AS (
    SELECT m.period, COUNT(*) AS rereferrals
    FROM in_month AS m
    WHERE EXISTS (
        SELECT 1
        FROM stg_cin_episodes AS earlier
        WHERE earlier.cine_person_id = m.cine_person_id
          AND earlier.cine_referral_date >= m.cine_referral_date - INTERVAL '12 months'
          AND earlier.cine_referral_date < m.cine_referral_date
    )
    GROUP BY m.period
),
referrals AS (
    SELECT period, COUNT(*) AS referrals
    FROM in_month
    GROUP BY period
)
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COALESCE(n.rereferrals, 0) AS numerator,
    COALESCE(d.referrals, 0) AS denominator
FROM reporting_periods AS p
LEFT JOIN rereferrals AS n ON n.period = p.period
LEFT JOIN referrals AS d ON d.period = p.period
