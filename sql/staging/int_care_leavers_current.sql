-- The care leaver cohort (kpis.md section 7): each young person's current row (latest
-- clea_care_leaver_latest_contact, a NULL contact older than any date, then the greatest
-- clea_table_id), kept when its eligibility is in the cohort.
WITH ranked AS (
    SELECT
        *,
        row_number() OVER (
            PARTITION BY clea_person_id
            ORDER BY clea_care_leaver_latest_contact DESC NULLS LAST, clea_table_id DESC NULLS LAST
        ) AS pick
    FROM stg_care_leavers
    WHERE clea_person_id IS NOT NULL
)
SELECT *
FROM ranked
WHERE pick = 1 AND is_eligible
