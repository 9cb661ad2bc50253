-- gol_participants: one row per person and year with at least one measure of the GOL programme
-- (Garanzia di occupabilità dei lavoratori) active during the year (started on or before 31
-- December, not ended before 1 January).
-- zone, sex, age, citizenship: from the register of 31 December of that year, or of the year
-- before when the person was no longer resident; people resident in neither year are left out
-- (no zone). ended_in_year: at least one measure ended during the year; employed_in_year: at
-- least one measure ended during the year with outcome 'occupato'.
WITH years AS (
    SELECT DISTINCT CAST(year(ref_date) AS BIGINT) AS year FROM register
),
active AS (
    SELECT
        y.year,
        l.person,
        count(*) AS measures,
        sum(CASE WHEN g.start_date >= make_date(y.year, 1, 1) THEN 1 ELSE 0 END) AS measures_started,
        max(g.pathway) AS max_pathway,
        bool_or(g.end_date IS NOT NULL AND g.end_date <= make_date(y.year, 12, 31)) AS ended_in_year,
        bool_or(g.end_date IS NOT NULL AND g.end_date <= make_date(y.year, 12, 31) AND g.outcome = 'occupato') AS employed_in_year,
        bool_or(g.end_date IS NOT NULL AND g.end_date <= make_date(y.year, 12, 31) AND g.outcome = 'interrotto') AS dropped_out_in_year
    FROM gol g
    JOIN link_records l
      ON l.source = 'gol' AND l.file = g._file AND l.line = g._line
    JOIN years y
      ON g.start_date <= make_date(y.year, 12, 31)
     AND (g.end_date IS NULL OR g.end_date >= make_date(y.year, 1, 1))
    GROUP BY y.year, l.person
),
placed AS (
    -- the register of 31 December of the year, or of the year before (two left joins on the
    -- residents' unique key; the later year preferred)
    SELECT
        a.*,
        coalesce(r0.zone, r1.zone) AS zone,
        coalesce(r0.sex, r1.sex) AS sex,
        coalesce(r0.birth_year, r1.birth_year) AS birth_year,
        coalesce(r0.citizenship_group, r1.citizenship_group) AS citizenship_group
    FROM active a
    LEFT JOIN residents r0 ON r0.year = a.year AND r0.person = a.person
    LEFT JOIN residents r1 ON r1.year = a.year - 1 AND r1.person = a.person
)
SELECT
    year,
    person,
    zone,
    sex,
    year - birth_year AS age,
    CASE
        WHEN year - birth_year < 15 THEN '0-14'
        WHEN year - birth_year < 25 THEN '15-24'
        WHEN year - birth_year < 35 THEN '25-34'
        WHEN year - birth_year < 45 THEN '35-44'
        WHEN year - birth_year < 55 THEN '45-54'
        WHEN year - birth_year < 65 THEN '55-64'
        WHEN year - birth_year < 75 THEN '65-74'
        WHEN year - birth_year < 85 THEN '75-84'
        ELSE '85+'
    END AS age_band,
    citizenship_group,
    measures,
    measures_started,
    max_pathway,
    ended_in_year,
    employed_in_year,
    dropped_out_in_year
FROM placed
WHERE zone IS NOT NULL
