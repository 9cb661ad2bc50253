-- housing_waiting: the public-housing waiting list at 31 December of each year: one row per year
-- and application filed on or before that day that is still waiting today (outcome IN
-- GRADUATORIA or IN ISTRUTTORIA), with waiting_days = days from the application to 31 December
-- of the year. The source holds only the current outcome (no assignment dates), so for past
-- years the list lacks applications that were waiting then and have been decided since: past
-- years' lists are lower bounds, and their waiting times are those of the applications still
-- waiting now.
WITH years AS (
    SELECT DISTINCT CAST(year(ref_date) AS BIGINT) AS year FROM register
)
SELECT
    y.year,
    a.application_id,
    a.person,
    a.zone,
    a.sex,
    a.age_band,
    a.members,
    a.application_date,
    a.outcome,
    make_date(y.year, 12, 31) - a.application_date AS waiting_days
FROM housing_applications a
JOIN years y
  ON a.application_date <= make_date(y.year, 12, 31)
WHERE a.waiting
