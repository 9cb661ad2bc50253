-- min_income_households: per year, one row per household that received a minimum-income benefit
-- (SIA, REI, RdC, PdC, ADI, SFL) during the year, i.e. with a spell starting on or before 31
-- December and ending (or still open) on or after 1 January.
-- The applicant is linked to the register: household and zone of 31 December of that year, or of
-- the year before when the applicant was no longer resident at the end of the year; applicants
-- resident in neither year are left out (no zone). persons, household_type, minors: from the
-- register composition of that household on that 31 December.
-- paid_in_year = monthly amount x months of the spell that fall in the year, summed over spells.
WITH years AS (
    SELECT DISTINCT CAST(year(ref_date) AS BIGINT) AS year FROM register
),
last_year AS (
    SELECT max(year) AS year FROM years
),
spells AS (
    SELECT
        y.year,
        l.person,
        m.measure,
        m.start_month,
        m.members,
        m.monthly_amount,
        m.status,
        greatest(m.start_month, make_date(y.year, 1, 1)) AS from_date,
        least(coalesce(m.end_date, make_date(ly.year, 12, 31)), make_date(y.year, 12, 31)) AS to_date
    FROM min_income m
    JOIN link_records l
      ON l.source = 'min_income' AND l.file = m._file AND l.line = m._line
    CROSS JOIN last_year ly
    JOIN years y
      ON m.start_month <= make_date(y.year, 12, 31)
     AND (m.end_date IS NULL OR m.end_date >= make_date(y.year, 1, 1))
),
per_person AS (
    SELECT
        year,
        person,
        max(members) AS dsu_members,
        -- the measure of the latest spell of the year
        max(measure) FILTER (WHERE start_month = latest_start) AS measure,
        sum(monthly_amount * (
            (date_part('year', to_date) * 12 + date_part('month', to_date))
          - (date_part('year', from_date) * 12 + date_part('month', from_date)) + 1
        )) AS paid_in_year,
        min(start_month) AS first_start
    FROM (
        SELECT spells.*, max(start_month) OVER (PARTITION BY year, person) AS latest_start
        FROM spells
    ) s
    GROUP BY year, person
),
placed AS (
    -- the register of 31 December of the year, or of the year before when the applicant was no
    -- longer resident at the end of the year (one join, the later year preferred)
    SELECT
        p.*,
        r.year AS register_year,
        r.household AS register_household,
        r.zone,
        r.district,
        r.citizenship_group,
        row_number() OVER (PARTITION BY p.year, p.person ORDER BY r.year DESC) AS pick
    FROM per_person p
    JOIN residents r
      ON r.person = p.person AND (r.year = p.year OR r.year = p.year - 1)
)
SELECT
    placed.year,
    placed.register_household AS household,
    max(placed.zone) AS zone,
    max(placed.district) AS district,
    max(placed.citizenship_group) AS citizenship_group,
    max(h.household_type) AS household_type,
    coalesce(max(h.members), max(placed.dsu_members)) AS persons,
    coalesce(max(h.minors), 0) AS minors,
    max(placed.measure) AS measure,
    count(*) AS applicants,
    sum(placed.paid_in_year) AS paid_in_year,
    (min(placed.first_start) >= make_date(placed.year, 1, 1)) AS new_in_year
FROM placed
LEFT JOIN households h
  ON h.year = placed.register_year AND h.household = placed.register_household
WHERE placed.pick = 1
GROUP BY placed.year, placed.register_household
