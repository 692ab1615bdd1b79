-- Teams.
-- Exact duplicate rows count once. Of rows sharing a dept_team_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no dept_team_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_department
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(dept_team_id, '') ORDER BY dept_team_id NULLS LAST, dept_team_name NULLS LAST, dept_team_parent_id NULLS LAST, dept_team_parent_name NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    dept_team_id,
    dept_team_name,
    dept_team_parent_id,
    dept_team_parent_name
FROM ranked
WHERE NULLIF(dept_team_id, '') IS NULL OR key_rank = 1
