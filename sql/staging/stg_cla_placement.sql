-- Placements. A placement with no id is not a placement.
-- Exact duplicate rows count once. Of rows sharing a clap_cla_placement_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no clap_cla_placement_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_cla_placement
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(clap_cla_placement_id, '') ORDER BY clap_cla_placement_id NULLS LAST, clap_person_id NULLS LAST, clap_cla_placement_start_date NULLS LAST, clap_cla_placement_end_date NULLS LAST, clap_cla_placement_type NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    NULLIF(clap_cla_placement_id, '') AS clap_cla_placement_id,
    NULLIF(clap_person_id, '') AS clap_person_id,
    clap_cla_placement_start_date,
    clap_cla_placement_end_date,
    clap_cla_placement_type
FROM ranked
WHERE NULLIF(clap_cla_placement_id, '') IS NULL OR key_rank = 1
