-- demographic_events: register events by year and zone, one row per event and zone it touches:
--   'nascita' (birth, zone of arrival), 'decesso' (death, zone of departure),
--   'immigrazione' (registration from another municipality or abroad, zone of arrival),
--   'emigrazione' (deregistration to another municipality or abroad, zone of departure),
--   'trasferimento in entrata' / 'trasferimento in uscita' (change of dwelling between two zones
--   of the city: one row in the zone of arrival, one in the zone of departure; moves within one
--   zone are left out).
-- flow: +1 for people arriving in the zone, -1 for people leaving it (0 for births and deaths),
-- so that sum(flow) over all moves is the net migration of a zone, and of the city (where the
-- moves between zones cancel out).
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
sides AS (
    SELECT * FROM (VALUES ('arrivo'), ('partenza')) AS s(side)
)
SELECT
    ev.year,
    ev.event_id,
    ev.person,
    CASE WHEN s.side = 'arrivo' THEN ev.zone_to ELSE ev.zone_from END AS zone,
    CASE
        WHEN ev.event_type = 'NASCITA' THEN 'nascita'
        WHEN ev.event_type = 'MORTE' THEN 'decesso'
        WHEN ev.event_type = 'IMMIGRAZIONE' THEN 'immigrazione'
        WHEN ev.event_type = 'EMIGRAZIONE' THEN 'emigrazione'
        WHEN s.side = 'arrivo' THEN 'trasferimento in entrata'
        ELSE 'trasferimento in uscita'
    END AS event,
    CASE
        WHEN ev.event_type IN ('NASCITA', 'MORTE') THEN 0
        WHEN s.side = 'arrivo' THEN 1
        ELSE -1
    END AS flow
FROM events ev
CROSS JOIN sides s
WHERE (s.side = 'arrivo' AND ev.event_type IN ('NASCITA', 'IMMIGRAZIONE') AND ev.zone_to IS NOT NULL)
   OR (s.side = 'partenza' AND ev.event_type IN ('MORTE', 'EMIGRAZIONE') AND ev.zone_from IS NOT NULL)
   OR (ev.event_type = 'CAMBIO_ABITAZIONE' AND ev.zone_to IS NOT NULL AND ev.zone_from IS NOT NULL
       AND ev.zone_to <> ev.zone_from)
