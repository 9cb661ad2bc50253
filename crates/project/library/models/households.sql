-- households: one row per register household on 31 December of each year, read straight from the
-- register snapshots (the household is the register's own; no linkage needed).
-- zone, district: the household's (all members share the dwelling; max() picks one should the
-- register disagree); citizenship_group: that of the household head (INTESTATARIO), or of the
-- members when the head is missing. Ages at 31 December = year - birth_year.
-- household_type from the relations to the head: 'persona sola'; 'coppia senza figli' (head and
-- one CONIUGE/CONVIVENTE); 'coppia con figli' (head, one CONIUGE/CONVIVENTE and FIGLIO/A only);
-- 'monogenitore' (head and FIGLIO/A only); 'altro' (any other composition).
-- oecd_scale = OECD-modified equivalence scale: 1 for the first person aged 14+, 0.5 for every
-- other person aged 14+, 0.3 for every child under 14 (1 + 0.3 per further child when nobody is
-- 14+).
WITH members AS (
    SELECT
        CAST(year(ref_date) AS BIGINT) AS year,
        household_pid AS household,
        zone,
        district,
        relation,
        CAST(year(ref_date) AS BIGINT) - birth_year AS age,
        -- citizenship as a number (cheap to aggregate): 0 unknown, 1 Italian, 2 foreign
        CASE
            WHEN citizenship IS NULL THEN 0
            WHEN citizenship = 'ITA' THEN 1
            ELSE 2
        END AS citizenship_code
    FROM register
),
composition AS (
    SELECT
        year,
        household,
        max(zone) AS zone,
        max(district) AS district,
        coalesce(max(CASE WHEN relation = 'INTESTATARIO' THEN citizenship_code END), max(citizenship_code)) AS head_citizenship,
        count(*) AS members,
        sum(CASE WHEN age >= 14 THEN 1 ELSE 0 END) AS adults_14_plus,
        sum(CASE WHEN age < 14 THEN 1 ELSE 0 END) AS children_under_14,
        sum(CASE WHEN age < 18 THEN 1 ELSE 0 END) AS minors,
        sum(CASE WHEN age < 3 THEN 1 ELSE 0 END) AS children_0_2,
        sum(CASE WHEN age >= 65 THEN 1 ELSE 0 END) AS elderly,
        sum(CASE WHEN age >= 75 THEN 1 ELSE 0 END) AS elderly_75_plus,
        sum(CASE WHEN citizenship_code = 2 THEN 1 ELSE 0 END) AS foreign_members,
        sum(CASE WHEN relation = 'INTESTATARIO' THEN 1 ELSE 0 END) AS heads,
        sum(CASE WHEN relation IN ('CONIUGE', 'CONVIVENTE') THEN 1 ELSE 0 END) AS partners,
        sum(CASE WHEN relation = 'FIGLIO/A' THEN 1 ELSE 0 END) AS sons_daughters,
        sum(CASE WHEN relation IN ('INTESTATARIO', 'CONIUGE', 'CONVIVENTE', 'FIGLIO/A') THEN 0 ELSE 1 END) AS others
    FROM members
    GROUP BY year, household
)
SELECT
    year,
    household,
    zone,
    district,
    members,
    adults_14_plus,
    children_under_14,
    minors,
    children_0_2,
    elderly,
    elderly_75_plus,
    foreign_members,
    CASE
        WHEN members = 1 THEN 'persona sola'
        WHEN others = 0 AND heads = 1 AND partners = 1 AND sons_daughters = 0 THEN 'coppia senza figli'
        WHEN others = 0 AND heads = 1 AND partners = 1 AND sons_daughters > 0 THEN 'coppia con figli'
        WHEN others = 0 AND heads = 1 AND partners = 0 AND sons_daughters > 0 THEN 'monogenitore'
        ELSE 'altro'
    END AS household_type,
    CASE head_citizenship
        WHEN 1 THEN 'italiana'
        WHEN 2 THEN 'straniera'
        ELSE 'non nota'
    END AS citizenship_group,
    CASE
        WHEN adults_14_plus > 0 THEN 1.0 + 0.5 * (adults_14_plus - 1) + 0.3 * children_under_14
        ELSE 1.0 + 0.3 * (children_under_14 - 1)
    END AS oecd_scale
FROM composition
