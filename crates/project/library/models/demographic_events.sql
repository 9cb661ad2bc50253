-- demographic_events: register events by year and zone, one row per event and zone it touches:
--   'nascita' (birth, zone of arrival), 'decesso' (death, zone of departure),
--   'immigrazione' (registration from another municipality or abroad, zone of arrival),
--   'emigrazione' (deregistration to another municipality or abroad, zone of departure),
--   'trasferimento in entrata' / 'trasferimento in uscita' (change of dwelling between two zones
--   of the city: one row in the zone of arrival, one in the zone of departure; moves within one
--   zone are left out).
-- flow: +1 for people arriving in the zone, -1 for people leaving it (0 for births and deaths).
-- sex and age (year - birth year) from the person's register records when known.
WITH events AS (
    SELECT
        CAST(year(e.event_date) AS BIGINT) AS year,
        e.event_id,
        l.person,
        e.event_type,
        e.zone_from,
        e.zone_to
    FROM register_events e
    JOIN link_records l
      ON l.source = 'register_events' AND l.file = e._file AND l.line = e._line
),
people AS (
    SELECT person, max(sex) AS sex, max(birth_year) AS birth_year
    FROM residents
    GROUP BY person
),
rows_out AS (
    SELECT year, event_id, person, zone_to AS zone, 'nascita' AS event, 0 AS flow
    FROM events WHERE event_type = 'NASCITA' AND zone_to IS NOT NULL
    UNION ALL
    SELECT year, event_id, person, zone_from AS zone, 'decesso' AS event, 0 AS flow
    FROM events WHERE event_type = 'MORTE' AND zone_from IS NOT NULL
    UNION ALL
    SELECT year, event_id, person, zone_to AS zone, 'immigrazione' AS event, 1 AS flow
    FROM events WHERE event_type = 'IMMIGRAZIONE' AND zone_to IS NOT NULL
    UNION ALL
    SELECT year, event_id, person, zone_from AS zone, 'emigrazione' AS event, -1 AS flow
    FROM events WHERE event_type = 'EMIGRAZIONE' AND zone_from IS NOT NULL
    UNION ALL
    SELECT year, event_id, person, zone_to AS zone, 'trasferimento in entrata' AS event, 1 AS flow
    FROM events WHERE event_type = 'CAMBIO_ABITAZIONE' AND zone_to IS NOT NULL AND zone_from IS NOT NULL AND zone_to <> zone_from
    UNION ALL
    SELECT year, event_id, person, zone_from AS zone, 'trasferimento in uscita' AS event, -1 AS flow
    FROM events WHERE event_type = 'CAMBIO_ABITAZIONE' AND zone_to IS NOT NULL AND zone_from IS NOT NULL AND zone_to <> zone_from
)
SELECT
    o.year,
    o.event_id,
    o.person,
    o.zone,
    o.event,
    o.flow,
    coalesce(p.sex, 'non noto') AS sex,
    o.year - p.birth_year AS age,
    CASE
        WHEN p.birth_year IS NULL THEN 'non nota'
        WHEN o.year - p.birth_year < 15 THEN '0-14'
        WHEN o.year - p.birth_year < 25 THEN '15-24'
        WHEN o.year - p.birth_year < 35 THEN '25-34'
        WHEN o.year - p.birth_year < 45 THEN '35-44'
        WHEN o.year - p.birth_year < 55 THEN '45-54'
        WHEN o.year - p.birth_year < 65 THEN '55-64'
        WHEN o.year - p.birth_year < 75 THEN '65-74'
        WHEN o.year - p.birth_year < 85 THEN '75-84'
        ELSE '85+'
    END AS age_band
FROM rows_out o
LEFT JOIN people p ON p.person = o.person
