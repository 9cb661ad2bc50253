//! The dirt real exports carry, and the truth about it: injected defects (`truth/defects.csv`)
//! and which true person every person-level record belongs to (`truth/record_links.csv`).

use rand::Rng;

use crate::SynthError;
use crate::out::{Line, Sink};
use crate::population::register_id;

/// What is wrong with a record. Invalid kinds must be quarantined, by the custodian's
/// pseudonymizer (invalid tax codes, unparseable register birth dates) or by the lab's
/// validating loader (everything else); the others are dirty but valid.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// An exact repeat of the previous row (the repeat is the defect).
    DuplicateRow,
    /// A date that does not exist, such as 31/02/2021.
    InvalidDate,
    /// A number or date outside its plausible range.
    OutOfRange,
    /// A number that does not parse.
    NonNumeric,
    /// A zone code that is not in the city's code list.
    UnknownZone,
    /// A value outside a closed list.
    InvalidValue,
    /// A required field left empty.
    MissingRequired,
    /// A tax code with a wrong check character (the custodian's pseudonymizer rejects it).
    InvalidTaxCode,
    /// A person-level record without a tax code (the person reached the office before having
    /// one); the custodian falls back to a weak pseudonym from name, birth date and sex.
    NoTaxCode,
    /// An optional field left empty.
    MissingOptional,
    /// A name spelled differently from the register.
    NameTypo,
    /// A later record correcting an earlier one (both valid).
    Correction,
    /// A record registered long after the fact.
    LateRegistration,
}

impl Kind {
    pub fn label(self) -> &'static str {
        match self {
            Kind::DuplicateRow => "duplicate_row",
            Kind::InvalidDate => "invalid_date",
            Kind::OutOfRange => "out_of_range",
            Kind::NonNumeric => "non_numeric",
            Kind::UnknownZone => "unknown_zone",
            Kind::InvalidValue => "invalid_value",
            Kind::MissingRequired => "missing_required",
            Kind::InvalidTaxCode => "invalid_tax_code",
            Kind::NoTaxCode => "no_tax_code",
            Kind::MissingOptional => "missing_optional",
            Kind::NameTypo => "name_typo",
            Kind::Correction => "correction",
            Kind::LateRegistration => "late_registration",
        }
    }

    /// Whether the record must be quarantined, by the custodian's pseudonymizer or by the
    /// lab's loader following its source specs.
    pub fn quarantined(self) -> bool {
        matches!(
            self,
            Kind::DuplicateRow
                | Kind::InvalidDate
                | Kind::OutOfRange
                | Kind::NonNumeric
                | Kind::UnknownZone
                | Kind::InvalidValue
                | Kind::MissingRequired
                | Kind::InvalidTaxCode
        )
    }
}

/// Draws at most one defect kind per record from `(kind, probability)` pairs.
pub fn draw<R: Rng>(rng: &mut R, table: &[(Kind, f64)]) -> Option<Kind> {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for &(k, p) in table {
        acc += p;
        if u < acc {
            return Some(k);
        }
    }
    None
}

/// `truth/defects.csv` and `truth/record_links.csv`, written as records are produced.
pub struct Truth {
    defects: Sink,
    links: Sink,
    line: Line,
}

impl Truth {
    pub fn new(defects: Sink, links: Sink) -> Result<Truth, SynthError> {
        let mut t = Truth {
            defects,
            links,
            line: Line::new(b','),
        };
        t.defects
            .header(b"source,file,line,column,kind,expect_quarantine\n")?;
        t.links.header(b"source,file,line,record_key,person_id\n")?;
        Ok(t)
    }

    pub fn defect(
        &mut self,
        source: &str,
        file: &str,
        line: u64,
        column: &str,
        kind: Kind,
    ) -> Result<(), SynthError> {
        self.line.clear();
        self.line
            .text(source)
            .text(file)
            .int(line)
            .text(column)
            .text(kind.label())
            .text(if kind.quarantined() { "true" } else { "false" });
        let l = self.line.end().to_vec();
        self.defects.row(&l)
    }

    pub fn link(
        &mut self,
        source: &str,
        file: &str,
        line: u64,
        key: &str,
        person: u32,
    ) -> Result<(), SynthError> {
        self.line.clear();
        self.line
            .text(source)
            .text(file)
            .int(line)
            .text(key)
            .text(&register_id(person));
        let l = self.line.end().to_vec();
        self.links.row(&l)
    }

    pub fn finish(self, manifest: &mut crate::out::Manifest) -> Result<(), SynthError> {
        self.defects.finish(manifest)?;
        self.links.finish(manifest)
    }
}

