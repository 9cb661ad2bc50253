//! Generalization: coarser versions of quasi-identifiers.
//!
//! Dates become months or years, birth dates become ages and age bands, street addresses become
//! zones through the custodian's street table, postcodes become postcode areas. The custodian
//! spec (`spec.rs`) chooses which; this module only computes. Nothing here keeps the detailed
//! value around: callers pass it in and get the coarse one back.

use std::collections::HashMap;
use std::fmt;
use std::path::Path;
use std::sync::LazyLock;

use chrono::{Datelike, NaiveDate};
use regex::Regex;

/// Errors building a generalization from the custodian's configuration or files.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GeneralizeError {
    /// Age band edges that do not start at 0 or do not increase (the spec's fault).
    #[error("invalid age bands: {reason}")]
    AgeBands {
        /// What is wrong with the edges.
        reason: String,
    },
    /// A street table that cannot be read at all.
    #[error("cannot read street table {source_name}: {message}")]
    Read {
        /// The file (or `rows` for [`StreetTable::from_rows`]).
        source_name: String,
        /// What went wrong.
        message: String,
    },
    /// A street table whose header is not `street,number_from,number_to,parity,zone,postcode`.
    #[error("street table {source_name}: bad header: {message}")]
    Header {
        /// The file.
        source_name: String,
        /// What is wrong with the header.
        message: String,
    },
    /// A malformed record in a street table, e.g. with the wrong number of fields.
    #[error("street table {source_name}, line {line}: {message}")]
    Record {
        /// The file.
        source_name: String,
        /// 1-based line in the file, header included.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A bad value in a street table (the table's fault).
    #[error("street table {source_name}, line {line}, field {field}: {message}")]
    Field {
        /// The file (or `rows` for [`StreetTable::from_rows`]).
        source_name: String,
        /// 1-based line in the file, header included (row number for `rows`).
        line: u64,
        /// The field's name in the header.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

// ---------------------------------------------------------------------------------------------
// Dates and ages
// ---------------------------------------------------------------------------------------------

/// The first day of `d`'s month.
pub fn to_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).unwrap_or(d)
}

/// `d`'s year.
pub fn to_year(d: NaiveDate) -> i32 {
    d.year()
}

/// Age in completed years on `on` of someone born on `birth`; `None` if `birth` is after `on`.
///
/// Someone born on 29 February has their birthday on 1 March in non-leap years (the Italian
/// civil-law reading), so they turn 18 on 1 March, not on 28 February.
pub fn age_at(birth: NaiveDate, on: NaiveDate) -> Option<u32> {
    if birth > on {
        return None;
    }
    let years = on.year() - birth.year();
    let birthday = (birth.month(), birth.day());
    // Month and day of the birthday in `on`'s year.
    let birthday_this_year = if birthday == (2, 29) && !is_leap_year(on.year()) {
        (3, 1)
    } else {
        birthday
    };
    let had_birthday = (on.month(), on.day()) >= birthday_this_year;
    let age = if had_birthday { years } else { years - 1 };
    u32::try_from(age).ok()
}

fn is_leap_year(year: i32) -> bool {
    NaiveDate::from_ymd_opt(year, 2, 29).is_some()
}

/// Age bands with precomputed labels: `0-4`, `5-9`, ..., `85+`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeBands {
    /// Lower edge of each band, strictly increasing, starting at 0.
    lower: Vec<u32>,
    labels: Vec<String>,
}

impl AgeBands {
    /// Bands `w` years wide up to `top`, then `top+`: `width(5, 85)` gives `0-4`, `5-9`, ...,
    /// `80-84`, `85+`. When `top` is not a multiple of `w` the last band before it is narrower
    /// (`width(10, 85)`: ..., `70-79`, `80-84`, `85+`). `width(w, 0)` is the single band `0+`,
    /// and a width of 0 is taken as 1 (the spec validates widths before calling this).
    pub fn width(w: u32, top: u32) -> AgeBands {
        let w = w.max(1);
        let mut edges: Vec<u32> = (0..top).step_by(w as usize).collect();
        edges.push(top);
        edges.dedup();
        AgeBands::from_valid_edges(edges)
    }

    /// Bands from their lower edges: `[0, 18, 65, 80]` gives `0-17`, `18-64`, `65-79`, `80+`.
    /// The edges must start at 0 and increase strictly.
    pub fn edges(edges: Vec<u32>) -> Result<AgeBands, GeneralizeError> {
        match edges.first() {
            None => {
                return Err(GeneralizeError::AgeBands {
                    reason: "no edges".to_string(),
                });
            }
            Some(&first) if first != 0 => {
                return Err(GeneralizeError::AgeBands {
                    reason: format!("the first edge must be 0, not {first}"),
                });
            }
            Some(_) => {}
        }
        if let Some(w) = edges.windows(2).find(|w| w[0] >= w[1]) {
            return Err(GeneralizeError::AgeBands {
                reason: format!(
                    "edges must increase strictly, but {} is followed by {}",
                    w[0], w[1]
                ),
            });
        }
        Ok(AgeBands::from_valid_edges(edges))
    }

