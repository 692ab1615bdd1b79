-- People. `birth_date` is pers_dob, else pers_expected_dob (NULL: outside age-based cohorts).
-- Exact duplicate rows count once. Of rows sharing a pers_person_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no pers_person_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_person
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(pers_person_id, '') ORDER BY pers_person_id NULLS LAST, pers_dob NULLS LAST, pers_expected_dob NULLS LAST, pers_sex NULLS LAST, pers_ethnicity NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    NULLIF(pers_person_id, '') AS pers_person_id,
    pers_dob,
    pers_expected_dob,
    pers_sex,
    pers_ethnicity,
    COALESCE(pers_dob, pers_expected_dob) AS birth_date
FROM ranked
WHERE NULLIF(pers_person_id, '') IS NULL OR key_rank = 1
