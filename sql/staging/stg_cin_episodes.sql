-- Referrals as the measures read them.
-- Exact duplicate rows count once; the NFA flag follows the flag rule (Y, YES, TRUE, 1, any
-- case, trimmed); an empty person id belongs to no child.
SELECT
    cine_referral_id,
    NULLIF(cine_person_id, '') AS cine_person_id,
    cine_referral_date,
    is_yes(cine_referral_nfa) AS cine_referral_nfa,
    cine_close_date,
    cine_referral_team
FROM (SELECT DISTINCT * FROM ssd_cin_episodes) AS referrals
