-- isee_households: per year, one row per resident household that filed at least one ISEE
-- declaration (DSU) in that year, with its latest declaration of the year (the latest
-- submission date; a correction re-submitted under a later protocol replaces the earlier one).
-- The declarant is linked to the register household of 31 December of the submission year;
-- declarants not resident on that date have no household and are left out.
-- persons and oecd_scale come from the register composition of the household (not from the
-- DSU); eq_income = ISR / OECD-modified scale; poverty_line = 0.6 x the persons-weighted median
-- of eq_income over all declaring households of the year (city-wide).
WITH declarations AS (
    SELECT
        CAST(year(i.submission_date) AS BIGINT) AS year,
        lh.household,
        i.isee,
        i.isr,
        i.isp,
        i.members AS dsu_members,
        i.equivalence_scale AS isee_scale,
        i.isee_type,
        i.submission_date,
        row_number() OVER (
            PARTITION BY year(i.submission_date), lh.household
            ORDER BY i.submission_date DESC, i.protocol DESC
        ) AS rank_in_year
    FROM isee i
    JOIN link_records l
      ON l.source = 'isee' AND l.file = i._file AND l.line = i._line
    JOIN link_households lh
      ON lh.year = year(i.submission_date) AND lh.person = l.person
),
declaring AS (
    SELECT
        d.year,
        d.household,
        h.zone,
        h.district,
        h.household_type,
        h.citizenship_group,
        h.members AS persons,
        h.minors,
        h.elderly,
        h.oecd_scale,
        d.dsu_members,
        d.isee_scale,
        d.isee_type,
        d.submission_date,
        d.isee,
        d.isr,
        d.isp,
        d.isr / h.oecd_scale AS eq_income
    FROM declarations d
    JOIN households h
      ON h.year = d.year AND h.household = d.household
    WHERE d.rank_in_year = 1
),
cumulated AS (
    SELECT
        declaring.*,
        sum(persons) OVER (PARTITION BY year ORDER BY eq_income
                           ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cum_persons,
        sum(persons) OVER (PARTITION BY year) AS total_persons
    FROM declaring
),
with_median AS (
    -- the persons-weighted median: the lowest income at which the cumulated persons reach half
    -- of the year's total
    SELECT
        cumulated.*,
        min(CASE WHEN 2 * cum_persons >= total_persons THEN eq_income END)
            OVER (PARTITION BY year) AS median_eq_income
    FROM cumulated
)
SELECT
    year,
    household,
    zone,
    district,
    household_type,
    citizenship_group,
    persons,
    minors,
    elderly,
    oecd_scale,
    dsu_members,
    isee_scale,
    isee_type,
    submission_date,
    isee,
    isr,
    isp,
    eq_income,
    median_eq_income,
    0.6 * median_eq_income AS poverty_line,
    (eq_income < 0.6 * median_eq_income) AS at_risk_of_poverty,
    (isee < 9360) AS isee_below_9360
FROM with_median
