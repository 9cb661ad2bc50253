-- social_user_areas: one row per person, year and service area (anziani, minori, famiglie,
-- disabili, adulti, immigrati) with at least one case of that area active in the year.
-- zone, sex, age: from the person's latest-started case of that area in the year;
-- citizenship_group from the register of 31 December ('non nota' when not resident);
-- new_in_area: no case of that area active in the year before (NULL in the first year of data).
WITH per_area AS (
    SELECT
        year,
        person,
        area,
        first_value(zone ORDER BY start_date DESC, case_id DESC) AS zone,
        first_value(sex ORDER BY start_date DESC, case_id DESC) AS sex,
        first_value(age ORDER BY start_date DESC, case_id DESC) AS age,
        first_value(age_band ORDER BY start_date DESC, case_id DESC) AS age_band,
        count(*) AS cases,
        sum(CASE WHEN started_in_year THEN coalesce(amount, 0) ELSE 0 END) AS amount_started
    FROM social_case_years
    GROUP BY year, person, area
),
with_span AS (
    SELECT per_area.*, min(year) OVER () AS first_case_year
    FROM per_area
)
SELECT
    a.year,
    a.person,
    a.area,
    a.zone,
    a.sex,
    a.age,
    a.age_band,
    coalesce(r.citizenship_group, 'non nota') AS citizenship_group,
    a.cases,
    a.amount_started,
    CASE WHEN a.year > a.first_case_year THEN prev.person IS NULL END AS new_in_area
FROM with_span a
LEFT JOIN residents r ON r.year = a.year AND r.person = a.person
LEFT JOIN (SELECT year, person, area FROM social_case_years GROUP BY year, person, area) prev
  ON prev.year = a.year - 1 AND prev.person = a.person AND prev.area = a.area
