-- People. `birth_date` is pers_dob, else pers_expected_dob (NULL: outside age-based cohorts).
-- Exact duplicate rows count once. Of rows sharing a pers_person_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no pers_person_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS pers_person_id FROM stg_shared_ids WHERE table_name = 'ssd_person'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_person
    WHERE NULLIF(pers_person_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.pers_person_id = ssd_person.pers_person_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.pers_person_id ORDER BY x.pers_dob NULLS LAST, x.pers_expected_dob NULLS LAST, x.pers_sex NULLS LAST, x.pers_ethnicity NULLS LAST) AS key_rank
    FROM ssd_person AS x
    JOIN shared_ids AS s ON s.pers_person_id = x.pers_person_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_person
    WHERE pers_person_id IS NULL OR pers_person_id = ''
)
SELECT
    NULLIF(pers_person_id, '') AS pers_person_id,
    pers_dob,
    pers_expected_dob,
    pers_sex,
    pers_ethnicity,
    COALESCE(pers_dob, pers_expected_dob) AS birth_date
FROM ranked
WHERE key_rank = 1