    /// Bands from edges known to start at 0 and increase strictly.
    fn from_valid_edges(edges: Vec<u32>) -> AgeBands {
        let labels = edges
            .iter()
            .enumerate()
            .map(|(i, &lo)| match edges.get(i + 1) {
                Some(&next) if next - 1 == lo => lo.to_string(),
                Some(&next) => format!("{lo}-{}", next - 1),
                None => format!("{lo}+"),
            })
            .collect();
        AgeBands {
            lower: edges,
            labels,
        }
    }

    /// The label of the band holding `age`.
    pub fn label(&self, age: u32) -> &str {
        // `lower[0] == 0`, so at least one edge is <= age.
        let i = self
            .lower
            .partition_point(|&lo| lo <= age)
            .saturating_sub(1);
        &self.labels[i]
    }

    /// Every label, youngest band first.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
}

// ---------------------------------------------------------------------------------------------
// Postcodes
// ---------------------------------------------------------------------------------------------

/// The postcode area of an Italian CAP: its first three digits and `xx` (`41121` -> `411xx`).
/// `None` unless `cap` (trimmed) is exactly five ASCII digits.
pub fn postcode_area(cap: &str) -> Option<String> {
    let cap = cap.trim();
    if cap.len() == 5 && cap.bytes().all(|b| b.is_ascii_digit()) {
        Some(format!("{}xx", &cap[..3]))
    } else {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Streets
// ---------------------------------------------------------------------------------------------

/// Which house numbers of a range a street table row covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Parity {
    /// Odd and even numbers.
    #[default]
    Any,
    /// Odd numbers only.
    Odd,
    /// Even numbers only.
    Even,
}

impl Parity {
    fn admits(self, n: u32) -> bool {
        match self {
            Parity::Any => true,
            Parity::Odd => !n.is_multiple_of(2),
            Parity::Even => n.is_multiple_of(2),
        }
    }
}

/// One row of a street table, as given to [`StreetTable::from_rows`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreetRow {
    /// The street's name as written by the custodian (`VIA SANTA CHIARA`).
    pub street: String,
    /// First house number of the range (`None`: from the start of the street).
    pub number_from: Option<u32>,
    /// Last house number of the range (`None`: to the end of the street).
    pub number_to: Option<u32>,
    /// Which numbers of the range.
    pub parity: Parity,
    /// The zone the range belongs to.
    pub zone: String,
    /// The postcode (CAP), if the table gives one.
    pub postcode: Option<String>,
}

/// What an address is generalized to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreetEntry {
    /// The street's name as written in the table.
    pub street: String,
    /// The zone.
    pub zone: String,
    /// The postcode, if the table gives one.
    pub postcode: Option<String>,
}

#[derive(Debug, Clone)]
struct Range {
    entry: StreetEntry,
    from: Option<u32>,
    to: Option<u32>,
    parity: Parity,
}

impl Range {
    fn whole_street(&self) -> bool {
        self.from.is_none() && self.to.is_none() && self.parity == Parity::Any
    }

    fn contains(&self, n: u32) -> bool {
        self.from.is_none_or(|f| n >= f) && self.to.is_none_or(|t| n <= t) && self.parity.admits(n)
    }
}

/// Why an address could not be located.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// The address has no house number and the street's zones depend on it.
    #[error("no house number in the address, and {street} spans several zones")]
    NoNumber {
        /// The street, as written in the table.
        street: String,
    },
    /// The street is not in the table.
    #[error("unknown street {street}{}", hint_suffix(.hint))]
    UnknownStreet {
        /// The street as parsed and normalized from the address.
        street: String,
        /// The closest street of the table, if one is close.
        hint: Option<String>,
    },
    /// `S.` could be `SAN`, `SANTA` or `SANTO` and more than one such street exists.
    #[error("ambiguous street {street}: could be {}", .candidates.join(", "))]
    AmbiguousStreet {
        /// The street as parsed and normalized from the address.
        street: String,
        /// The table's streets it could be.
        candidates: Vec<String>,
    },
    /// No range of the street holds the house number.
    #[error("house number {number} is outside the ranges of {street}")]
    NumberOutOfRange {
        /// The street, as written in the table.
        street: String,
        /// The house number.
        number: u32,
    },
}

