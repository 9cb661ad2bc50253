//! Quality reports: organizations that are probably the same body, and records nobody has
//! checked for a while.

use std::collections::BTreeMap;

use chrono::{Months, NaiveDate};
use deunicode::deunicode;

use crate::error::Result;
use crate::model::{Organization, Service, normalize_tax_id};
use crate::store::Registry;

/// The Jaro–Winkler similarity of normalized names from which [`Registry::duplicates`] reports
/// two organizations of the same municipality.
pub const NAME_THRESHOLD: f64 = 0.92;

/// Why two organizations look like one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DuplicateReason {
    /// Same codice fiscale / partita IVA.
    SameTaxId,
    /// Very similar names in the same municipality.
    SimilarName,
}

/// Two organizations that are probably one.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    /// The smaller id.
    pub a: String,
    pub b: String,
    pub reason: DuplicateReason,
    /// 1 for the same tax id; the Jaro–Winkler similarity of the normalized names otherwise.
    pub score: f64,
    /// What matched: the normalized tax id, or the two normalized names.
    pub detail: String,
}

/// Words and phrases of Italian legal forms left out when comparing names (after
/// [`normalize_name`]'s folding: lower case, no accents, no dots).
const LEGAL_FORMS: &[&str] = &[
    "societa cooperativa sociale a responsabilita limitata",
    "societa cooperativa sociale",
    "societa cooperativa",
    "cooperativa sociale",
    "coop sociale",
    "soc coop sociale",
    "soc coop soc",
    "soc coop",
    "coop soc",
    "associazione di promozione sociale",
    "organizzazione di volontariato",
    "impresa sociale",
    "ente del terzo settore",
    "societa a responsabilita limitata semplificata",
    "societa a responsabilita limitata",
    "societa per azioni",
    "societa in accomandita semplice",
    "societa in nome collettivo",
    "scarl",
    "scrl",
    "srls",
    "srl",
    "spa",
    "sas",
    "snc",
    "scs",
    "coop",
    "onlus",
    "aps",
    "odv",
    "ets",
    "a rl",
    "arl",
];

/// A name folded for comparison: transliterated to ASCII, lower case, dots removed (`s.r.l.` is
/// `srl`), punctuation to spaces, legal-form words and phrases removed, spaces collapsed.
pub fn normalize_name(name: &str) -> String {
    let folded = deunicode(name).to_lowercase().replace('.', "");
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let mut phrases: Vec<Vec<&str>> = LEGAL_FORMS.iter().map(|p| p.split(' ').collect()).collect();
    phrases.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    'words: while i < words.len() {
        for p in &phrases {
            if words[i..].starts_with(p) {
                i += p.len();
                continue 'words;
            }
        }
        out.push(words[i]);
        i += 1;
    }
    out.join(" ")
}

/// The similarity [`Registry::duplicates`] compares two names by, given their
/// [`normalize_name`] forms: their Jaro–Winkler similarity, 0 if either is empty (a name made only
/// of legal-form words says nothing). Public so that whoever writes organizations (a generator,
/// an import check) can tell beforehand whether two names will be reported as one body.
pub fn normalized_similarity(a: &str, b: &str) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    strsim::jaro_winkler(a, b)
}

/// Which records are stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StaleReason {
    /// Never verified.
    NeverVerified,
    /// Verified before the cut-off.
    VerifiedBefore,
}

/// A record whose verification is missing or too old.
#[derive(Debug, Clone, PartialEq)]
pub struct Stale {
    /// `organizations` or `services`.
    pub table: &'static str,
    pub id: String,
    pub name: String,
    /// Organization `verified_at`, service `assured_date`.
    pub verified_at: Option<NaiveDate>,
    pub reason: StaleReason,
}

impl Registry {
    /// Organizations that are probably the same body: those sharing a tax id, and those of
    /// the same municipality (organizations without one are compared among themselves) whose
    /// normalized names are at least [`NAME_THRESHOLD`] similar. Ordered by pair, then reason.
    pub fn duplicates(&self) -> Result<Vec<Duplicate>> {
        self.duplicates_with(NAME_THRESHOLD)
    }

