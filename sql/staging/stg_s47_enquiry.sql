-- Section 47 enquiries: exact duplicates count once; an empty id links nothing.
SELECT
    NULLIF(s47e_s47_enquiry_id, '') AS s47e_s47_enquiry_id,
    NULLIF(s47e_person_id, '') AS s47e_person_id,
    s47e_referral_id,
    s47e_s47_start_date,
    s47e_s47_end_date
FROM (SELECT DISTINCT * FROM ssd_s47_enquiry) AS enquiries
