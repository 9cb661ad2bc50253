-- social_transitions: one row per person in the care of the social services in two consecutive
-- years (year - 1 and year), with the main service area of each year (the area of the person's
-- latest-started case active in that year, see social_users): from_area -> to_area. Rows with
-- from_area = to_area are people who stayed in the same area. zone, sex, age: those of the
-- later year.
SELECT
    cur.year,
    cur.person,
    cur.zone,
    cur.sex,
    cur.age,
    cur.age_band,
    cur.citizenship_group,
    prev.main_area AS from_area,
    cur.main_area AS to_area,
    (prev.main_area <> cur.main_area) AS changed_area
FROM social_users cur
JOIN social_users prev
  ON prev.year = cur.year - 1 AND prev.person = cur.person
