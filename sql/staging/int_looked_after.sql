-- Children looked after at each period's as-at date: one of their episodes other than a short
-- break is open then. `care_started` is the earliest clae_entered_care_date of those open
-- episodes, so "the period of care started on or before X" is `care_started <= X`.
SELECT
    p.period,
    p.period_end,
    e.clae_person_id AS person_id,
    MIN(e.clae_entered_care_date) AS care_started
FROM reporting_periods AS p
JOIN int_cla_episodes AS e
    ON e.clae_cla_episode_start_date <= p.period_end
   AND (e.clae_cla_episode_ceased_date IS NULL OR e.clae_cla_episode_ceased_date > p.period_end)
WHERE NOT e.is_short_break AND e.clae_person_id IS NOT NULL
GROUP BY p.period, p.period_end, e.clae_person_id
