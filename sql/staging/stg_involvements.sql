-- Involvements of professionals. `is_allocated_worker`: the role is one of the allocated-worker
-- roles (var allocated_worker_roles), trimmed, any case.
-- Exact duplicate rows count once. Of rows sharing an invo_involvements_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no invo_involvements_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_involvements
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(invo_involvements_id, '') ORDER BY invo_involvements_id NULLS LAST, invo_person_id NULLS LAST, invo_professional_team NULLS LAST, invo_professional_role_id NULLS LAST, invo_involvement_start_date NULLS LAST, invo_involvement_end_date NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    invo_involvements_id,
    NULLIF(invo_person_id, '') AS invo_person_id,
    invo_professional_team,
    invo_professional_role_id,
    invo_involvement_start_date,
    invo_involvement_end_date,
    UPPER(ascii_trim(invo_professional_role_id)) IN ({{ var_upper('allocated_worker_roles') }}) AS is_allocated_worker
FROM ranked
WHERE NULLIF(invo_involvements_id, '') IS NULL OR key_rank = 1
