-- accidents_territory: INAIL workplace accidents (aggregated by year and ATECO section) with the
-- territory INAIL gives them for mapped to a code of the territory hierarchy, in column zone:
-- 'Comune di Modena' -> municipality 036023, 'Provincia di Modena' -> province 036. Rows for an
-- unknown territory are left out. The cube computes these rows only at that level and above.
SELECT
    a.year,
    CASE a.territory
        WHEN 'Comune di Modena' THEN '036023'
        WHEN 'Provincia di Modena' THEN '036'
    END AS zone,
    a.territory,
    a.ateco_section,
    a.sector,
    a.reported,
    a.recognised,
    a.fatal
FROM accidents a
WHERE a.territory IN ('Comune di Modena', 'Provincia di Modena')
