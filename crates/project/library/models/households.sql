-- households: one row per register household on 31 December of each year.
-- Zone = the zone of the household head (INTESTATARIO), or of any member when the head is missing.
-- oecd_scale = OECD-modified equivalence scale: 1 for the first person aged 14+, 0.5 for every
-- other person aged 14+, 0.3 for every child under 14.
SELECT
    year,
    household,
    coalesce(max(CASE WHEN relation = 'INTESTATARIO' THEN zone END), max(zone)) AS zone,
    coalesce(max(CASE WHEN relation = 'INTESTATARIO' THEN district END), max(district)) AS district,
    count(*) AS members,
    sum(CASE WHEN age >= 14 THEN 1 ELSE 0 END) AS adults_14_plus,
    sum(CASE WHEN age < 14 THEN 1 ELSE 0 END) AS children_under_14,
    sum(CASE WHEN age < 18 THEN 1 ELSE 0 END) AS minors,
    sum(CASE WHEN age < 3 THEN 1 ELSE 0 END) AS children_0_2,
    sum(CASE WHEN age >= 65 THEN 1 ELSE 0 END) AS elderly,
    sum(CASE WHEN age >= 75 THEN 1 ELSE 0 END) AS elderly_75_plus,
    sum(CASE WHEN foreign_citizen THEN 1 ELSE 0 END) AS foreign_members,
    max(household_type) AS household_type,
    -- citizenship of the household head (of the first member when the head is missing)
    coalesce(max(CASE WHEN relation = 'INTESTATARIO' THEN citizenship_group END), min(citizenship_group)) AS citizenship_group,
    1.0
      + 0.5 * (CASE WHEN sum(CASE WHEN age >= 14 THEN 1 ELSE 0 END) > 0
                    THEN sum(CASE WHEN age >= 14 THEN 1 ELSE 0 END) - 1 ELSE 0 END)
      + 0.3 * (CASE WHEN sum(CASE WHEN age >= 14 THEN 1 ELSE 0 END) > 0
                    THEN sum(CASE WHEN age < 14 THEN 1 ELSE 0 END)
                    ELSE sum(CASE WHEN age < 14 THEN 1 ELSE 0 END) - 1 END) AS oecd_scale
FROM residents
GROUP BY year, household