fn hint_suffix(hint: &Option<String>) -> String {
    match hint {
        Some(h) => format!(" (did you mean {h}?)"),
        None => String::new(),
    }
}

/// The custodian's street table: which zone (and postcode) each street, or each range of house
/// numbers of a street, belongs to.
#[derive(Debug, Clone)]
pub struct StreetTable {
    ranges: Vec<Range>,
    /// Normalized street name -> indexes into `ranges`.
    by_street: HashMap<String, Vec<usize>>,
    /// Saint-folded street name (`SAN`, `SANTA`, `SANTO`, `SANT` -> `S`) -> normalized names.
    by_folded: HashMap<String, Vec<String>>,
}

const HEADER: [&str; 6] = [
    "street",
    "number_from",
    "number_to",
    "parity",
    "zone",
    "postcode",
];

impl StreetTable {
    /// Loads a CSV with header `street,number_from,number_to,parity,zone,postcode`.
    ///
    /// `number_from`, `number_to` and `parity` may be empty: a row with all three empty covers
    /// the whole street, one with only `number_from` runs to the end of the street. `parity` is
    /// `odd`, `even` or empty; `postcode` may be empty. Errors name the file, line and field.
    pub fn load(path: &Path) -> Result<StreetTable, GeneralizeError> {
        let source_name = path.display().to_string();
        let read_err = |message: String| GeneralizeError::Read {
            source_name: source_name.clone(),
            message,
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_path(path)
            .map_err(|e| read_err(e.to_string()))?;
        let header = reader.headers().map_err(|e| read_err(e.to_string()))?;
        let got: Vec<&str> = header.iter().map(str::trim).collect();
        if got != HEADER {
            return Err(GeneralizeError::Header {
                source_name,
                message: format!("expected {}, found {}", HEADER.join(","), got.join(",")),
            });
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| match e.position() {
                Some(pos) => GeneralizeError::Record {
                    source_name: source_name.clone(),
                    line: pos.line(),
                    message: e.to_string(),
                },
                None => read_err(e.to_string()),
            })?;
            let line = record.position().map_or(0, |p| p.line());
            let field = |i: usize| record.get(i).unwrap_or("").trim();
            let err = |field: &'static str, message: String| GeneralizeError::Field {
                source_name: source_name.clone(),
                line,
                field,
                message,
            };
            let number = |i: usize| -> Result<Option<u32>, GeneralizeError> {
                let s = field(i);
                if s.is_empty() {
                    return Ok(None);
                }
                s.parse::<u32>()
                    .map(Some)
                    .map_err(|_| err(HEADER[i], format!("{s:?} is not a house number")))
            };
            let parity = match field(3).to_ascii_lowercase().as_str() {
                "" => Parity::Any,
                "odd" => Parity::Odd,
                "even" => Parity::Even,
                other => {
                    return Err(err(
                        "parity",
                        format!("{other:?} is not odd, even or empty"),
                    ));
                }
            };
            let postcode = Some(field(5).to_string()).filter(|s| !s.is_empty());
            rows.push((
                line,
                StreetRow {
                    street: field(0).to_string(),
                    number_from: number(1)?,
                    number_to: number(2)?,
                    parity,
                    zone: field(4).to_string(),
                    postcode,
                },
            ));
        }
        StreetTable::build(&source_name, rows)
    }

    /// A table from rows already in memory; errors name the row (1-based) as the line and
    /// `rows` as the file.
    pub fn from_rows(
        rows: impl IntoIterator<Item = StreetRow>,
    ) -> Result<StreetTable, GeneralizeError> {
        let numbered = rows
            .into_iter()
            .enumerate()
            .map(|(i, r)| (i as u64 + 1, r))
            .collect();
        StreetTable::build("rows", numbered)
    }

    fn build(
        source_name: &str,
        rows: Vec<(u64, StreetRow)>,
    ) -> Result<StreetTable, GeneralizeError> {
        let mut table = StreetTable {
            ranges: Vec::with_capacity(rows.len()),
            by_street: HashMap::new(),
            by_folded: HashMap::new(),
        };
        for (line, row) in rows {
            let err = |field: &'static str, message: &str| GeneralizeError::Field {
                source_name: source_name.to_string(),
                line,
                field,
                message: message.to_string(),
            };
            let key = normalize_street(&row.street);
            if key.is_empty() {
                return Err(err("street", "empty street name"));
            }
            if row.zone.trim().is_empty() {
                return Err(err("zone", "empty zone"));
            }
            if let (Some(f), Some(t)) = (row.number_from, row.number_to)
                && f > t
            {
                return Err(err("number_to", "number_to is smaller than number_from"));
            }
            let index = table.ranges.len();
            table.ranges.push(Range {
                entry: StreetEntry {
                    street: row.street.trim().to_string(),
                    zone: row.zone.trim().to_string(),
                    postcode: row.postcode.map(|p| p.trim().to_string()),
                },
                from: row.number_from,
                to: row.number_to,
                parity: row.parity,
            });
            let folded = fold_saints(&key);
            let names = table.by_folded.entry(folded).or_default();
            if !names.contains(&key) {
                names.push(key.clone());
            }
            table.by_street.entry(key).or_default().push(index);
        }
        Ok(table)
    }

    /// The zone (and postcode) of an address such as `VIA SANTA CHIARA, 57`,
    /// `Via S. Chiara 57/A` or `V.LE MARTIRI DELLA LIBERTÀ N. 12`.
    ///
    /// The address is split into street and house number and normalized (uppercase, accents
    /// removed, `V.`/`V.LE`/`P.ZZA`/`C.SO`/... expanded, punctuation dropped); the street must
    /// match a table street exactly, or up to `S.`/`SAN`/`SANTA`/`SANTO`/`SANT'` when that is
    /// unambiguous. Among that street's rows the one whose range and parity hold the number
    /// wins, a row for a range before a whole-street row. Without a number the street must not
    /// depend on it (all its rows give the same zone and postcode).
    pub fn locate(&self, address: &str) -> Result<&StreetEntry, AddressError> {
        let normalized = normalize_street(address);
        let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
        // Try each numeric word as the house number, first one first: `VIA 4 NOVEMBRE 12`
        // fails on `4` (no street `VIA`) and succeeds on `12`.
        let mut first_street: Option<String> = None;
        for (i, w) in words.iter().enumerate().skip(1) {
            let Some(number) = house_number(w) else {
                continue;
            };
            let mut street_words = &words[..i];
            while let Some((last, rest)) = street_words.split_last() {
                if matches!(*last, "N" | "NR" | "NUM" | "NUMERO" | "CIVICO") && !rest.is_empty() {
                    street_words = rest;
                } else {
                    break;
                }
            }
            let street = street_words.join(" ");
            match self.find_street(&street)? {
                Some(key) => return self.pick(key, Some(number)),
                // `VIA` alone (from `VIA 4 NOVEMBRE`) makes a poor hint.
                None if street_words.len() >= 2 => {
                    first_street.get_or_insert(street);
                }
                None => {}
            }
        }
        // No number, or the numbers are part of the name (`VIA XX SETTEMBRE`, `VIA 2 GIUGNO`).
        let whole = words.join(" ");
        if let Some(key) = self.find_street(&whole)? {
            return self.pick(key, None);
        }
        let street = first_street.unwrap_or(whole);
        let hint = self.closest(&street);
        Err(AddressError::UnknownStreet { street, hint })
    }

    /// The normalized key of the table street `street` (normalized) matches, if any.
    fn find_street(&self, street: &str) -> Result<Option<&str>, AddressError> {
        if let Some((key, _)) = self.by_street.get_key_value(street) {
            return Ok(Some(key.as_str()));
        }
        match self.by_folded.get(&fold_saints(street)).map(Vec::as_slice) {
            Some([only]) => Ok(Some(only.as_str())),
            Some(many) if !many.is_empty() => Err(AddressError::AmbiguousStreet {
                street: street.to_string(),
                candidates: many
                    .iter()
                    .filter_map(|k| self.by_street.get(k))
                    .filter_map(|ix| ix.first())
                    .map(|&i| self.ranges[i].entry.street.clone())
                    .collect(),
            }),
            _ => Ok(None),
        }
    }

    fn pick(&self, key: &str, number: Option<u32>) -> Result<&StreetEntry, AddressError> {
        let ranges: Vec<&Range> = self
            .by_street
            .get(key)
            .map(|ix| ix.iter().map(|&i| &self.ranges[i]).collect())
            .unwrap_or_default();
        let Some(first) = ranges.first() else {
            return Err(AddressError::UnknownStreet {
                street: key.to_string(),
                hint: None,
            });
        };
        let street = first.entry.street.clone();
        let Some(n) = number else {
            let same = ranges.iter().all(|r| {
                r.entry.zone == first.entry.zone && r.entry.postcode == first.entry.postcode
            });
            return if same {
                Ok(&first.entry)
            } else {
                Err(AddressError::NoNumber { street })
            };
        };
        ranges
            .iter()
            .find(|r| !r.whole_street() && r.contains(n))
            .or_else(|| ranges.iter().find(|r| r.whole_street()))
            .map(|r| &r.entry)
            .ok_or(AddressError::NumberOutOfRange { street, number: n })
    }

    /// The table's street closest to `street` by edit distance, if close enough to be a typo.
    fn closest(&self, street: &str) -> Option<String> {
        let (key, distance) = self
            .by_street
            .keys()
            .map(|k| (k, levenshtein(street, k)))
            .min_by(|a, b| a.1.cmp(&b.1).then_with(|| a.0.cmp(b.0)))?;
        let limit = (street.chars().count() / 3).max(2);
        if distance > limit {
            return None;
        }
        let &i = self.by_street.get(key)?.first()?;
        Some(self.ranges[i].entry.street.clone())
    }
}

