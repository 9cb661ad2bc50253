-- social_user_areas: one row per person, year and service area (anziani, minori, famiglie,
-- disabili, adulti, immigrati) with at least one case of that area active in the year.
-- zone, sex, age: from the person's latest-started case of that area in the year;
-- citizenship_group from the register of 31 December ('non nota' when not resident);
-- new_in_area: no case of that area active in the year before (NULL in the first year of data).
WITH first_year AS (
    SELECT min(year) AS year FROM social_case_years
),
ranked AS (
    SELECT
        cy.*,
        row_number() OVER (PARTITION BY cy.year, cy.person, cy.area ORDER BY cy.start_date DESC, cy.case_id DESC) AS recency
    FROM social_case_years cy
),
per_area AS (
    SELECT
        year,
        person,
        area,
        max(CASE WHEN recency = 1 THEN zone END) AS zone,
        max(CASE WHEN recency = 1 THEN sex END) AS sex,
        max(CASE WHEN recency = 1 THEN age END) AS age,
        max(CASE WHEN recency = 1 THEN age_band END) AS age_band,
        count(*) AS cases,
        sum(CASE WHEN started_in_year THEN coalesce(amount, 0) ELSE 0 END) AS amount_started
    FROM ranked
    GROUP BY year, person, area
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
    CASE WHEN a.year > f.year THEN prev.person IS NULL END AS new_in_area
FROM per_area a
CROSS JOIN first_year f
LEFT JOIN residents r ON r.year = a.year AND r.person = a.person
LEFT JOIN per_area prev
  ON prev.year = a.year - 1 AND prev.person = a.person AND prev.area = a.area
