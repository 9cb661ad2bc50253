//! Household records from the warehouse: the models `isee_households` (income and wealth of the
//! households that filed an ISEE declaration), `households` (composition), `register` (ages,
//! years of residence) and `min_income_households` (who receives a minimum income), for one
//! year, read through `engine`'s DataFusion session.
//!
//! The simulated population is the households with an ISEE declaration in the year: they are
//! the ones whose income the lab knows. Households that never declared are outside it.

use crate::microsim::MicrosimError;
use crate::microsim::simulate::{Household, Value};
use arrow::array::{Array, AsArray};
use arrow::datatypes::{DataType, Float64Type};
use engine::{Engine, Warehouse};
use std::collections::BTreeMap;
use std::path::Path;

/// The household variables rules may read: (name, meaning).
pub const VARIABLES: &[(&str, &str)] = &[
    (
        "isee",
        "ISEE of the household's latest declaration of the year (euro)",
    ),
    (
        "isr",
        "ISR: the declaration's income indicator, yearly household income (euro)",
    ),
    ("isp", "ISP: the declaration's wealth indicator (euro)"),
    (
        "isee_scale",
        "the ISEE equivalence scale of the declaration",
    ),
    (
        "oecd_scale",
        "OECD-modified equivalence scale from the register composition",
    ),
    ("eq_income", "ISR / oecd_scale (euro)"),
    ("members", "members in the register on 31 December"),
    ("minors", "members under 18"),
    ("children_under_14", "members under 14"),
    ("children_0_2", "members under 3"),
    ("adults_14_plus", "members aged 14 or more"),
    ("over_60", "members aged 60 or more"),
    ("elderly", "members aged 65 or more"),
    ("elderly_75_plus", "members aged 75 or more"),
    (
        "head_age",
        "age of the register's household head (the eldest member if none)",
    ),
    (
        "household_type",
        "persona sola, coppia senza figli, coppia con figli, monogenitore, altro",
    ),
    (
        "citizenship_group",
        "italiana, straniera, non nota (of the household head)",
    ),
    ("zone", "statistical zone"),
    ("district", "district"),
    (
        "resident_years",
        "consecutive year-end register snapshots, up to the year, listing the longest-resident member (at most the years the register covers)",
    ),
    (
        "min_income_measure",
        "minimum-income measure received in the year (SIA, REI, RdC, PdC, ADI, SFL), or \"\"",
    ),
    (
        "min_income_paid",
        "minimum income paid in the year (euro, 0 if none)",
    ),
];

/// The names of [`VARIABLES`].
pub fn variable_names() -> Vec<&'static str> {
    VARIABLES.iter().map(|v| v.0).collect()
}

fn sql(year: i32) -> String {
    format!(
        "WITH i AS (SELECT * FROM isee_households WHERE year = {year}),
h AS (SELECT * FROM households WHERE year = {year}),
m AS (SELECT household, max(measure) AS measure, sum(paid_in_year) AS paid
      FROM min_income_households WHERE year = {year} GROUP BY household),
members AS (
    SELECT household_pid AS household, register_pid, relation,
           {year} - birth_year AS age
    FROM register WHERE CAST(year(ref_date) AS BIGINT) = {year}),
ages AS (
    SELECT household,
           sum(CASE WHEN age >= 60 THEN 1 ELSE 0 END) AS over_60,
           coalesce(max(CASE WHEN relation = 'INTESTATARIO' THEN age END), max(age)) AS head_age
    FROM members GROUP BY household),
presence AS (
    SELECT DISTINCT register_pid, CAST(year(ref_date) AS BIGINT) AS y
    FROM register WHERE CAST(year(ref_date) AS BIGINT) <= {year}),
runs AS (
    SELECT register_pid, y, CAST(row_number() OVER (PARTITION BY register_pid ORDER BY y DESC) AS BIGINT) AS k
    FROM presence),
stay AS (SELECT register_pid, count(*) AS years FROM runs WHERE y + k = {year} + 1 GROUP BY register_pid),
residence AS (
    SELECT members.household, max(stay.years) AS resident_years
    FROM members JOIN stay ON stay.register_pid = members.register_pid
    GROUP BY members.household)
SELECT i.household, i.zone, i.district, i.household_type, i.citizenship_group,
       CAST(i.persons AS DOUBLE) AS members, CAST(i.minors AS DOUBLE) AS minors,
       CAST(h.children_under_14 AS DOUBLE) AS children_under_14,
       CAST(h.children_0_2 AS DOUBLE) AS children_0_2,
       CAST(h.adults_14_plus AS DOUBLE) AS adults_14_plus,
       CAST(coalesce(ages.over_60, 0) AS DOUBLE) AS over_60,
       CAST(i.elderly AS DOUBLE) AS elderly,
       CAST(h.elderly_75_plus AS DOUBLE) AS elderly_75_plus,
       CAST(coalesce(ages.head_age, 0) AS DOUBLE) AS head_age,
       CAST(i.oecd_scale AS DOUBLE) AS oecd_scale, CAST(i.isee_scale AS DOUBLE) AS isee_scale,
       CAST(i.isee AS DOUBLE) AS isee, CAST(i.isr AS DOUBLE) AS isr, CAST(i.isp AS DOUBLE) AS isp,
       CAST(i.eq_income AS DOUBLE) AS eq_income,
       CAST(coalesce(residence.resident_years, 0) AS DOUBLE) AS resident_years,
       coalesce(m.measure, '') AS min_income_measure,
       CAST(coalesce(m.paid, 0) AS DOUBLE) AS min_income_paid
FROM i
JOIN h ON h.household = i.household
LEFT JOIN ages ON ages.household = i.household
LEFT JOIN residence ON residence.household = i.household
LEFT JOIN m ON m.household = i.household
ORDER BY i.household"
    )
}

