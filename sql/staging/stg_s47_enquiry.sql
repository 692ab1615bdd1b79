-- Section 47 enquiries. An empty enquiry id links nothing.
-- Exact duplicate rows count once. Of rows sharing a s47e_s47_enquiry_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no s47e_s47_enquiry_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_s47_enquiry
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(s47e_s47_enquiry_id, '') ORDER BY s47e_s47_enquiry_id NULLS LAST, s47e_person_id NULLS LAST, s47e_referral_id NULLS LAST, s47e_s47_start_date NULLS LAST, s47e_s47_end_date NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    NULLIF(s47e_s47_enquiry_id, '') AS s47e_s47_enquiry_id,
    NULLIF(s47e_person_id, '') AS s47e_person_id,
    s47e_referral_id,
    s47e_s47_start_date,
    s47e_s47_end_date
FROM ranked
WHERE NULLIF(s47e_s47_enquiry_id, '') IS NULL OR key_rank = 1
