-- social_users: one row per person in the care of the social services in a year (at least one
-- case active during the year, see social_case_years).
-- zone, sex, age: from the person's latest-started case active in the year (the zone the service
-- recorded); main_area: the area of that case. citizenship_group: from the register of 31
-- December of that year ('non nota' when the person was not resident then).
-- Dynamics (from linked cases, so a person is followed across cases and zones):
--   new_user      : not a user in the year before (NULL in the first year of case data, when it
--                   cannot be known);
--   exited        : no case open after 31 December of the year (care ended during the year);
--   retained_12m  : for new users, still in care (some case active) 12 months after their first
--                   case start of the year; NULL when that date is after the last day of data;
--   in_gol        : also in a GOL labour-market measure active in the same year (NULL in years
--                   before the first year of GOL data).
-- Flags by intervention type, for indicators on specific services.
WITH bounds AS (
    SELECT
        min(year) AS first_year,
        make_date(max(year), 12, 31) AS last_day
    FROM social_case_years
),
gol_first AS (
    SELECT CAST(min(year(start_date)) AS BIGINT) AS first_year FROM gol
),
ranked AS (
    SELECT
        cy.*,
        row_number() OVER (PARTITION BY cy.year, cy.person ORDER BY cy.start_date DESC, cy.case_id DESC) AS recency
    FROM social_case_years cy
),
per_person AS (
    SELECT
        year,
        person,
        max(CASE WHEN recency = 1 THEN zone END) AS zone,
        max(CASE WHEN recency = 1 THEN sex END) AS sex,
        max(CASE WHEN recency = 1 THEN age END) AS age,
        max(CASE WHEN recency = 1 THEN age_band END) AS age_band,
        max(CASE WHEN recency = 1 THEN area END) AS main_area,
        count(DISTINCT area) AS areas,
        count(*) AS cases,
        sum(CASE WHEN started_in_year THEN 1 ELSE 0 END) AS cases_started,
        sum(CASE WHEN started_in_year THEN coalesce(amount, 0) ELSE 0 END) AS amount_started,
        min(start_date) FILTER (WHERE started_in_year) AS first_start_in_year,
        bool_or(open_at_year_end) AS open_at_year_end,
        bool_or(intervention_type = 'assistenza domiciliare') AS home_care,
        bool_or(intervention_type = 'assistenza domiciliare' AND area = 'anziani') AS home_care_elderly,
        bool_or(intervention_type = 'affido familiare') AS foster_care,
        bool_or(intervention_type = 'inserimento in comunità') AS residential_community,
        bool_or(intervention_type = 'inserimento in struttura') AS residential_care,
        bool_or(intervention_type = 'centro diurno') AS day_centre,
        bool_or(intervention_type = 'accoglienza abitativa temporanea') AS temporary_housing,
        bool_or(intervention_type IN ('contributo economico', 'contributo affitto', 'buoni spesa', 'assegno di cura')) AS cash_benefit,
        bool_or(area = 'anziani') AS area_elderly,
        bool_or(area = 'minori') AS area_minors,
        bool_or(area = 'famiglie') AS area_families,
        bool_or(area = 'disabili') AS area_disability,
        bool_or(area = 'adulti') AS area_adults,
        bool_or(area = 'immigrati') AS area_migrants
    FROM ranked
    GROUP BY year, person
),
with_previous AS (
    SELECT
        p.*,
        (prev.person IS NULL) AS not_user_year_before
    FROM per_person p
    LEFT JOIN (SELECT DISTINCT year, person FROM social_case_years) prev
      ON prev.year = p.year - 1 AND prev.person = p.person
),
retention AS (
    SELECT w.year, w.person
    FROM with_previous w
    JOIN (SELECT DISTINCT person, case_id, start_date, end_date FROM social_case_years) c2
      ON c2.person = w.person
    WHERE w.not_user_year_before
      AND c2.start_date <= w.first_start_in_year + INTERVAL '12 months'
      AND (c2.end_date IS NULL OR c2.end_date >= w.first_start_in_year + INTERVAL '12 months')
    GROUP BY w.year, w.person
),
gol_active AS (
    SELECT DISTINCT cy.year, cy.person
    FROM (SELECT DISTINCT year, person FROM social_case_years) cy
    JOIN link_records lg
      ON lg.source = 'gol' AND lg.person = cy.person
    JOIN gol g
      ON g._file = lg.file AND g._line = lg.line
    WHERE g.start_date <= make_date(cy.year, 12, 31)
      AND (g.end_date IS NULL OR g.end_date >= make_date(cy.year, 1, 1))
)
SELECT
    w.year,
    w.person,
    w.zone,
    w.sex,
    w.age,
    w.age_band,
    coalesce(r.citizenship_group, 'non nota') AS citizenship_group,
    (r.person IS NOT NULL) AS resident,
    w.main_area,
    w.areas,
    w.cases,
    w.cases_started,
    w.amount_started,
    CASE WHEN w.year > b.first_year THEN w.not_user_year_before END AS new_user,
    NOT w.open_at_year_end AS exited,
    CASE
        WHEN w.year = b.first_year OR NOT w.not_user_year_before THEN NULL
        WHEN w.first_start_in_year + INTERVAL '12 months' > b.last_day THEN NULL
        ELSE ret.person IS NOT NULL
    END AS retained_12m,
    CASE
        WHEN gf.first_year IS NULL OR w.year < gf.first_year THEN NULL
        ELSE ga.person IS NOT NULL
    END AS in_gol,
    w.home_care,
    w.home_care_elderly,
    w.foster_care,
    w.residential_community,
    w.residential_care,
    w.day_centre,
    w.temporary_housing,
    w.cash_benefit,
    w.area_elderly,
    w.area_minors,
    w.area_families,
    w.area_disability,
    w.area_adults,
    w.area_migrants
FROM with_previous w
CROSS JOIN bounds b
CROSS JOIN gol_first gf
LEFT JOIN residents r ON r.year = w.year AND r.person = w.person
LEFT JOIN retention ret ON ret.year = w.year AND ret.person = w.person
LEFT JOIN gol_active ga ON ga.year = w.year AND ga.person = w.person
