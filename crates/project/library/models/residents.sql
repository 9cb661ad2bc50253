-- residents: one row per person resident on 31 December of each year (register snapshots).
-- Person = linked person of the register record; household = the register household of that year.
-- Age at 31 December = year - birth_year. Household type from the relations to the household head
-- (INTESTATARIO): 'persona sola', 'coppia senza figli', 'coppia con figli', 'monogenitore', 'altro'.
WITH reg AS (
    SELECT
        CAST(year(r.ref_date) AS BIGINT) AS year,
        l.person,
        r.household_pid AS household,
        r.zone,
        r.district,
        r.sex,
        r.birth_year,
        r.citizenship,
        r.relation
    FROM register r
    JOIN link_records l
      ON l.source = 'register' AND l.file = r._file AND l.line = r._line
),
reg_households AS (
    SELECT
        year,
        household,
        count(*) AS members,
        sum(CASE WHEN relation IN ('CONIUGE', 'CONVIVENTE') THEN 1 ELSE 0 END) AS partners,
        sum(CASE WHEN relation = 'FIGLIO/A' THEN 1 ELSE 0 END) AS sons_daughters,
        sum(CASE WHEN relation IN ('INTESTATARIO', 'CONIUGE', 'CONVIVENTE', 'FIGLIO/A') THEN 0 ELSE 1 END) AS others,
        sum(CASE WHEN relation = 'INTESTATARIO' THEN 1 ELSE 0 END) AS heads
    FROM reg
    GROUP BY year, household
)
SELECT
    reg.year,
    reg.person,
    reg.household,
    reg.zone,
    reg.district,
    reg.sex,
    reg.birth_year,
    reg.year - reg.birth_year AS age,
    CASE
        WHEN reg.year - reg.birth_year < 15 THEN '0-14'
        WHEN reg.year - reg.birth_year < 25 THEN '15-24'
        WHEN reg.year - reg.birth_year < 35 THEN '25-34'
        WHEN reg.year - reg.birth_year < 45 THEN '35-44'
        WHEN reg.year - reg.birth_year < 55 THEN '45-54'
        WHEN reg.year - reg.birth_year < 65 THEN '55-64'
        WHEN reg.year - reg.birth_year < 75 THEN '65-74'
        WHEN reg.year - reg.birth_year < 85 THEN '75-84'
        ELSE '85+'
    END AS age_band,
    reg.citizenship,
    CASE
        WHEN reg.citizenship IS NULL THEN 'non nota'
        WHEN reg.citizenship = 'ITA' THEN 'italiana'
        ELSE 'straniera'
    END AS citizenship_group,
    (reg.citizenship IS NOT NULL AND reg.citizenship <> 'ITA') AS foreign_citizen,
    reg.relation,
    h.members AS household_size,
    CASE
        WHEN h.members = 1 THEN 'persona sola'
        WHEN h.others = 0 AND h.heads = 1 AND h.partners = 1 AND h.sons_daughters = 0 THEN 'coppia senza figli'
        WHEN h.others = 0 AND h.heads = 1 AND h.partners = 1 AND h.sons_daughters > 0 THEN 'coppia con figli'
        WHEN h.others = 0 AND h.heads = 1 AND h.partners = 0 AND h.sons_daughters > 0 THEN 'monogenitore'
        ELSE 'altro'
    END AS household_type,
    (h.members = 1) AS lives_alone
FROM reg
JOIN reg_households h
  ON h.year = reg.year AND h.household = reg.household
