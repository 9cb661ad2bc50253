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
-- Flags by intervention type and area, for indicators on specific services.
WITH per_person AS (
    SELECT
        year,
        person,
        -- attributes of the latest-started case (aggregate first_value, no window)
        first_value(zone ORDER BY start_date DESC, case_id DESC) AS zone,
        first_value(sex ORDER BY start_date DESC, case_id DESC) AS sex,
        first_value(age ORDER BY start_date DESC, case_id DESC) AS age,
        first_value(age_band ORDER BY start_date DESC, case_id DESC) AS age_band,
        first_value(area ORDER BY start_date DESC, case_id DESC) AS main_area,
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
    FROM social_case_years
    GROUP BY year, person
),
with_previous AS (
    SELECT
        p.*,
        (prev.person IS NULL) AS not_user_year_before,
        -- the span of the case data (window over the whole table: no cross join)
        min(p.year) OVER () AS first_case_year,
        make_date(max(p.year) OVER (), 12, 31) AS last_day
    FROM per_person p
    LEFT JOIN (SELECT year, person FROM social_case_years GROUP BY year, person) prev
      ON prev.year = p.year - 1 AND prev.person = p.person
),
case_spans AS (
    SELECT person, case_id, min(start_date) AS start_date, max(end_date) AS end_date
    FROM social_case_years
    GROUP BY person, case_id
),
retention AS (
    -- new users with some case active 12 months after their first start of the year
    SELECT w.year, w.person
    FROM with_previous w
    WHERE w.not_user_year_before
      AND EXISTS (
          SELECT 1
          FROM case_spans c
          WHERE c.person = w.person
            AND c.start_date <= w.first_start_in_year + INTERVAL '12 months'
            AND (c.end_date IS NULL OR c.end_date >= w.first_start_in_year + INTERVAL '12 months')
      )
),
gol_years AS (
    -- years covered by GOL data: from the year of its first measure on
    SELECT y.year
    FROM (SELECT year FROM social_case_years GROUP BY year) y
    JOIN (SELECT min(start_date) AS first_start FROM gol) g
      ON y.year >= year(g.first_start)
),
gol_active AS (
    -- users with a GOL measure active in the same year (linked person)
    SELECT p.year, p.person
    FROM per_person p
    WHERE EXISTS (
        SELECT 1
        FROM link_records lg
        JOIN gol g
          ON g._file = lg.file AND g._line = lg.line
        WHERE lg.source = 'gol'
          AND lg.person = p.person
          AND g.start_date <= make_date(p.year, 12, 31)
          AND (g.end_date IS NULL OR g.end_date >= make_date(p.year, 1, 1))
    )
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
    CASE WHEN w.year > w.first_case_year THEN w.not_user_year_before END AS new_user,
    NOT w.open_at_year_end AS exited,
    CASE
        WHEN w.year = w.first_case_year OR NOT w.not_user_year_before THEN NULL
        WHEN w.first_start_in_year + INTERVAL '12 months' > w.last_day THEN NULL
        ELSE ret.person IS NOT NULL
    END AS retained_12m,
    CASE
        WHEN gy.year IS NULL THEN NULL
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
LEFT JOIN residents r ON r.year = w.year AND r.person = w.person
LEFT JOIN retention ret ON ret.year = w.year AND ret.person = w.person
LEFT JOIN gol_years gy ON gy.year = w.year
LEFT JOIN gol_active ga ON ga.year = w.year AND ga.person = w.person
