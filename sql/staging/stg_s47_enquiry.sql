-- Section 47 enquiries. An empty enquiry id links nothing.
-- Exact duplicate rows count once. Of rows sharing a s47e_s47_enquiry_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no s47e_s47_enquiry_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS s47e_s47_enquiry_id FROM stg_shared_ids WHERE table_name = 'ssd_s47_enquiry'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_s47_enquiry
    WHERE NULLIF(s47e_s47_enquiry_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.s47e_s47_enquiry_id = ssd_s47_enquiry.s47e_s47_enquiry_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.s47e_s47_enquiry_id ORDER BY x.s47e_person_id NULLS LAST, x.s47e_referral_id NULLS LAST, x.s47e_s47_start_date NULLS LAST, x.s47e_s47_end_date NULLS LAST) AS key_rank
    FROM ssd_s47_enquiry AS x
    JOIN shared_ids AS s ON s.s47e_s47_enquiry_id = x.s47e_s47_enquiry_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_s47_enquiry
    WHERE s47e_s47_enquiry_id IS NULL OR s47e_s47_enquiry_id = ''
)
SELECT
    NULLIF(s47e_s47_enquiry_id, '') AS s47e_s47_enquiry_id,
    NULLIF(s47e_person_id, '') AS s47e_person_id,
    s47e_referral_id,
    s47e_s47_start_date,
    s47e_s47_end_date
FROM ranked
WHERE key_rank = 1
