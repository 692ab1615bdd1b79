-- Visit timeliness per plan type, period and child (kpis.md section 5). The children are those
-- with a plan of that type open at the as-at date; `plan_start` is the latest start among their
-- open plans of that type; the clock starts at the later of `plan_start` and their latest visit
-- of that type (matched on person id) on or before the as-at date whose seen flag is Y. A child
-- is timely when working_days(clock, as-at) is within the plan type's threshold (vars
-- cin_visit_threshold_wd, cp_visit_threshold_wd). `org_unit` is the allocated worker's team's.
WITH open_plans AS (
    SELECT 'CIN' AS plan_type, p.period, p.period_end, c.cinp_person_id AS person_id, c.cinp_cin_plan_start_date AS plan_start
    FROM reporting_periods AS p
    JOIN stg_cin_plans AS c
        ON c.cinp_cin_plan_start_date <= p.period_end
       AND (c.cinp_cin_plan_end_date IS NULL OR c.cinp_cin_plan_end_date > p.period_end)
    WHERE c.cinp_person_id IS NOT NULL
    UNION ALL
    SELECT 'CP' AS plan_type, p.period, p.period_end, c.cppl_person_id AS person_id, c.cppl_cp_plan_start_date AS plan_start
    FROM reporting_periods AS p
    JOIN stg_cp_plans AS c
        ON c.cppl_cp_plan_start_date <= p.period_end
       AND (c.cppl_cp_plan_end_date IS NULL OR c.cppl_cp_plan_end_date > p.period_end)
    WHERE c.cppl_person_id IS NOT NULL
),
seen_visits AS (
    SELECT 'CIN' AS plan_type, cinv_person_id AS person_id, cinv_cin_visit_date AS visit_date
    FROM stg_cin_visits
    WHERE is_seen
    UNION ALL
    SELECT 'CP' AS plan_type, cppv_person_id AS person_id, cppv_cp_visit_date AS visit_date
    FROM stg_cp_visits
    WHERE is_seen
),
-- Only a visit within the threshold before the as-at date can keep a child in time: the clock
-- is the later of the plan start and the latest seen visit, so an older latest visit leaves
-- the child late however the plan start falls. So each child's latest visit is looked for
-- among those days only (a few hundred of them, from the calendar), never in their whole
-- history, and the visits are read once, streamed. The days are counted back from each as-at
-- date far enough to hold them all: any 7 days hold 5 weekdays, so 7 x (t + 3) days back, t
-- the two thresholds together, hold at least 5t + 15 weekdays: more working days than either
-- threshold unless over 4t + 15 of those weekdays are bank holidays or closure days.
days_before_as_at AS (
    SELECT p.period, p.period_end, p.period_end - CAST(n.days_back AS INT) AS visit_date
    FROM reporting_periods AS p
    CROSS JOIN generate_series(0, 7 * ({{ var('cin_visit_threshold_wd') }} + {{ var('cp_visit_threshold_wd') }} + 3)) AS n(days_back)
),
counting_days AS (
    SELECT t.plan_type, d.period, d.visit_date
    FROM days_before_as_at AS d
    CROSS JOIN (VALUES ('CIN'), ('CP')) AS t(plan_type)
    WHERE working_days(d.visit_date, d.period_end)
        <= CASE t.plan_type
               WHEN 'CIN' THEN {{ var('cin_visit_threshold_wd') }}
               ELSE {{ var('cp_visit_threshold_wd') }}
           END
),
-- The few hundred counting days come first: DataFusion builds its hash table from the join's
-- first input, and building it from the millions of visits cost 2 s and 0.5 GB at national scale.
seen_in_time AS (
    SELECT v.plan_type, c.period, v.person_id, v.visit_date
    FROM counting_days AS c
    JOIN seen_visits AS v ON v.plan_type = c.plan_type AND v.visit_date = c.visit_date
),
-- Per plan type, period and child: the latest start of their open plans and their latest seen
-- visit in time, found in one pass over both (a child with a visit but no open plan is not in
-- the cohort).
clock AS (
    SELECT plan_type, period, person_id,
           MAX(period_end) AS period_end, MAX(plan_start) AS plan_start, MAX(seen_on) AS seen_on
    FROM (
        SELECT plan_type, period, period_end, person_id, plan_start, CAST(NULL AS DATE) AS seen_on
        FROM open_plans
        UNION ALL
        SELECT plan_type, period, CAST(NULL AS DATE) AS period_end, person_id, CAST(NULL AS DATE) AS plan_start, visit_date AS seen_on
        FROM seen_in_time
    ) AS x
    GROUP BY plan_type, period, person_id
    HAVING MAX(plan_start) IS NOT NULL
)
SELECT
    o.plan_type,
    o.period,
    o.person_id,
    COALESCE(u.org_unit, 'UNKNOWN') AS org_unit,
    working_days(greatest(o.plan_start, COALESCE(o.seen_on, o.plan_start)), o.period_end)
        <= CASE o.plan_type
               WHEN 'CIN' THEN {{ var('cin_visit_threshold_wd') }}
               ELSE {{ var('cp_visit_threshold_wd') }}
           END AS is_timely
FROM clock AS o
LEFT JOIN int_org_unit_at_period_end AS u ON u.period = o.period AND u.person_id = o.person_id