    /// [`Registry::duplicates`] with another name-similarity threshold (0 to 1).
    pub fn duplicates_with(&self, threshold: f64) -> Result<Vec<Duplicate>> {
        let orgs = self.list::<Organization>()?;
        let mut out = Vec::new();
        let mut by_tax: BTreeMap<String, Vec<&Organization>> = BTreeMap::new();
        for o in &orgs {
            if let Some(t) = o.tax_id.as_deref().and_then(normalize_tax_id) {
                by_tax.entry(t).or_default().push(o);
            }
        }
        for (tax, group) in &by_tax {
            for (i, a) in group.iter().enumerate() {
                for b in &group[i + 1..] {
                    out.push(Duplicate {
                        a: a.id.clone(),
                        b: b.id.clone(),
                        reason: DuplicateReason::SameTaxId,
                        score: 1.0,
                        detail: tax.clone(),
                    });
                }
            }
        }
        let mut by_place: BTreeMap<String, Vec<(&Organization, String)>> = BTreeMap::new();
        for o in &orgs {
            let place = o
                .municipality
                .as_deref()
                .map(|m| deunicode(m).trim().to_lowercase())
                .unwrap_or_default();
            by_place
                .entry(place)
                .or_default()
                .push((o, normalize_name(&o.name)));
        }
        for group in by_place.values() {
            for (i, (a, na)) in group.iter().enumerate() {
                for (b, nb) in &group[i + 1..] {
                    if na.is_empty() || nb.is_empty() {
                        continue;
                    }
                    let score = normalized_similarity(na, nb);
                    if score >= threshold {
                        out.push(Duplicate {
                            a: a.id.clone(),
                            b: b.id.clone(),
                            reason: DuplicateReason::SimilarName,
                            score,
                            detail: format!("`{na}` ~ `{nb}`"),
                        });
                    }
                }
            }
        }
        out.sort_by(|x, y| (&x.a, &x.b, x.reason).cmp(&(&y.a, &y.b, y.reason)));
        Ok(out)
    }

    /// Organizations (`verified_at`) and services (`assured_date`) never verified, or verified
    /// more than `months` months before `as_of`. Organizations first, each by id.
    pub fn stale(&self, as_of: NaiveDate, months: u32) -> Result<Vec<Stale>> {
        let cutoff = as_of
            .checked_sub_months(Months::new(months))
            .unwrap_or(NaiveDate::MIN);
        let judge = |verified: Option<NaiveDate>| match verified {
            None => Some(StaleReason::NeverVerified),
            Some(d) if d < cutoff => Some(StaleReason::VerifiedBefore),
            Some(_) => None,
        };
        let mut out = Vec::new();
        for o in self.list::<Organization>()? {
            if let Some(reason) = judge(o.verified_at) {
                out.push(Stale {
                    table: "organizations",
                    id: o.id,
                    name: o.name,
                    verified_at: o.verified_at,
                    reason,
                });
            }
        }
        for s in self.list::<Service>()? {
            if let Some(reason) = judge(s.assured_date) {
                out.push(Stale {
                    table: "services",
                    id: s.id,
                    name: s.name,
                    verified_at: s.assured_date,
                    reason,
                });
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codes::OrganizationKind;
    use crate::testutil::{day, registry};

    fn check_name(input: &str, expect: &str) {
        assert_eq!(normalize_name(input), expect, "{input}");
    }

    #[test]
    fn names_lose_legal_forms() {
        check_name("Il Faro Cooperativa Sociale Onlus", "il faro");
        check_name("IL FARO SOC. COOP. SOCIALE", "il faro");
        check_name("Il Sole S.r.l.", "il sole");
        check_name("Società Cooperativa Sociale L'Àncora a r.l.", "l ancora");
        check_name("Associazione Amici APS", "associazione amici");
        check_name("Centro Sociale Anziani", "centro sociale anziani");
        check_name("S.p.A.", "");
    }

    fn org(id: &str, name: &str, tax: Option<&str>, place: Option<&str>) -> Organization {
        Organization {
            id: id.into(),
            name: name.into(),
            kind: Some(OrganizationKind::ThirdSector),
            tax_id: tax.map(Into::into),
            municipality: place.map(Into::into),
            ..Organization::default()
        }
    }

    #[test]
    fn duplicates_by_tax_id_and_by_name() {
        let mut reg = registry();
        reg.edit("test", |e| {
            // Same partita IVA as o-faro, written differently, in another town.
            e.insert(&org(
                "x-faro-bis",
                "Faro Servizi",
                Some("IT 01234567890"),
                Some("Altrove"),
            ))?;
            // Same name as o-faro once legal forms go, same town.
            e.insert(&org(
                "x-faro-coop",
                "IL FARO - Soc. Coop. Sociale",
                None,
                Some("esempio"),
            ))?;
            // Similar name, other town: not a duplicate.
            e.insert(&org(
                "x-faro-far",
                "Il Faro Cooperativa Sociale",
                None,
                Some("Lontano"),
            ))?;
            // Different body in the same town.
            e.insert(&org(
                "x-sole-aps",
                "Sole Nascente APS",
                None,
                Some("Esempio"),
            ))
        })
        .unwrap();
        let found: Vec<(String, String, DuplicateReason)> = reg
            .duplicates()
            .unwrap()
            .into_iter()
            .map(|d| (d.a, d.b, d.reason))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "o-faro".to_string(),
                    "x-faro-bis".to_string(),
                    DuplicateReason::SameTaxId
                ),
                (
                    "o-faro".to_string(),
                    "x-faro-coop".to_string(),
                    DuplicateReason::SimilarName
                ),
            ]
        );
        let d = &reg.duplicates().unwrap()[1];
        assert_eq!(d.score, 1.0);
        assert_eq!(d.detail, "`il faro` ~ `il faro`");
    }

