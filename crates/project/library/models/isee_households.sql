-- isee_households: per year, one row per resident household that filed at least one ISEE
-- declaration (DSU) in that year, with its latest declaration of the year (the latest
-- submission date; a correction re-submitted under a later protocol replaces the earlier one).
-- The declarant is linked to the register household of 31 December of the submission year;
-- declarants not resident on that date have no household and are left out.
-- persons and oecd_scale come from the register composition of the household (not from the
-- DSU); eq_income = ISR / OECD-modified scale; poverty_line = 0.6 x the persons-weighted median
-- of eq_income over all declaring households of the year (city-wide).
WITH declarations AS (
    -- the latest declaration of the year of each household (aggregate first_value: much cheaper
    -- than a row_number window over many small partitions)
    SELECT
        CAST(year(i.submission_date) AS BIGINT) AS year,
        lh.household,
        first_value(i.isee ORDER BY i.submission_date DESC, i.protocol DESC) AS isee,
        first_value(i.isr ORDER BY i.submission_date DESC, i.protocol DESC) AS isr,
        first_value(i.isp ORDER BY i.submission_date DESC, i.protocol DESC) AS isp,
        first_value(i.members ORDER BY i.submission_date DESC, i.protocol DESC) AS dsu_members,
        first_value(i.equivalence_scale ORDER BY i.submission_date DESC, i.protocol DESC) AS isee_scale,
        first_value(i.isee_type ORDER BY i.submission_date DESC, i.protocol DESC) AS isee_type,
        max(i.submission_date) AS submission_date,
        count(*) AS declarations
    FROM isee i
    JOIN link_records l
      ON l.source = 'isee' AND l.file = i._file AND l.line = i._line
    JOIN link_households lh
      ON lh.year = year(i.submission_date) AND lh.person = l.person
    GROUP BY year(i.submission_date), lh.household
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
        d.declarations,
        d.isee,
        d.isr,
        d.isp,
        d.isr / h.oecd_scale AS eq_income
    FROM declarations d
    JOIN households h
      ON h.year = d.year AND h.household = d.household
),
with_median AS (
    -- the persons-weighted median (Eurostat's definition, as `quantile_w` computes it: the two
    -- middle incomes are averaged when the cumulated persons hit exactly half the total); the
    -- same function gives `median_equivalised_isee_income`, so line and median agree
    SELECT declaring.*, m.median_eq_income
    FROM declaring
    JOIN (
        SELECT year, quantile_w(eq_income, persons, 0.5) AS median_eq_income
        FROM declaring
        GROUP BY year
    ) m ON m.year = declaring.year
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
    declarations,
    isee,
    isr,
    isp,
    eq_income,
    median_eq_income,
    0.6 * median_eq_income AS poverty_line,
    (eq_income < 0.6 * median_eq_income) AS at_risk_of_poverty,
    (isee < 9360) AS isee_below_9360
FROM with_median