const TEXT: &[&str] = &[
    "household",
    "zone",
    "district",
    "household_type",
    "citizenship_group",
    "min_income_measure",
];

/// The households of `year` from the warehouse under `data_dir` (a project's `.datalab`).
pub fn households(data_dir: &Path, year: i32) -> Result<Vec<Household>, MicrosimError> {
    let wh = Warehouse::open_existing(data_dir)
        .map_err(|e| MicrosimError::Data(e.to_string()))?
        .ok_or_else(|| {
            MicrosimError::Data(format!(
                "{} holds no warehouse: build the project first (`datalab build`)",
                data_dir.display()
            ))
        })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| MicrosimError::Data(e.to_string()))?;
    let (batches, years) = rt.block_on(async {
        let engine = Engine::open(&wh).await?;
        let b = engine.sql(&sql(year)).await?;
        let y = engine
            .sql("SELECT DISTINCT CAST(year AS BIGINT) AS year FROM isee_households ORDER BY year")
            .await?;
        Ok::<_, engine::EngineError>((b, y))
    })
    .map_err(|e| {
        MicrosimError::Data(format!(
            "cannot read the household microdata (models isee_households, households, register, min_income_households): {e}"
        ))
    })?;
    let mut out = Vec::new();
    for b in &batches {
        let schema = b.schema();
        let mut cols: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for (k, field) in schema.fields().iter().enumerate() {
            let name = field.name().as_str();
            let col = b.column(k);
            let values: Vec<Value> = if TEXT.contains(&name) {
                let c = arrow::compute::cast(col, &DataType::Utf8)
                    .map_err(|e| MicrosimError::Data(e.to_string()))?;
                let c = c.as_string::<i32>();
                (0..c.len())
                    .map(|i| {
                        Value::Text(if c.is_null(i) {
                            String::new()
                        } else {
                            c.value(i).to_string()
                        })
                    })
                    .collect()
            } else {
                let c = arrow::compute::cast(col, &DataType::Float64)
                    .map_err(|e| MicrosimError::Data(e.to_string()))?;
                let c = c.as_primitive::<Float64Type>();
                (0..c.len())
                    .map(|i| Value::Num(if c.is_null(i) { 0.0 } else { c.value(i) }))
                    .collect()
            };
            cols.insert(name, values);
        }
        for i in 0..b.num_rows() {
            let mut vars: BTreeMap<String, Value> = cols
                .iter()
                .map(|(k, v)| (k.to_string(), v[i].clone()))
                .collect();
            let text = |v: Option<Value>| match v {
                Some(Value::Text(s)) => s,
                _ => String::new(),
            };
            let num = |v: Option<&Value>| match v {
                Some(Value::Num(x)) => *x,
                _ => 0.0,
            };
            let id = text(vars.remove("household"));
            let persons = num(vars.get("members"));
            let oecd_scale = num(vars.get("oecd_scale"));
            if oecd_scale <= 0.0 || persons <= 0.0 {
                continue;
            }
            out.push(Household {
                zone: text(vars.get("zone").cloned()),
                district: text(vars.get("district").cloned()),
                income: num(vars.get("isr")),
                persons,
                oecd_scale,
                id,
                vars,
            });
        }
    }
    if out.is_empty() {
        let list: Vec<String> = years
            .iter()
            .flat_map(|b| {
                let c = arrow::compute::cast(b.column(0), &DataType::Int64).ok();
                c.map(|c| {
                    let c = c.as_primitive::<arrow::datatypes::Int64Type>().clone();
                    (0..c.len())
                        .map(|i| c.value(i).to_string())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
            })
            .collect();
        return Err(MicrosimError::Data(format!(
            "no household filed an ISEE declaration in {year}: the simulation needs household incomes (years with data: {})",
            if list.is_empty() {
                "none".into()
            } else {
                list.join(", ")
            }
        )));
    }
    Ok(out)
}
