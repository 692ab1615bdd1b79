-- Referrals. The NFA flag follows the flag rule (Y, YES, TRUE, 1, trimmed, any case).
-- Exact duplicate rows count once. Of rows sharing a cine_referral_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cine_referral_id are all kept.
-- Ids on more than one row (stg_shared_ids): only their rows need ranking (ranking every row
-- is slow).
WITH shared_ids AS (
    SELECT id AS cine_referral_id FROM stg_shared_ids WHERE table_name = 'ssd_cin_episodes'
),
ranked AS (
    -- Rows whose id is on no other row: kept.
    SELECT *, 1 AS key_rank
    FROM ssd_cin_episodes
    WHERE NULLIF(cine_referral_id, '') IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM shared_ids AS s WHERE s.cine_referral_id = ssd_cin_episodes.cine_referral_id)
    UNION ALL
    -- Rows sharing an id: the first in contract column order is kept (an exact duplicate ties
    -- with its twin, so it counts once).
    SELECT x.*, row_number() OVER (PARTITION BY x.cine_referral_id ORDER BY x.cine_person_id NULLS LAST, x.cine_referral_date NULLS LAST, x.cine_referral_nfa NULLS LAST, x.cine_close_date NULLS LAST, x.cine_referral_team NULLS LAST) AS key_rank
    FROM ssd_cin_episodes AS x
    JOIN shared_ids AS s ON s.cine_referral_id = x.cine_referral_id
    UNION ALL
    -- Rows with no id: all kept, exact duplicates once. Written without NULLIF so that the
    -- landing's column statistics skip every row group with no such row.
    SELECT DISTINCT *, 1 AS key_rank
    FROM ssd_cin_episodes
    WHERE cine_referral_id IS NULL OR cine_referral_id = ''
)
SELECT
    cine_referral_id,
    NULLIF(cine_person_id, '') AS cine_person_id,
    cine_referral_date,
    is_yes(cine_referral_nfa) AS cine_referral_nfa,
    cine_close_date,
    cine_referral_team
FROM ranked
WHERE key_rank = 1
