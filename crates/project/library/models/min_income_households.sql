-- min_income_households: per year, one row per household that received a minimum-income benefit
-- (SIA, REI, RdC, PdC, ADI, SFL) during the year, i.e. with a spell starting on or before 31
-- December and ending (or still open) on or after 1 January.
-- The applicant is linked to the register: household and zone of 31 December of that year, or of
-- the year before when the applicant was no longer resident at the end of the year; applicants
-- resident in neither year are left out (no zone). persons, household_type, minors: from the
-- register composition of that household on that 31 December.
-- paid_in_year = monthly amount x months of the spell that fall in the year, summed over spells
-- (open spells count up to December). measure: the measure of the latest spell of the year.
WITH years AS (
    SELECT DISTINCT CAST(year(ref_date) AS BIGINT) AS year FROM register
),
spells AS (
    SELECT
        y.year,
        l.person,
        m.measure,
        m.start_month,
        m.members,
        m.monthly_amount,
        greatest(m.start_month, make_date(y.year, 1, 1)) AS from_date,
        least(coalesce(m.end_date, make_date(y.year, 12, 31)), make_date(y.year, 12, 31)) AS to_date
    FROM min_income m
    JOIN link_records l
      ON l.source = 'min_income' AND l.file = m._file AND l.line = m._line
    JOIN years y
      ON m.start_month <= make_date(y.year, 12, 31)
     AND (m.end_date IS NULL OR m.end_date >= make_date(y.year, 1, 1))
),
per_person AS (
    SELECT
        year,
        person,
        max(members) AS dsu_members,
        first_value(measure ORDER BY start_month DESC) AS measure,
        sum(monthly_amount * (
            (date_part('year', to_date) * 12 + date_part('month', to_date))
          - (date_part('year', from_date) * 12 + date_part('month', from_date)) + 1
        )) AS paid_in_year,
        min(start_month) AS first_start
    FROM spells
    GROUP BY year, person
),
placed AS (
    -- the register of 31 December of the year, or of the year before when the applicant was no
    -- longer resident at the end of the year (two left joins on the residents' unique key)
    SELECT
        p.*,
        CASE WHEN r0.person IS NOT NULL THEN p.year ELSE p.year - 1 END AS register_year,
        coalesce(r0.household, r1.household) AS register_household,
        coalesce(r0.zone, r1.zone) AS zone,
        coalesce(r0.district, r1.district) AS district,
        coalesce(r0.citizenship_group, r1.citizenship_group) AS citizenship_group
    FROM per_person p
    LEFT JOIN residents r0 ON r0.year = p.year AND r0.person = p.person
    LEFT JOIN residents r1 ON r1.year = p.year - 1 AND r1.person = p.person
)
SELECT
    pl.year,
    pl.register_household AS household,
    max(pl.zone) AS zone,
    max(pl.district) AS district,
    max(pl.citizenship_group) AS citizenship_group,
    max(h.household_type) AS household_type,
    coalesce(max(h.members), max(pl.dsu_members)) AS persons,
    coalesce(max(h.minors), 0) AS minors,
    max(pl.measure) AS measure,
    count(*) AS applicants,
    sum(pl.paid_in_year) AS paid_in_year,
    (min(pl.first_start) >= make_date(pl.year, 1, 1)) AS new_in_year
FROM placed pl
LEFT JOIN households h
  ON h.year = pl.register_year AND h.household = pl.register_household
WHERE pl.zone IS NOT NULL
GROUP BY pl.year, pl.register_household
