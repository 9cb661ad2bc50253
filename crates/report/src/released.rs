//! What a publication may show: a project's public releases, read back through the gate.
//!
//! [`Publication::load`] reads every public release (or the ones named) with
//! `disclosure::release::released_with_log`, which checks each file against the hash the gate
//! recorded, and keeps its tables as typed rows: indicator outputs as [`Obs`] (one value of an
//! indicator for a territory, period and breakdown, with its interval, counts and disclosure
//! flag) and frequency or magnitude tables as [`Table`]s. Reports, data packs and the site read
//! numbers from here and from nowhere else, so every number they print is a released one.

use std::collections::BTreeSet;
use std::path::Path;

use disclosure::release::{self, ReleaseLog};
use project::release::Audience;

use crate::ReportError;

/// The value column of a released table.
pub const MEASURE: &str = "value";
/// The territory label column.
pub const LABEL: &str = "territory_name";
/// Columns of a released table that are neither dimensions nor the value.
pub const NON_DIMENSIONS: &[&str] = &[
    MEASURE,
    LABEL,
    "flag",
    "rule",
    "lower",
    "upper",
    "numerator",
    "denominator",
];

/// One released CSV file as text cells.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub release: String,
    pub output: String,
    /// `table`, `indicator` or `adhoc`.
    pub kind: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Indexes of the dimension columns (`territory_level`, `territory`, `period`, breakdowns).
    pub dims: Vec<usize>,
}

impl Table {
    /// Parses a released CSV; `path` names it in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Table, ReportError> {
        let bad =
            |line: u64, m: String| ReportError::Input(format!("{}:{line}: {m}", path.display()));
        let mut reader = csv::Reader::from_reader(bytes);
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| bad(1, e.to_string()))?
            .iter()
            .map(str::to_string)
            .collect();
        if !header.iter().any(|h| h == MEASURE) {
            return Err(bad(
                1,
                format!("no `{MEASURE}` column: not a released table"),
            ));
        }
        let dims = (0..header.len())
            .filter(|&i| !NON_DIMENSIONS.contains(&header[i].as_str()))
            .collect();
        let mut rows = Vec::new();
        for (i, r) in reader.records().enumerate() {
            let r = r.map_err(|e| bad(i as u64 + 2, e.to_string()))?;
            rows.push(r.iter().map(str::to_string).collect());
        }
        Ok(Table {
            release: String::new(),
            output: String::new(),
            kind: String::new(),
            header,
            rows,
            dims,
        })
    }

    /// The index of a column.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// Breakdown columns: dimensions other than the territory and the period.
    pub fn breakdown_columns(&self) -> Vec<&str> {
        self.dims
            .iter()
            .map(|&i| self.header[i].as_str())
            .filter(|h| !matches!(*h, "territory_level" | "territory" | "period"))
            .collect()
    }
}

/// One released value of an indicator.
#[derive(Debug, Clone, PartialEq)]
pub struct Obs {
    pub level: String,
    pub territory: String,
    pub territory_name: String,
    pub period: String,
    /// Canonical breakdown key as in the cube (`sex=F`, dimensions sorted; empty for the total).
    pub breakdown: String,
    /// `None` when the gate hid the value.
    pub value: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    /// `suppressed`, `rounded`, `perturbed`, `noisy` or empty.
    pub flag: String,
    /// The rule that fired (`frequency`, `secondary`, `random rounding to base 5`, ...).
    pub rule: String,
}

/// An indicator output of a release.
#[derive(Debug, Clone)]
pub struct Series {
    pub release: String,
    pub output: String,
    /// The indicator's id.
    pub indicator: String,
    /// How the gate protected it (`suppress`, `round`, ...).
    pub method: String,
    pub obs: Vec<Obs>,
}

/// A release as a publication cites it.
#[derive(Debug, Clone)]
pub struct ReleaseInfo {
    pub log: ReleaseLog,
}

/// Everything public a publication may draw on (tables and indicator series; not microdata
/// extracts nor ad-hoc outputs).
#[derive(Debug, Clone, Default)]
pub struct Publication {
    pub releases: Vec<ReleaseInfo>,
    pub series: Vec<Series>,
    /// Every released table (indicator outputs too), as text.
    pub tables: Vec<Table>,
    /// (release, why) of the releases left out.
    pub skipped: Vec<(String, String)>,
}

