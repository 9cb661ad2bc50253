-- health_estimates: the PASSI survey prevalences (AUSL, aggregated: per cent of residents aged
-- 18-69, with the 95% confidence interval and the sample size), as delivered, with the sex
-- categories recoded to the register's codes (uomini -> M, donne -> F) so that the sex breakdown
-- lines up with the other indicators. year = last year of the pooled period (period_label).
SELECT
    indicator,
    area,
    period_label,
    year,
    breakdown,
    CASE
        WHEN breakdown = 'sesso' AND breakdown_value = 'uomini' THEN 'M'
        WHEN breakdown = 'sesso' AND breakdown_value = 'donne' THEN 'F'
        ELSE breakdown_value
    END AS breakdown_value,
    sample_size,
    prevalence,
    ci_lower,
    ci_upper
FROM health_survey
