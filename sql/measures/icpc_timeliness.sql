/*---
id: icpc_timeliness
title: "% ICPC Timeliness"
area: Child Protection Conferences
unit: rate
polarity: higher_is_better
target: ~
order: 310
description: >
  Of the conferences in the month (transfer-ins left out) whose icpc_s47_enquiry_id links to
  an S47 enquiry that started on or before the conference, those held within 15 working days
  of the enquiry's start (linked on icpc_s47_enquiry_id alone).
benchmark:
  lait: CP_conf_15days
  published_as: percent
---*/
WITH conferences AS (
    SELECT
        p.period,
        c.icpc_icpc_date,
        c.icpc_s47_enquiry_id,
        row_number() OVER () AS conference_row
    FROM reporting_periods AS p
    JOIN stg_initial_cp_conference AS c
        ON c.icpc_icpc_date BETWEEN p.period_start AND p.period_end
    WHERE NOT c.is_transfer_in
),
linked AS (
    SELECT
        c.period,
        c.conference_row,
        c.icpc_icpc_date,
        MAX(s.s47e_s47_start_date) AS s47_start
    FROM conferences AS c
    JOIN stg_s47_enquiry AS s
        ON s.s47e_s47_enquiry_id = c.icpc_s47_enquiry_id
       AND s.s47e_s47_start_date <= c.icpc_icpc_date
    GROUP BY c.period, c.conference_row, c.icpc_icpc_date
)
SELECT
    p.period,
    'ALL' AS org_unit,
    CAST(NULL AS VARCHAR) AS category,
    COUNT(
        CASE
            WHEN working_days(l.s47_start, l.icpc_icpc_date) <= {{ var('icpc_timescale_wd') }} THEN 1
        END
    ) AS numerator,
    COUNT(l.conference_row) AS denominator
FROM reporting_periods AS p
LEFT JOIN linked AS l ON l.period = p.period
GROUP BY p.period
