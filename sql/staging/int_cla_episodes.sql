-- Care episodes with `is_short_break`: a legal status of V3 or V4 of the same child is open at
-- the episode's start date (kpis.md section 6). Short-break episodes are left out of every
-- children-in-care measure.
SELECT
    e.clae_cla_episode_id,
    e.clae_person_id,
    e.clae_cla_episode_start_date,
    e.start_reason_code,
    e.clae_cla_episode_ceased_date,
    e.ceased_reason_code,
    e.clae_entered_care_date,
    e.clae_cla_placement_id,
    COUNT(l.lega_person_id) > 0 AS is_short_break
FROM stg_cla_episodes AS e
LEFT JOIN stg_legal_status AS l
    ON l.lega_person_id = e.clae_person_id
   AND l.legal_status_code IN ('V3', 'V4')
   AND l.lega_legal_status_start_date <= e.clae_cla_episode_start_date
   AND (l.lega_legal_status_end_date IS NULL OR l.lega_legal_status_end_date > e.clae_cla_episode_start_date)
GROUP BY
    e.clae_cla_episode_id,
    e.clae_person_id,
    e.clae_cla_episode_start_date,
    e.start_reason_code,
    e.clae_cla_episode_ceased_date,
    e.ceased_reason_code,
    e.clae_entered_care_date,
    e.clae_cla_placement_id
