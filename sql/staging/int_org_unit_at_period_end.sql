-- Each child's org unit at each period's as-at date (kpis.md section 5): the team of their
-- allocated worker's involvement open at as-at (latest start, then greatest involvement id,
-- text order), turned into an org unit by the team map. A team the map does not list is
-- UNKNOWN; a child with no such involvement has no row here and is UNKNOWN too.
-- MATERIALIZED: computed once each, though read two and three times below.
WITH open_allocations AS MATERIALIZED (
    SELECT
        p.period,
        i.invo_person_id AS person_id,
        i.invo_professional_team AS team_id,
        i.invo_involvement_start_date AS started,
        i.invo_involvements_id AS involvement_id
    FROM reporting_periods AS p
    JOIN stg_involvements AS i
        ON i.invo_involvement_start_date <= p.period_end
       AND (i.invo_involvement_end_date IS NULL OR i.invo_involvement_end_date > p.period_end)
    WHERE i.is_allocated_worker AND i.invo_person_id IS NOT NULL
),
-- Most children have one open allocation; only those with several need ranking (ranking
-- every child's is slow).
several AS MATERIALIZED (
    SELECT period, person_id
    FROM open_allocations
    GROUP BY period, person_id
    HAVING COUNT(*) > 1
),
picked AS (
    SELECT a.period, a.person_id, a.team_id
    FROM open_allocations AS a
    LEFT JOIN several AS s ON s.period = a.period AND s.person_id = a.person_id
    WHERE s.person_id IS NULL
    UNION ALL
    SELECT period, person_id, team_id
    FROM (
        SELECT
            a.period,
            a.person_id,
            a.team_id,
            row_number() OVER (
                PARTITION BY a.period, a.person_id
                ORDER BY a.started DESC, a.involvement_id DESC NULLS LAST, a.team_id
            ) AS pick
        FROM open_allocations AS a
        JOIN several AS s ON s.period = a.period AND s.person_id = a.person_id
    ) AS ranked
    WHERE pick = 1
)
SELECT
    a.period,
    a.person_id,
    COALESCE(t.org_unit, 'UNKNOWN') AS org_unit
FROM picked AS a
LEFT JOIN team_org_units AS t ON t.team_id = a.team_id
