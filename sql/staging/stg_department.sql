-- Teams.
-- Exact duplicate rows count once. Of rows sharing a dept_team_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no dept_team_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS dept_team_id FROM stg_shared_ids WHERE table_name = 'ssd_department'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_department
    WHERE NULLIF(dept_team_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.dept_team_id = ssd_department.dept_team_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.dept_team_id ORDER BY x.dept_team_name NULLS LAST, x.dept_team_parent_id NULLS LAST, x.dept_team_parent_name NULLS LAST) AS key_rank
    FROM ssd_department AS x
    JOIN shared_ids AS s ON s.dept_team_id = x.dept_team_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_department
    WHERE dept_team_id IS NULL OR dept_team_id = ''
)
SELECT
    dept_team_id,
    dept_team_name,
    dept_team_parent_id,
    dept_team_parent_name
FROM ranked
WHERE key_rank = 1