impl Publication {
    /// Reads the public releases of `project`: those named, or every public one. A named
    /// release that is not public is an error; microdata extracts are never read.
    ///
    /// # Errors
    /// [`ReportError::Release`] for a missing or tampered release, [`ReportError::Input`] for a
    /// named release that is not public or a released file that is not a table.
    pub fn load(project: &project::Project, names: &[String]) -> Result<Publication, ReportError> {
        Publication::load_for(project, names, &[Audience::Public])
    }

    /// [`Publication::load`] for readers who may also see releases for other audiences (the
    /// server's partners see those released to partners and to the steering committee).
    ///
    /// # Errors
    /// As [`Publication::load`], for audiences outside `audiences`.
    pub fn load_for(
        project: &project::Project,
        names: &[String],
        audiences: &[Audience],
    ) -> Result<Publication, ReportError> {
        let all = names.is_empty();
        let names = if all {
            release::release_names(&project.root)
        } else {
            names.to_vec()
        };
        let mut out = Publication::default();
        for name in &names {
            let (log, released) = release::released_with_log(&project.root, name)?;
            if !audiences.contains(&log.audience) {
                let why = if audiences == [Audience::Public] {
                    format!(
                        "release `{name}` is for {:?}, not the public: publications only use \
                         public releases",
                        log.audience
                    )
                } else {
                    format!(
                        "release `{name}` is for {:?}, not for this reader",
                        log.audience
                    )
                }
                .to_lowercase();
                if all {
                    out.skipped.push((name.clone(), why));
                    continue;
                }
                return Err(ReportError::Input(why));
            }
            for file in released {
                let f = file.get();
                // Microdata extracts are never published; ad-hoc outputs (an analyst's table
                // in its own shape, passed by an output checker) have no value column to read
                // and are offered only as released, as files.
                if f.kind == "microdata" || f.kind == "adhoc" {
                    continue;
                }
                let mut table = Table::parse(&f.path, &f.bytes)?;
                table.release = f.release.clone();
                table.output = f.output.clone();
                table.kind = f.kind.clone();
                let output = log.outputs.iter().find(|o| o.name == f.output);
                if let Some(indicator) = output.and_then(|o| o.indicator.clone()) {
                    out.series.push(Series {
                        release: f.release.clone(),
                        output: f.output.clone(),
                        indicator,
                        method: output.map(|o| o.method.clone()).unwrap_or_default(),
                        obs: observations(&table, &f.path)?,
                    });
                }
                out.tables.push(table);
            }
            out.releases.push(ReleaseInfo { log });
        }
        Ok(out)
    }

    /// Every released series of `indicator`.
    pub fn series_of<'a>(&'a self, indicator: &'a str) -> impl Iterator<Item = &'a Series> + 'a {
        self.series.iter().filter(move |s| s.indicator == indicator)
    }

    /// Ids of the indicators released, sorted.
    pub fn indicators(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.series.iter().map(|s| s.indicator.as_str()).collect();
        set.into_iter().collect()
    }

    /// The released value of `indicator` for a territory, period and breakdown (`""` for the
    /// total), from the latest release holding it.
    pub fn obs<'a>(
        &'a self,
        indicator: &'a str,
        territory: &str,
        period: &str,
        breakdown: &str,
    ) -> Option<&'a Obs> {
        self.series_of(indicator)
            .flat_map(|s| &s.obs)
            .filter(|o| o.territory == territory && o.period == period && o.breakdown == breakdown)
            .last()
    }

    /// The periods released for `indicator`, sorted.
    pub fn periods(&self, indicator: &str) -> Vec<String> {
        let set: BTreeSet<&str> = self
            .series_of(indicator)
            .flat_map(|s| &s.obs)
            .map(|o| o.period.as_str())
            .collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// The totals (no breakdown) of `indicator` for `period` at a territory level, in the order
    /// released.
    pub fn at_level<'a>(&'a self, indicator: &'a str, level: &str, period: &str) -> Vec<&'a Obs> {
        let mut seen = BTreeSet::new();
        let mut out: Vec<&Obs> = self
            .series_of(indicator)
            .flat_map(|s| &s.obs)
            .filter(|o| o.level == level && o.period == period && o.breakdown.is_empty())
            .collect();
        out.reverse();
        out.retain(|o| seen.insert(o.territory.clone()));
        out.reverse();
        out
    }

    /// The release a table or series came from.
    pub fn release(&self, name: &str) -> Option<&ReleaseInfo> {
        self.releases.iter().find(|r| r.log.name == name)
    }
}