/// A misspelling of a name as another office would type it; `None` if nothing applies.
pub fn typo<R: Rng>(rng: &mut R, s: &str) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    for _ in 0..6 {
        let out: Option<String> = match rng.random_range(0..7) {
            // Accent written as an apostrophe, or dropped.
            0 => {
                let pos = chars.iter().position(|c| "àèéìòùÀÈÉÌÒÙ".contains(*c));
                pos.map(|p| {
                    let base = crate::taxcode::fold_letters(&chars[p].to_string());
                    let base = if chars[p].is_lowercase() {
                        (base[0] as char).to_ascii_lowercase()
                    } else {
                        base[0] as char
                    };
                    let mut v: String = chars[..p].iter().collect();
                    v.push(base);
                    if rng.random_bool(0.7) {
                        v.push('\'');
                    }
                    v.extend(chars[p + 1..].iter());
                    v
                })
            }
            // Apostrophe or space dropped: D'ANGELO -> DANGELO, DE LUCA -> DELUCA.
            1 => {
                let pos = chars.iter().position(|&c| c == '\'' || c == ' ');
                pos.map(|p| {
                    chars
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| i != p)
                        .map(|(_, c)| *c)
                        .collect()
                })
            }
            // A double consonant written single.
            2 => {
                let pos = (1..chars.len())
                    .find(|&i| chars[i] == chars[i - 1] && chars[i].is_alphabetic());
                pos.map(|p| {
                    chars
                        .iter()
                        .enumerate()
                        .filter(|&(i, _)| i != p)
                        .map(|(_, c)| *c)
                        .collect()
                })
            }
            // A single consonant doubled.
            3 => {
                let cands: Vec<usize> = (1..chars.len().saturating_sub(1))
                    .filter(|&i| {
                        is_consonant(chars[i])
                            && chars[i - 1] != chars[i]
                            && chars[i + 1] != chars[i]
                    })
                    .collect();
                if cands.is_empty() {
                    None
                } else {
                    let p = cands[rng.random_range(0..cands.len())];
                    let mut v: Vec<char> = chars.clone();
                    v.insert(p, chars[p]);
                    Some(v.into_iter().collect())
                }
            }
            // Two adjacent letters swapped.
            4 => {
                if chars.len() < 4 {
                    None
                } else {
                    let p = rng.random_range(1..chars.len() - 1);
                    let mut v = chars.clone();
                    v.swap(p, p + 1);
                    Some(v.into_iter().collect())
                }
            }
            // A vowel confused (e/i, o/u).
            5 => {
                let cands: Vec<usize> = (1..chars.len())
                    .filter(|&i| "eiouEIOU".contains(chars[i]))
                    .collect();
                if cands.is_empty() {
                    None
                } else {
                    let p = cands[rng.random_range(0..cands.len())];
                    let mut v = chars.clone();
                    v[p] = match v[p] {
                        'e' => 'i',
                        'i' => 'e',
                        'o' => 'u',
                        'u' => 'o',
                        'E' => 'I',
                        'I' => 'E',
                        'O' => 'U',
                        _ => 'O',
                    };
                    Some(v.into_iter().collect())
                }
            }
            // Only the first of two given names.
            _ => s.split_once(' ').map(|(a, _)| a.to_string()),
        };
        if let Some(v) = out
            && v != s
            && !v.is_empty()
        {
            return Some(v);
        }
    }
    None
}

fn is_consonant(c: char) -> bool {
    c.is_ascii_alphabetic() && !"aeiouAEIOU".contains(c)
}

/// An impossible date in `dd/mm/yyyy` form, in the given year.
pub fn impossible_dmy<R: Rng>(rng: &mut R, year: i32) -> String {
    let (d, m) = impossible_day(rng, year);
    format!("{d:02}/{m:02}/{year:04}")
}

/// An impossible date in `yyyy-mm-dd` form, in the given year.
pub fn impossible_iso<R: Rng>(rng: &mut R, year: i32) -> String {
    let (d, m) = impossible_day(rng, year);
    format!("{year:04}-{m:02}-{d:02}")
}

fn impossible_day<R: Rng>(rng: &mut R, year: i32) -> (u32, u32) {
    let leap = chrono::NaiveDate::from_ymd_opt(year, 2, 29).is_some();
    match rng.random_range(0..4) {
        0 => (if leap { 30 } else { 29 }, 2),
        1 => (31, 2),
        2 => (31, [4, 6, 9, 11][rng.random_range(0..4)]),
        _ => (rng.random_range(1..=28), 13),
    }
}

/// A zone code that is not in the code list.
pub fn unknown_zone<R: Rng>(rng: &mut R) -> &'static str {
    ["Z00", "Z41", "Z45", "Z99", "Z4", "ZZ1", "Q1", "Z077"][rng.random_range(0..8)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn typos_differ_from_the_original() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for s in [
            "Niccolò",
            "D'ANGELO",
            "ROSSI",
            "Maria Luisa",
            "Hu",
            "De Luca",
            "Bergonzini",
        ] {
            for _ in 0..50 {
                if let Some(t) = typo(&mut rng, s) {
                    assert_ne!(t, s);
                    assert!(!t.is_empty());
                }
            }
        }
        assert!(typo(&mut rng, "Niccolò").is_some());
    }
}