    #[test]
    fn normalized_similarity_is_what_duplicates_compare() {
        let sim = |a: &str, b: &str| normalized_similarity(&normalize_name(a), &normalize_name(b));
        assert_eq!(
            sim("Il Faro Cooperativa Sociale Onlus", "IL FARO SOC. COOP."),
            1.0
        );
        assert_eq!(sim("S.r.l.", "S.p.A."), 0.0, "nothing left to compare");
        assert!(sim("Cooperativa Sociale La Rondine", "Le Rondini ODV") < NAME_THRESHOLD);
        assert!(sim("Il Glicine APS", "Il Glicne APS") >= NAME_THRESHOLD);
    }

    #[test]
    fn similar_but_distinct_names_below_threshold() {
        let mut reg = Registry::open_in_memory().unwrap();
        reg.edit("test", |e| {
            e.insert(&org(
                "a",
                "Cooperativa Sociale La Rondine",
                None,
                Some("Esempio"),
            ))?;
            e.insert(&org("b", "La Rondine Soc. Coop.", None, Some("Esempio")))?;
            e.insert(&org("c", "Le Rondini ODV", None, Some("Esempio")))?;
            e.insert(&org("d", "Il Gabbiano", None, Some("Esempio")))
        })
        .unwrap();
        let pairs: Vec<(String, String)> = reg
            .duplicates()
            .unwrap()
            .into_iter()
            .map(|d| (d.a, d.b))
            .collect();
        assert_eq!(pairs, vec![("a".to_string(), "b".to_string())]);
        // A laxer threshold also pairs the plural (0.88).
        let lax = reg.duplicates_with(0.85).unwrap();
        assert!(lax.iter().any(|d| d.a == "a" && d.b == "c"), "{lax:?}");
    }

    #[test]
    fn stale_records() {
        let reg = registry();
        let found: Vec<(&str, String, StaleReason)> = reg
            .stale(day("2024-03-01"), 12)
            .unwrap()
            .into_iter()
            .map(|s| (s.table, s.id, s.reason))
            .collect();
        assert_eq!(
            found,
            vec![
                (
                    "organizations",
                    "o-faro".to_string(),
                    StaleReason::VerifiedBefore
                ),
                (
                    "organizations",
                    "o-holding".to_string(),
                    StaleReason::NeverVerified
                ),
                (
                    "services",
                    "s-day-centre".to_string(),
                    StaleReason::VerifiedBefore
                ),
                (
                    "services",
                    "s-shelter".to_string(),
                    StaleReason::NeverVerified
                ),
            ]
        );
        // Verified exactly on the cut-off day is not stale.
        let on_cutoff = reg.stale(day("2025-01-15"), 12).unwrap();
        assert!(
            !on_cutoff.iter().any(|s| s.id == "o-comune"),
            "{on_cutoff:?}"
        );
    }
}