impl fmt::Display for StreetEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.street, self.zone)
    }
}

/// The house number in a word: leading digits of `57`, `57A`, `57/A`, `22/1`.
fn house_number(word: &str) -> Option<u32> {
    let digits: &str = &word[..word.bytes().take_while(u8::is_ascii_digit).count()];
    let rest = &word[digits.len()..];
    let suffix_ok = rest.is_empty()
        || (rest.len() <= 3 && rest.bytes().all(|b| b.is_ascii_alphabetic()))
        || rest.strip_prefix('/').is_some_and(|r| {
            !r.is_empty() && r.len() <= 3 && r.bytes().all(|b| b.is_ascii_alphanumeric())
        });
    if digits.is_empty() || !suffix_ok {
        return None;
    }
    digits.parse().ok()
}

/// Abbreviations of street types, expanded before punctuation is dropped.
static ABBREVIATIONS: LazyLock<Vec<(Regex, &'static str)>> = LazyLock::new(|| {
    [
        (r"\bV\.\s*LE\b\.?", "VIALE "),
        (r"\bV\.\s*LO\b\.?", "VICOLO "),
        (r"\bP\.\s*ZZALE\b\.?", "PIAZZALE "),
        (r"\bP\.\s*LE\b\.?", "PIAZZALE "),
        (r"\bP\.\s*ZZA\b\.?", "PIAZZA "),
        (r"\bP\.\s*ZA\b\.?", "PIAZZA "),
        (r"\bP\.\s*TTA\b\.?", "PIAZZETTA "),
        (r"\bC\.\s*SO\b\.?", "CORSO "),
        (r"\bL\.\s*GO\b\.?", "LARGO "),
        (r"\bC\.\s*DA\b\.?", "CONTRADA "),
        (r"\bSTR\.", "STRADA "),
        (r"\bLOC\.", "LOCALITA "),
        (r"\bFRAZ\.", "FRAZIONE "),
        (r"^\s*V\.", "VIA "),
    ]
    .into_iter()
    .map(|(pattern, replacement)| match Regex::new(pattern) {
        Ok(re) => (re, replacement),
        Err(e) => unreachable!("built-in abbreviation regex does not compile: {e}"),
    })
    .collect()
});

