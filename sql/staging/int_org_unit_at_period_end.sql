-- Each child's org unit at each period's as-at date (kpis.md section 5): the team of their
-- allocated worker's involvement open at as-at (latest start, then greatest involvement id,
-- text order), turned into an org unit by the team map. A team the map does not list is
-- UNKNOWN; a child with no such involvement has no row here and is UNKNOWN too.
WITH open_allocations AS (
    SELECT
        p.period,
        i.invo_person_id AS person_id,
        i.invo_professional_team AS team_id,
        row_number() OVER (
            PARTITION BY p.period, i.invo_person_id
            ORDER BY i.invo_involvement_start_date DESC, i.invo_involvements_id DESC NULLS LAST, i.invo_professional_team
        ) AS pick
    FROM reporting_periods AS p
    JOIN stg_involvements AS i
        ON i.invo_involvement_start_date <= p.period_end
       AND (i.invo_involvement_end_date IS NULL OR i.invo_involvement_end_date > p.period_end)
    WHERE i.is_allocated_worker AND i.invo_person_id IS NOT NULL
)
SELECT
    a.period,
    a.person_id,
    COALESCE(t.org_unit, 'UNKNOWN') AS org_unit
FROM open_allocations AS a
LEFT JOIN team_org_units AS t ON t.team_id = a.team_id
WHERE a.pick = 1
