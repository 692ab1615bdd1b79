-- Care leavers' current status. Codes are normalised to SSDA903 codes; `is_eligible`: the
-- eligibility is one of var care_leaver_eligibility, trimmed, ignoring case.
-- Exact duplicate rows count once. Of rows sharing a clea_table_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no clea_table_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS clea_table_id FROM stg_shared_ids WHERE table_name = 'ssd_care_leavers'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_care_leavers
    WHERE NULLIF(clea_table_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.clea_table_id = ssd_care_leavers.clea_table_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.clea_table_id ORDER BY x.clea_person_id NULLS LAST, x.clea_care_leaver_eligibility NULLS LAST, x.clea_care_leaver_in_touch NULLS LAST, x.clea_care_leaver_latest_contact NULLS LAST, x.clea_care_leaver_accommodation NULLS LAST, x.clea_care_leaver_accom_suitable NULLS LAST, x.clea_care_leaver_activity NULLS LAST) AS key_rank
    FROM ssd_care_leavers AS x
    JOIN shared_ids AS s ON s.clea_table_id = x.clea_table_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_care_leavers
    WHERE clea_table_id IS NULL OR clea_table_id = ''
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
WHERE key_rank = 1
