-- household_counts: register households on 31 December aggregated by year, zone, household type,
-- citizenship group of the head and number of members (households = number of households in the
-- cell, persons = their members). Indicators on households read this table with
-- sum(households) / sum(persons).
SELECT
    year,
    zone,
    household_type,
    citizenship_group,
    members,
    (minors > 0) AS with_minors,
    (elderly > 0) AS with_elderly,
    count(*) AS households,
    sum(members) AS persons
FROM households
GROUP BY year, zone, household_type, citizenship_group, members, (minors > 0), (elderly > 0)
