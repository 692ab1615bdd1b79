/*---
id: cla_placement_stability_short
title: "Short Term Placement Stability"
area: Children in Care
unit: rate
polarity: lower_is_better
target: ~
order: 650
description: >
  Of the children looked after at the as-at date, those with 3 or more distinct placements
  (clap_cla_placement_id, matched on clap_person_id, whichever episode they belong to) that
  overlap the 12 months to the as-at date: started on or before the as-at date and not ended
  on or before the as-at date less 12 months.
benchmark:
  lait: LACStable_2016on
  published_as: percent
---*/
-- stg_cla_placement holds each placement id once, so counting a child's rows counts their
-- distinct placements.
-- Only a child with 3 or more placements in all can have 3 in one 12 months: the others are
-- left out before the join (most children have had one or two).
WITH movers AS (
    SELECT clap_person_id AS person_id
    FROM stg_cla_placement
    WHERE clap_cla_placement_id IS NOT NULL
    GROUP BY clap_person_id
    HAVING COUNT(*) >= 3
),
-- The movers looked after at each as-at date, with the start of the 12 months before (worked
-- out once here, not for each of their placements the join compares).
moving AS (
    SELECT l.period, l.period_end, l.period_end - INTERVAL '12 months' AS window_start, l.person_id
    FROM int_looked_after AS l
    JOIN movers AS m ON m.person_id = l.person_id
),
placements AS (
    SELECT l.period, l.person_id, COUNT(*) AS placements
    FROM moving AS l
    JOIN stg_cla_placement AS pl
        ON pl.clap_person_id = l.person_id
       AND pl.clap_cla_placement_id IS NOT NULL
       AND pl.clap_cla_placement_start_date <= l.period_end
       AND (pl.clap_cla_placement_end_date IS NULL
            OR pl.clap_cla_placement_end_date > l.window_start)
    GROUP BY l.period, l.person_id
),
unstable AS (
    SELECT period, COUNT(*) AS children
    FROM placements
    WHERE placements >= 3
    GROUP BY period
),
looked_after AS (
    SELECT period, COUNT(*) AS children
    FROM int_looked_after
    GROUP BY period
)
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COALESCE(u.children, 0) AS numerator,
    COALESCE(l.children, 0) AS denominator
FROM reporting_periods AS p
LEFT JOIN looked_after AS l ON l.period = p.period
LEFT JOIN unstable AS u ON u.period = p.period
