-- resident_counts: residents on 31 December aggregated by year, zone, sex, single year of age,
-- citizenship group and living alone (persons = number of residents in the cell). The same
-- population as the person-level model residents, 50-70 times fewer rows: indicators on the
-- resident population read this table with sum(persons) and filters on age, sex, citizenship.
SELECT
    year,
    zone,
    sex,
    age,
    age_band,
    citizenship_group,
    foreign_citizen,
    lives_alone,
    count(*) AS persons
FROM residents
GROUP BY year, zone, sex, age, age_band, citizenship_group, foreign_citizen, lives_alone