/// The rows of a released indicator output as observations.
pub(crate) fn observations(t: &Table, path: &Path) -> Result<Vec<Obs>, ReportError> {
    let need = |c: &str| {
        t.col(c).ok_or_else(|| {
            ReportError::Input(format!(
                "{}: no `{c}` column: not a released indicator",
                path.display()
            ))
        })
    };
    let (level, territory, period, value) = (
        need("territory_level")?,
        need("territory")?,
        need("period")?,
        need(MEASURE)?,
    );
    let opt = |c: &str| t.col(c);
    let (label, lower, upper, num, den, flag, rule) = (
        opt(LABEL),
        opt("lower"),
        opt("upper"),
        opt("numerator"),
        opt("denominator"),
        opt("flag"),
        opt("rule"),
    );
    let mut breakdowns: Vec<(String, usize)> = t
        .breakdown_columns()
        .into_iter()
        .map(|b| (b.to_string(), t.col(b).expect("a column of the table")))
        .collect();
    breakdowns.sort();
    let mut out = Vec::with_capacity(t.rows.len());
    for (i, r) in t.rows.iter().enumerate() {
        let number = |c: Option<usize>, name: &str| -> Result<Option<f64>, ReportError> {
            match c.map(|c| r[c].as_str()) {
                None | Some("") => Ok(None),
                Some(v) => v.parse::<f64>().map(Some).map_err(|_| {
                    ReportError::Input(format!(
                        "{}:{}: field `{name}`: `{v}` is not a number",
                        path.display(),
                        i + 2
                    ))
                }),
            }
        };
        let text = |c: Option<usize>| c.map(|c| r[c].clone()).unwrap_or_default();
        let breakdown = breakdowns
            .iter()
            .filter(|(_, c)| r[*c] != disclosure::TOTAL)
            .map(|(b, c)| format!("{b}={}", r[*c]))
            .collect::<Vec<_>>()
            .join("|");
        out.push(Obs {
            level: r[level].clone(),
            territory: r[territory].clone(),
            territory_name: text(label),
            period: r[period].clone(),
            breakdown,
            value: number(Some(value), MEASURE)?,
            lower: number(lower, "lower")?,
            upper: number(upper, "upper")?,
            numerator: number(num, "numerator")?,
            denominator: number(den, "denominator")?,
            flag: text(flag),
            rule: text(rule),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const INDICATOR: &str = "territory_level,territory,territory_name,period,sex,value,lower,upper,numerator,denominator,flag,rule
district,Q1,Centro,2024,Total,5125,,,5125,,rounded,random rounding to base 5
district,Q1,Centro,2024,F,,,,,,suppressed,frequency
zone,Z01,Duomo,2024,M,12.5,10,15,25,200,,
";

    #[test]
    fn indicator_rows_become_observations_with_canonical_breakdowns() {
        let t = Table::parse(Path::new("x.csv"), INDICATOR.as_bytes()).unwrap();
        assert_eq!(t.breakdown_columns(), vec!["sex"]);
        let obs = observations(&t, Path::new("x.csv")).unwrap();
        assert_eq!(obs.len(), 3);
        assert_eq!(obs[0].breakdown, "");
        assert_eq!(obs[0].value, Some(5125.0));
        assert_eq!(obs[0].flag, "rounded");
        assert_eq!(obs[1].breakdown, "sex=F");
        assert_eq!(obs[1].value, None);
        assert_eq!(obs[1].rule, "frequency");
        let z = &obs[2];
        assert_eq!(
            (z.lower, z.upper, z.numerator, z.denominator),
            (Some(10.0), Some(15.0), Some(25.0), Some(200.0))
        );
        assert_eq!(z.territory_name, "Duomo");
    }

    #[test]
    fn a_bad_number_names_file_line_and_field() {
        let bad = INDICATOR.replace("12.5", "twelve");
        let t = Table::parse(Path::new("x.csv"), bad.as_bytes()).unwrap();
        let e = observations(&t, Path::new("x.csv"))
            .unwrap_err()
            .to_string();
        assert_eq!(e, "x.csv:4: field `value`: `twelve` is not a number");
    }

    #[test]
    fn a_ragged_row_is_refused() {
        let e = Table::parse(Path::new("x.csv"), b"a,value\n1,2,3\n").unwrap_err();
        assert!(e.to_string().starts_with("x.csv:2:"), "{e}");
    }
}
