-- housing_applications: one row per application for public housing (ERP), with the year it was
-- filed, the zone recorded on the application, the applicant's sex and age at 31 December of
-- that year (from the application record), the linked person, and its current outcome.
-- waiting: the application is still waiting (outcome IN GRADUATORIA or IN ISTRUTTORIA).
SELECT
    CAST(year(h.application_date) AS BIGINT) AS year,
    h.application_id,
    l.person,
    h.zone,
    h.sex,
    CAST(year(h.application_date) AS BIGINT) - h.birth_year AS age,
    CASE
        WHEN h.birth_year IS NULL THEN 'non nota'
        WHEN year(h.application_date) - h.birth_year < 15 THEN '0-14'
        WHEN year(h.application_date) - h.birth_year < 25 THEN '15-24'
        WHEN year(h.application_date) - h.birth_year < 35 THEN '25-34'
        WHEN year(h.application_date) - h.birth_year < 45 THEN '35-44'
        WHEN year(h.application_date) - h.birth_year < 55 THEN '45-54'
        WHEN year(h.application_date) - h.birth_year < 65 THEN '55-64'
        WHEN year(h.application_date) - h.birth_year < 75 THEN '65-74'
        WHEN year(h.application_date) - h.birth_year < 85 THEN '75-84'
        ELSE '85+'
    END AS age_band,
    h.born_in_italy,
    h.application_date,
    h.members,
    h.isee,
    h.score,
    h.outcome,
    (h.outcome IN ('IN GRADUATORIA', 'IN ISTRUTTORIA')) AS waiting,
    (h.outcome = 'ASSEGNATA') AS assigned
FROM housing h
JOIN link_records l
  ON l.source = 'housing' AND l.file = h._file AND l.line = h._line
