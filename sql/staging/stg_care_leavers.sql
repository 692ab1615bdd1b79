-- Care leavers' current status. Codes are normalised to SSDA903 codes; `is_eligible`: the
-- eligibility is one of var care_leaver_eligibility, trimmed, ignoring case.
-- Exact duplicate rows count once. Of rows sharing a clea_table_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no clea_table_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_care_leavers
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(clea_table_id, '') ORDER BY clea_table_id NULLS LAST, clea_person_id NULLS LAST, clea_care_leaver_eligibility NULLS LAST, clea_care_leaver_in_touch NULLS LAST, clea_care_leaver_latest_contact NULLS LAST, clea_care_leaver_accommodation NULLS LAST, clea_care_leaver_accom_suitable NULLS LAST, clea_care_leaver_activity NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    clea_table_id,
    NULLIF(clea_person_id, '') AS clea_person_id,
    clea_care_leaver_eligibility,
    normalise_code('care_leaver_in_touch', clea_care_leaver_in_touch) AS in_touch_code,
    clea_care_leaver_latest_contact,
    normalise_code('care_leaver_accommodation', clea_care_leaver_accommodation) AS accommodation_code,
    normalise_code('accommodation_suitable', clea_care_leaver_accom_suitable) AS suitability_code,
    normalise_code('care_leaver_activity', clea_care_leaver_activity) AS activity_code,
    UPPER(ascii_trim(clea_care_leaver_eligibility)) IN ({{ var_upper('care_leaver_eligibility') }}) AS is_eligible
FROM ranked
WHERE NULLIF(clea_table_id, '') IS NULL OR key_rank = 1
