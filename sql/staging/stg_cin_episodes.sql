-- Referrals. The NFA flag follows the flag rule (Y, YES, TRUE, 1, trimmed, any case).
-- Exact duplicate rows count once. Of rows sharing a cine_referral_id, the first in contract column
-- order (ascending, NULLs last) is kept and the others are counted in the data-quality report;
-- rows with no cine_referral_id are all kept.
WITH distinct_rows AS (
    SELECT DISTINCT * FROM ssd_cin_episodes
),
ranked AS (
    SELECT
        *,
        row_number() OVER (PARTITION BY NULLIF(cine_referral_id, '') ORDER BY cine_referral_id NULLS LAST, cine_person_id NULLS LAST, cine_referral_date NULLS LAST, cine_referral_nfa NULLS LAST, cine_close_date NULLS LAST, cine_referral_team NULLS LAST) AS key_rank
    FROM distinct_rows
)
SELECT
    cine_referral_id,
    NULLIF(cine_person_id, '') AS cine_person_id,
    cine_referral_date,
    is_yes(cine_referral_nfa) AS cine_referral_nfa,
    cine_close_date,
    cine_referral_team
FROM ranked
WHERE NULLIF(cine_referral_id, '') IS NULL OR key_rank = 1
