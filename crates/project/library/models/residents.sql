-- residents: one row per person resident on 31 December of each year (register snapshots).
-- person = the linked person of the register record (link_records); household = the register
-- household of that year, with its size and type from the households model.
-- Age at 31 December = year - birth_year; age_band: 0-14, 15-24, ..., 75-84, 85+.
-- citizenship_group: 'italiana' (ITA), 'straniera' (any other), 'non nota' (missing).
SELECT
    h.year,
    l.person,
    r.household_pid AS household,
    r.zone,
    r.district,
    r.sex,
    r.birth_year,
    h.year - r.birth_year AS age,
    CASE
        WHEN h.year - r.birth_year < 15 THEN '0-14'
        WHEN h.year - r.birth_year < 25 THEN '15-24'
        WHEN h.year - r.birth_year < 35 THEN '25-34'
        WHEN h.year - r.birth_year < 45 THEN '35-44'
        WHEN h.year - r.birth_year < 55 THEN '45-54'
        WHEN h.year - r.birth_year < 65 THEN '55-64'
        WHEN h.year - r.birth_year < 75 THEN '65-74'
        WHEN h.year - r.birth_year < 85 THEN '75-84'
        ELSE '85+'
    END AS age_band,
    r.citizenship,
    CASE
        WHEN r.citizenship IS NULL THEN 'non nota'
        WHEN r.citizenship = 'ITA' THEN 'italiana'
        ELSE 'straniera'
    END AS citizenship_group,
    (r.citizenship IS NOT NULL AND r.citizenship <> 'ITA') AS foreign_citizen,
    r.relation,
    h.members AS household_size,
    h.household_type,
    (h.members = 1) AS lives_alone
FROM register r
JOIN link_records l
  ON l.source = 'register' AND l.file = r._file AND l.line = r._line
JOIN households h
  ON h.year = year(r.ref_date) AND h.household = r.household_pid
