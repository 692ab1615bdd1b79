-- cina_assessment_auth_date 1900-01-01 means "not yet authorised": repaired to NULL.
SELECT
    'ssd_cin_assessments' AS table_name,
    'auth_date_1900_as_null' AS rule,
    COUNT(*) AS rows_seen,
    COUNT(CASE WHEN cina_assessment_auth_date = DATE '1900-01-01' THEN 1 END) AS rows_affected
FROM ssd_cin_assessments
