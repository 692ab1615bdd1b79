/*---
id: cin_visit_timeliness
title: "CIN Current Visit Timeliness"
area: Plans and Visits
unit: rate
polarity: higher_is_better
target: ~
order: 520
description: >
  Of the children with a CIN plan open at the as-at date, those seen in time: the clock starts
  at the later of the latest start among their open CIN plans and their latest CIN visit on or
  before the as-at date whose seen flag is Y (the plan start when there is none); the child is
  timely when working_days(clock, as-at) <= 20 (var cin_visit_threshold_wd). Written for ALL,
  for every org unit of the team map (the team of the child's allocated worker at the as-at
  date) and for UNKNOWN.
---*/
WITH open_plans AS (
    SELECT
        p.period,
        p.period_end,
        c.cinp_person_id AS person_id,
        MAX(c.cinp_cin_plan_start_date) AS plan_start
    FROM reporting_periods AS p
    JOIN stg_cin_plans AS c
        ON c.cinp_cin_plan_start_date <= p.period_end
       AND (c.cinp_cin_plan_end_date IS NULL OR c.cinp_cin_plan_end_date > p.period_end)
    WHERE c.cinp_person_id IS NOT NULL
    GROUP BY p.period, p.period_end, c.cinp_person_id
),
last_seen AS (
    SELECT o.period, o.person_id, MAX(v.cinv_cin_visit_date) AS seen_on
    FROM open_plans AS o
    JOIN stg_cin_visits AS v
        ON v.cinv_person_id = o.person_id
       AND v.cinv_cin_visit_date <= o.period_end
       AND v.is_seen
    GROUP BY o.period, o.person_id
),
judged AS (
    SELECT
        o.period,
        o.person_id,
        COALESCE(u.org_unit, 'UNKNOWN') AS org_unit,
        working_days(greatest(o.plan_start, COALESCE(s.seen_on, o.plan_start)), o.period_end)
            <= {{ var('cin_visit_threshold_wd') }} AS is_timely
    FROM open_plans AS o
    LEFT JOIN last_seen AS s ON s.period = o.period AND s.person_id = o.person_id
    LEFT JOIN int_org_unit_at_period_end AS u ON u.period = o.period AND u.person_id = o.person_id
),
by_org_unit AS (
    SELECT period, person_id, org_unit, is_timely FROM judged
    UNION ALL
    SELECT period, person_id, 'ALL' AS org_unit, is_timely FROM judged
)
SELECT
    p.period,
    u.org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(CASE WHEN b.is_timely THEN 1 END) AS numerator,
    COUNT(b.person_id) AS denominator
FROM reporting_periods AS p
CROSS JOIN org_units AS u
LEFT JOIN by_org_unit AS b ON b.period = p.period AND b.org_unit = u.org_unit
GROUP BY p.period, u.org_unit