/// Uppercase, accents removed, street-type abbreviations expanded, punctuation other than `/`
/// dropped, spaces collapsed: `V.le Martiri della Libertà, n° 12` -> `VIALE MARTIRI DELLA
/// LIBERTA N 12`.
fn normalize_street(s: &str) -> String {
    let s = s.replace(['°', 'º'], ".");
    let mut s = deunicode::deunicode(&s).to_ascii_uppercase();
    for (re, replacement) in ABBREVIATIONS.iter() {
        if re.is_match(&s) {
            s = re.replace_all(&s, *replacement).into_owned();
        }
    }
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '/' {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        } else {
            space = true;
        }
    }
    out
}

/// Folds saints' prefixes so that `S CHIARA`, `SANTA CHIARA` and `SANT CHIARA` meet.
fn fold_saints(normalized: &str) -> String {
    normalized
        .split(' ')
        .map(|w| match w {
            "SAN" | "SANTA" | "SANTO" | "SANT" | "S" => "S",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Levenshtein distance on characters.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
            Ok(d) => d,
            Err(e) => panic!("test date {s:?}: {e}"),
        }
    }

    #[test]
    fn months_and_years() {
        assert_eq!(to_month(date("2024-02-29")), date("2024-02-01"));
        assert_eq!(to_month(date("2023-12-31")), date("2023-12-01"));
        assert_eq!(to_month(date("2023-01-01")), date("2023-01-01"));
        assert_eq!(to_year(date("1999-12-31")), 1999);
        assert_eq!(to_year(date("2000-01-01")), 2000);
    }

    fn check_age(birth: &str, on: &str, expect: Option<u32>) {
        assert_eq!(
            age_at(date(birth), date(on)),
            expect,
            "born {birth}, on {on}"
        );
    }

    #[test]
    fn ages_around_birthdays() {
        check_age("1985-12-10", "2024-12-09", Some(38));
        check_age("1985-12-10", "2024-12-10", Some(39));
        check_age("1985-12-10", "2024-12-11", Some(39));
        check_age("2000-01-01", "2000-01-01", Some(0));
        check_age("2000-01-02", "2000-01-01", None);
        check_age("2000-06-15", "2001-06-14", Some(0));
        check_age("2000-06-15", "2001-06-15", Some(1));
        check_age("1900-03-01", "2024-02-29", Some(123));
        check_age("2006-07-31", "2024-07-31", Some(18));
        check_age("2006-07-31", "2024-07-30", Some(17));
    }

    #[test]
    fn ages_with_leap_birthdays() {
        // Born on 29 February: in non-leap years the birthday is 1 March.
        check_age("2004-02-29", "2005-02-28", Some(0));
        check_age("2004-02-29", "2005-03-01", Some(1));
        check_age("2004-02-29", "2022-02-28", Some(17));
        check_age("2004-02-29", "2022-03-01", Some(18));
        // In leap years, on 29 February itself.
        check_age("2004-02-29", "2008-02-28", Some(3));
        check_age("2004-02-29", "2008-02-29", Some(4));
        // 2100 is not a leap year.
        check_age("2096-02-29", "2100-02-28", Some(3));
        check_age("2096-02-29", "2100-03-01", Some(4));
        // Born on 28 February or 1 March in a leap year: nothing special.
        check_age("2004-02-28", "2005-02-28", Some(1));
        check_age("2004-03-01", "2005-02-28", Some(0));
        check_age("2004-03-01", "2005-03-01", Some(1));
        check_age("2003-03-01", "2004-02-29", Some(0));
    }

    fn labels(bands: &AgeBands, ages: &[u32]) -> Vec<String> {
        ages.iter().map(|&a| bands.label(a).to_string()).collect()
    }

    #[test]
    fn age_bands_by_width() {
        let bands = AgeBands::width(5, 85);
        assert_eq!(bands.labels().len(), 18);
        assert_eq!(bands.labels().first().map(String::as_str), Some("0-4"));
        assert_eq!(bands.labels().last().map(String::as_str), Some("85+"));
        assert_eq!(
            labels(&bands, &[0, 4, 5, 9, 17, 84, 85, 86, 120, u32::MAX]),
            [
                "0-4", "0-4", "5-9", "5-9", "15-19", "80-84", "85+", "85+", "85+", "85+"
            ]
        );
        let bands = AgeBands::width(10, 85);
        assert_eq!(
            bands.labels(),
            [
                "0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80-84",
                "85+"
            ]
        );
        assert_eq!(AgeBands::width(1, 3).labels(), ["0", "1", "2", "3+"]);
        assert_eq!(AgeBands::width(5, 0).labels(), ["0+"]);
        assert_eq!(AgeBands::width(0, 2), AgeBands::width(1, 2));
    }

    #[test]
    fn age_bands_by_edges() -> Result<(), GeneralizeError> {
        let bands = AgeBands::edges(vec![0, 18, 65, 80])?;
        assert_eq!(bands.labels(), ["0-17", "18-64", "65-79", "80+"]);
        assert_eq!(
            labels(&bands, &[0, 17, 18, 64, 65, 79, 80, 200]),
            [
                "0-17", "0-17", "18-64", "18-64", "65-79", "65-79", "80+", "80+"
            ]
        );
        assert_eq!(AgeBands::edges(vec![0])?.labels(), ["0+"]);
        for bad in [vec![], vec![1, 18], vec![0, 18, 18], vec![0, 65, 18]] {
            let e = AgeBands::edges(bad.clone());
            assert!(
                matches!(e, Err(GeneralizeError::AgeBands { .. })),
                "{bad:?}"
            );
        }
        let e = AgeBands::edges(vec![0, 65, 18])
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("invalid age bands: edges must increase strictly, but 65 is followed by 18")
        );
        Ok(())
    }

    #[test]
    fn postcode_areas() {
        assert_eq!(postcode_area("41121").as_deref(), Some("411xx"));
        assert_eq!(postcode_area(" 00184 ").as_deref(), Some("001xx"));
        for bad in ["4112", "411211", "41l21", "", "41 21", "４１１２１"] {
            assert_eq!(postcode_area(bad), None, "{bad:?}");
        }
    }

    fn row(
        street: &str,
        from: Option<u32>,
        to: Option<u32>,
        parity: Parity,
        zone: &str,
    ) -> StreetRow {
        StreetRow {
            street: street.to_string(),
            number_from: from,
            number_to: to,
            parity,
            zone: zone.to_string(),
            postcode: Some("41121".to_string()),
        }
    }

    fn table() -> StreetTable {
        let rows = vec![
            row("VIA SANTA CHIARA", Some(1), Some(99), Parity::Odd, "Centro"),
            row(
                "VIA SANTA CHIARA",
                Some(2),
                Some(98),
                Parity::Even,
                "Crocetta",
            ),
            row(
                "VIA SANTA CHIARA",
                Some(101),
                None,
                Parity::Any,
                "Madonnina",
            ),
            row(
                "VIALE MARTIRI DELLA LIBERTÀ",
                None,
                None,
                Parity::Any,
                "Centro",
            ),
            row("PIAZZA GRANDE", None, None, Parity::Any, "Centro"),
            row(
                "CORSO CANALGRANDE",
                Some(1),
                Some(50),
                Parity::Any,
                "Centro",
            ),
            row("CORSO CANALGRANDE", None, None, Parity::Any, "San Faustino"),
            row("VIA XX SETTEMBRE", None, None, Parity::Any, "Centro"),
            row("VIA 4 NOVEMBRE", None, None, Parity::Any, "Sacca"),
            row("VIA SAN CARLO", None, None, Parity::Any, "Centro"),
            row("VIA SANTO STEFANO", None, None, Parity::Any, "Buon Pastore"),
            row("VIA SANTA STEFANO", None, None, Parity::Any, "Errore"),
            row("STRADA MORANE", Some(1), Some(400), Parity::Any, "Morane"),
            row("STRADA MORANE", Some(401), Some(900), Parity::Any, "Morane"),
        ];
        match StreetTable::from_rows(rows) {
            Ok(t) => t,
            Err(e) => panic!("test table: {e}"),
        }
    }

    fn zone(address: &str) -> Result<String, AddressError> {
        table().locate(address).map(|e| e.zone.clone())
    }

    #[test]
    fn locate_with_ranges_and_parity() {
        let cases = [
            ("VIA SANTA CHIARA, 57", "Centro"),
            ("VIA SANTA CHIARA, 58", "Crocetta"),
            ("Via S. Chiara 57/A", "Centro"),
            ("via santa chiara n. 2", "Crocetta"),
            ("V. SANTA CHIARA 101", "Madonnina"),
            ("V.LE MARTIRI DELLA LIBERTÀ N. 12", "Centro"),
            ("Viale Martiri della Liberta 12", "Centro"),
            ("V.le Martiri della Libertà, n° 12", "Centro"),
            ("P.ZZA GRANDE 1", "Centro"),
            ("P.za Grande", "Centro"),
            ("C.SO CANALGRANDE 22B", "Centro"),
            ("CORSO CANALGRANDE 51", "San Faustino"),
            ("VIA XX SETTEMBRE 5", "Centro"),
            ("VIA XX SETTEMBRE", "Centro"),
            ("VIA 4 NOVEMBRE 12", "Sacca"),
            ("VIA S. CARLO 3", "Centro"),
            ("VIA SAN CARLO, 3", "Centro"),
            ("STRADA MORANE", "Morane"),
            ("STR. MORANE 500", "Morane"),
            ("  via   santa   chiara ,  57  ", "Centro"),
        ];
        for (address, expect) in cases {
            assert_eq!(zone(address).as_deref(), Ok(expect), "{address:?}");
        }
        let t = table();
        let entry = t.locate("VIA SANTA CHIARA 57");
        assert_eq!(
            entry.cloned(),
            Ok(StreetEntry {
                street: "VIA SANTA CHIARA".to_string(),
                zone: "Centro".to_string(),
                postcode: Some("41121".to_string()),
            })
        );
    }

    #[test]
    fn locate_errors() {
        assert_eq!(
            zone("VIA SANTA CHIARA"),
            Err(AddressError::NoNumber {
                street: "VIA SANTA CHIARA".to_string()
            })
        );
        assert_eq!(
            zone("VIA SANTA CHIARA 100"),
            Err(AddressError::NumberOutOfRange {
                street: "VIA SANTA CHIARA".to_string(),
                number: 100
            })
        );
        assert_eq!(
            zone("STRADA MORANE 901"),
            Err(AddressError::NumberOutOfRange {
                street: "STRADA MORANE".to_string(),
                number: 901
            })
        );
        assert_eq!(
            zone("VIA SANTA CHAIRA 5"),
            Err(AddressError::UnknownStreet {
                street: "VIA SANTA CHAIRA".to_string(),
                hint: Some("VIA SANTA CHIARA".to_string())
            })
        );
        assert_eq!(
            zone("VIA DEI TULIPANI 5"),
            Err(AddressError::UnknownStreet {
                street: "VIA DEI TULIPANI".to_string(),
                hint: None
            })
        );
        let e = zone("VIA S. STEFANO 3");
        assert!(
            matches!(&e, Err(AddressError::AmbiguousStreet { candidates, .. }) if candidates.len() == 2),
            "{e:?}"
        );
        assert_eq!(
            zone("VIA SANTA CHAIRA 5")
                .err()
                .map(|e| e.to_string())
                .as_deref(),
            Some("unknown street VIA SANTA CHAIRA (did you mean VIA SANTA CHIARA?)")
        );
        assert!(matches!(zone(""), Err(AddressError::UnknownStreet { .. })));
    }

    #[test]
    fn normalization() {
        assert_eq!(
            normalize_street("V.le Martiri della Libertà, n° 12"),
            "VIALE MARTIRI DELLA LIBERTA N 12"
        );
        assert_eq!(normalize_street("P.ZZA  GRANDE,1"), "PIAZZA GRANDE 1");
        assert_eq!(
            normalize_street("C.so Canalgrande 22/b"),
            "CORSO CANALGRANDE 22/B"
        );
        assert_eq!(normalize_street("Via S. Chiara"), "VIA S CHIARA");
        assert_eq!(normalize_street("VIA SANT'EUFEMIA"), "VIA SANT EUFEMIA");
        assert_eq!(fold_saints("VIA SANTA CHIARA"), "VIA S CHIARA");
        assert_eq!(house_number("57/A"), Some(57));
        assert_eq!(house_number("22B"), Some(22));
        assert_eq!(house_number("XX"), None);
        assert_eq!(house_number("12ABCD"), None);
        assert_eq!(levenshtein("CHIARA", "CHAIRA"), 2);
        assert_eq!(levenshtein("", "ABC"), 3);
    }

    fn write_table(content: &str) -> Result<tempfile::NamedTempFile, std::io::Error> {
        use std::io::Write;
        let mut f = tempfile::NamedTempFile::new()?;
        f.write_all(content.as_bytes())?;
        Ok(f)
    }

    #[test]
    fn load_csv() -> Result<(), Box<dyn std::error::Error>> {
        let f = write_table(
            "street,number_from,number_to,parity,zone,postcode\n\
             VIA SANTA CHIARA,1,99,odd,Centro,41121\n\
             VIA SANTA CHIARA,2,98,EVEN,Crocetta,41124\n\
             PIAZZA GRANDE,,,,Centro,\n",
        )?;
        let t = StreetTable::load(f.path())?;
        let e = t.locate("Via S. Chiara 58")?;
        assert_eq!(
            (e.zone.as_str(), e.postcode.as_deref()),
            ("Crocetta", Some("41124"))
        );
        let e = t.locate("P.ZZA GRANDE 4")?;
        assert_eq!((e.zone.as_str(), e.postcode.as_deref()), ("Centro", None));
        Ok(())
    }

    #[test]
    fn load_csv_errors() -> Result<(), Box<dyn std::error::Error>> {
        let header = "street,number_from,number_to,parity,zone,postcode\n";
        let cases = [
            ("VIA A,1,x,,Z,\n", 2, "number_to"),
            ("VIA A,1,9,,Z,\nVIA B,1,9,pari,Z,\n", 3, "parity"),
            ("VIA A,9,1,,Z,\n", 2, "number_to"),
            (",1,9,,Z,\n", 2, "street"),
            ("VIA A,1,9,,,\n", 2, "zone"),
        ];
        for (body, line, field) in cases {
            let f = write_table(&format!("{header}{body}"))?;
            match StreetTable::load(f.path()) {
                Err(GeneralizeError::Field {
                    source_name,
                    line: l,
                    field: fl,
                    ..
                }) => {
                    assert_eq!((l, fl), (line, field), "{body:?}");
                    assert_eq!(source_name, f.path().display().to_string());
                }
                other => panic!("{body:?}: {other:?}"),
            }
        }
        let f = write_table(&format!("{header}VIA A,1,9,,Z,\nVIA B,1,9,,Z\n"))?;
        let e = StreetTable::load(f.path());
        assert!(
            matches!(e, Err(GeneralizeError::Record { line: 3, .. })),
            "{e:?}"
        );
        let f = write_table("via,da,a,parita,zona,cap\n")?;
        let e = StreetTable::load(f.path()).err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("bad header")));
        let missing = Path::new("/nonexistent/streets.csv");
        let e = StreetTable::load(missing).err().map(|e| e.to_string());
        assert!(
            e.is_some_and(|e| e.starts_with("cannot read street table /nonexistent/streets.csv"))
        );
        Ok(())
    }

    #[test]
    fn from_rows_errors_name_the_row() {
        let rows = vec![
            row("VIA A", None, None, Parity::Any, "Z"),
            row("VIA B", None, None, Parity::Any, " "),
        ];
        let e = StreetTable::from_rows(rows).err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("street table rows, line 2, field zone: empty zone")
        );
    }
}
