/*---
id: cla_placement_stability_long
title: "Long Term Placement Stability"
area: Children in Care
unit: rate
polarity: higher_is_better
target: ~
order: 660
description: >
  Of the children looked after at the as-at date, aged under 16 then (as-at before the date of
  birth, or expected date of birth, plus 16 years) and whose period of care started on or
  before the as-at date less 30 months, those with a placement open at the as-at date that
  started on or before the as-at date less 24 months. The NI 63 adoption clause is not
  applied; a child with no known date of birth is left out.
benchmark:
  lait: "LAC_LongStable%"
  published_as: percent
---*/
-- MATERIALIZED: the cohort is both the denominator and where the numerator is looked for.
WITH cohort AS MATERIALIZED (
    SELECT l.period, l.period_end, l.period_end - INTERVAL '24 months' AS settled_by, l.person_id
    FROM int_looked_after AS l
    JOIN stg_person AS pe ON pe.pers_person_id = l.person_id
    WHERE l.care_started <= l.period_end - INTERVAL '30 months'
      AND l.period_end < pe.birth_date + INTERVAL '16 years'
),
settled AS (
    SELECT DISTINCT c.period, c.person_id
    FROM cohort AS c
    JOIN stg_cla_placement AS pl
        ON pl.clap_person_id = c.person_id
       AND pl.clap_cla_placement_id IS NOT NULL
       AND pl.clap_cla_placement_start_date <= c.settled_by
       AND (pl.clap_cla_placement_end_date IS NULL OR pl.clap_cla_placement_end_date > c.period_end)
)
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(s.person_id) AS numerator,
    COUNT(c.person_id) AS denominator
FROM reporting_periods AS p
LEFT JOIN cohort AS c ON c.period = p.period
LEFT JOIN settled AS s ON s.period = c.period AND s.person_id = c.person_id
GROUP BY p.period
