-- social_case_years: one row per social-service case (cartella sociale) and calendar year in
-- which it was active: started on or before 31 December and not ended before 1 January.
-- person = the linked person of the case; zone = the zone recorded on the case; age at 31
-- December = year - birth year (from the case record).
-- started_in_year: the case started in that year; open_at_year_end: the case was still open
-- after 31 December of that year (no end date, or a later one).
WITH years AS (
    SELECT DISTINCT CAST(year(ref_date) AS BIGINT) AS year FROM register
)
SELECT
    y.year,
    c.case_id,
    l.person,
    c.zone,
    c.sex,
    c.birth_year,
    y.year - c.birth_year AS age,
    CASE
        WHEN y.year - c.birth_year < 15 THEN '0-14'
        WHEN y.year - c.birth_year < 25 THEN '15-24'
        WHEN y.year - c.birth_year < 35 THEN '25-34'
        WHEN y.year - c.birth_year < 45 THEN '35-44'
        WHEN y.year - c.birth_year < 55 THEN '45-54'
        WHEN y.year - c.birth_year < 65 THEN '55-64'
        WHEN y.year - c.birth_year < 75 THEN '65-74'
        WHEN y.year - c.birth_year < 85 THEN '75-84'
        ELSE '85+'
    END AS age_band,
    c.area,
    c.intervention_type,
    c.start_date,
    c.end_date,
    c.amount,
    (c.start_date >= make_date(y.year, 1, 1)) AS started_in_year,
    (c.end_date IS NULL OR c.end_date > make_date(y.year, 12, 31)) AS open_at_year_end
FROM social_cases c
JOIN link_records l
  ON l.source = 'social_cases' AND l.file = c._file AND l.line = c._line
JOIN years y
  ON c.start_date <= make_date(y.year, 12, 31)
 AND (c.end_date IS NULL OR c.end_date >= make_date(y.year, 1, 1))
