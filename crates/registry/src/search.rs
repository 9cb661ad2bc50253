//! Search for the one-stop public map of services: by need (social risk), target group,
//! statistical zone, municipality, age, price, "open now", distance and free text in Italian.
//!
//! [`SearchIndex::build`] reads the registry once into memory: one document per service at a
//! location (a service offered at three places is three documents, each with its zone,
//! municipality, coordinates and schedules; a service without a place is one document without
//! them), active and temporarily closed services only unless [`IndexOptions::include_inactive`].
//! Text is analysed for Italian ([`analysis`]: folding, stop words, Snowball stems, words that
//! differ only in their final vowel joined) into an inverted index whose postings already hold
//! each term's BM25F score in each document, so a query only adds numbers in per-thread
//! scratch arrays: [`SearchIndex::search`] runs in tens of microseconds on thousands of
//! services and allocates in proportion to the documents it matches, never to the index.
//! Filters read a compact copy of each document's facts; "open at" reads schedules prepared
//! at build time, and only for the candidates that could make the page.
//!
//! **Ranking** is BM25F over five fields ([`Field`]): for a query term `t` and a document `d`,
//! `tf(t,d) = Σ_f w_f · tf_f(t,d) / (1 − b + b · len_f(d) / avglen_f)` (each field normalized by
//! its own length and its average over all documents), and the term scores
//! `idf(t) · tf(t,d) · (k1 + 1) / (k1 + tf(t,d))` with `idf(t) = ln(1 + (N − n_t + 0.5) / (n_t +
//! 0.5))`; a document's score is the sum over the query's words. Defaults ([`Bm25`]): `k1` 1.2,
//! `b` 0.75, weights name 4, taxonomy 2.5, organization 1.5, description 1, location 0.5.
//!
//! A query word reaches the index by its stem and by the words that differ from it only in the
//! final vowel (weight 1); the last word, unless the text ends with a space or punctuation,
//! also by prefix ([`PREFIX_WEIGHT`]: typing "domicil" finds "domiciliare"); a word of
//! [`MIN_TYPO_LEN`] letters or more that reaches nothing else, by one typo ([`TYPO_WEIGHT`]:
//! "assistensa" finds "assistenza"). A word's score in a document is its best alternative's,
//! times that alternative's weight. Words are alternatives (a document matching any of them is
//! found; matching more ranks higher). Small boosts then multiply the score: the whole query as
//! a phrase in the service's name ([`PHRASE_BOOST`], queries of two words or more), the
//! document in one of the query's zones ([`ZONE_BOOST`]), and nearness to [`Query::near`]
//! ([`NEAR_BOOST`]). Equal scores are ordered by service id, then service-at-location id.
//! Without text, hits come in the zones first, then nearest first (with `near`), then by name.
//! [`SearchIndex::suggest`] completes names, labels and words as they are typed.
//!
//! The index is a snapshot: build a new one after the registry changes.

pub mod analysis;
mod vocabulary;

use std::collections::HashMap;

use chrono::NaiveDateTime;

use crate::codes::{LinkEntity, SocialRisk, Status, TargetGroup};
use crate::error::Result;
use crate::model::{
    Address, Attribute, Location, Organization, Schedule, Service, ServiceAtLocation, TaxonomyTerm,
};
use crate::schedule::OpeningHours;
use crate::store::Registry;
use analysis::{Analyzer, is_stop_word, vowel_variants, words};
use vocabulary::Vocabulary;

/// The weight of a word reached by prefix (the last word of the query, as typed so far).
pub const PREFIX_WEIGHT: f64 = 0.8;
/// The weight of a word reached through one typo.
pub const TYPO_WEIGHT: f64 = 0.6;
/// A prefix shorter than this reaches nothing (one or two letters would reach half the index).
pub const MIN_PREFIX_LEN: usize = 3;
/// At most this many words are reached by one prefix, the most frequent first.
pub const MAX_PREFIX_WORDS: usize = 50;
/// Words shorter than this are not corrected (short words are too close to each other).
pub const MIN_TYPO_LEN: usize = 5;
/// Query words beyond this many are ignored.
pub const MAX_QUERY_WORDS: usize = 32;
/// The score is multiplied by `1 + PHRASE_BOOST` when the service's name holds the query's
/// words in order (stop words included; the last word as a prefix when it is one).
pub const PHRASE_BOOST: f64 = 0.5;
/// The score is multiplied by `1 + ZONE_BOOST` when the document is in one of the query's zones
/// (rather than kept because it has no zone).
pub const ZONE_BOOST: f64 = 0.2;
/// With [`Query::near`], the score is multiplied by `1 + NEAR_BOOST / (1 + km)`: 1.3 on the
/// spot, 1.15 at one kilometre, 1.03 at nine.
pub const NEAR_BOOST: f64 = 0.3;
/// The mean Earth radius (IUGG), for haversine distances.
pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// The fields of a document, from the heaviest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// The service's name and alternate name.
    Name,
    /// The Italian labels (and common synonyms) of its social risks and target groups, and the
    /// names and values of the other taxonomy terms attached to the service or to the service
    /// at the location.
    Taxonomy,
    /// The organization's name and alternate name.
    Organization,
    /// The service's description and eligibility, the service at location's description.
    Description,
    /// The location's name, alternate name and address, and its attributes' terms.
    Location,
}

impl Field {
    /// Every field, heaviest first; a field's position is its index in [`Bm25::weights`].
    pub const ALL: [Field; 5] = [
        Field::Name,
        Field::Taxonomy,
        Field::Organization,
        Field::Description,
        Field::Location,
    ];
}

const FIELDS: usize = Field::ALL.len();

/// The BM25F parameters (see the module documentation for the formula).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bm25 {
    /// Term-frequency saturation: how fast repeating a word stops adding to the score.
    pub k1: f64,
    /// Length normalization, 0 (none) to 1 (full), applied to each field with its own length.
    pub b: f64,
    /// The weight of each field, in the order of [`Field::ALL`].
    pub weights: [f64; FIELDS],
}

impl Default for Bm25 {
    /// `k1` 1.2 and `b` 0.75, the usual values; a match in the name counts four times one in the
    /// description, the taxonomy 2.5, the organization 1.5, the location's name and address half.
    fn default() -> Self {
        Bm25 {
            k1: 1.2,
            b: 0.75,
            weights: [4.0, 2.5, 1.5, 1.0, 0.5],
        }
    }
}

impl Bm25 {
    /// The weight of a field.
    pub fn weight(&self, field: Field) -> f64 {
        self.weights[field as usize]
    }
}

/// What [`SearchIndex::build_with`] indexes and how it ranks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IndexOptions {
    /// Index inactive and defunct services (and services of inactive or defunct organizations)
    /// too, e.g. for the registry's editors; the public map leaves them out.
    pub include_inactive: bool,
    pub bm25: Bm25,
}

/// A search: free text and filters. Filters are exact and combine with "and"; the values of
/// one filter combine with "or" (any of the risks, any of the zones).
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    /// Free text in Italian ("assistenza domiciliare anziani"); `None` or only stop words lists
    /// what the filters keep.
    pub text: Option<String>,
    /// Services addressing any of these social risks.
    pub risks: Vec<SocialRisk>,
    /// Services for any of these target groups; a service for everyone ([`TargetGroup::All`])
    /// is for every group.
    pub target_groups: Vec<TargetGroup>,
    /// Documents in any of these statistical zones, and documents with no zone (services without
    /// a place, or at a place not assigned to a zone, which serve the whole city) after them.
    pub zones: Vec<String>,
    /// Documents in this municipality (the location's, else the organization's; compared
    /// folded: "Forlì" is "forli").
    pub municipality: Option<String>,
    /// Documents open at this wall-clock date and time of the city, by the most specific
    /// schedules they have: the service at the location's (or the service's at that location),
    /// else the service's, else the location's opening hours. A temporarily closed service is
    /// never open.
    pub open_at: Option<NaiveDateTime>,
    /// Services whose age range (minimum and maximum age, each optional) includes this age.
    pub age: Option<u32>,
    /// Only services marked free.
    pub free_only: bool,
    /// A point (latitude, longitude): hits carry their distance in km and nearer ones rank
    /// higher.
    pub near: Option<(f64, f64)>,
    /// At most this many hits (default 20).
    pub limit: usize,
    /// Hits skipped before the first returned, for pages.
    pub offset: usize,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            text: None,
            risks: Vec::new(),
            target_groups: Vec::new(),
            zones: Vec::new(),
            municipality: None,
            open_at: None,
            age: None,
            free_only: false,
            near: None,
            limit: 20,
            offset: 0,
        }
    }
}

impl Query {
    /// A text search without filters.
    pub fn text(text: impl Into<String>) -> Query {
        Query {
            text: Some(text.into()),
            ..Query::default()
        }
    }
}

/// A service at a location found by a search.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Hit {
    pub service_id: String,
    /// `None` for a service without a place.
    pub location_id: Option<String>,
    pub service_at_location_id: Option<String>,
    /// The service's name.
    pub name: String,
    /// The organization's name.
    pub organization: String,
    /// The location's statistical zone.
    pub zone: Option<String>,
    /// Active or temporarily closed (others only in an index built with `include_inactive`).
    pub status: Status,
    /// The ranking score (0 without text).
    pub score: f64,
    /// The distance from [`Query::near`] in km, when both have coordinates.
    pub distance_km: Option<f64>,
    /// The query's words (folded) that matched, in query order, for highlighting.
    pub matched: Vec<String>,
}

/// A term's score in one document.
#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: u32,
    score: f64,
}

/// What a search needs of a document besides its terms.
#[derive(Debug, Clone)]
struct Doc {
    service_id: String,
    location_id: Option<String>,
    sal_id: Option<String>,
    name: String,
    organization: String,
    /// Index into `SearchIndex::zones`.
    zone: Option<u32>,
    /// Folded; interned in [`Facts`].
    municipality: Option<String>,
    status: Status,
    /// Bit `i` for `SocialRisk::ALL[i]`.
    risks: u32,
    /// Bit `i` for `TargetGroup::ALL[i]`.
    groups: u32,
    min_age: Option<u32>,
    max_age: Option<u32>,
    free: Option<bool>,
    coords: Option<(f64, f64)>,
    /// Range of `SearchIndex::schedules`.
    schedules: (u32, u32),
    /// The name's folded words, stop words included, each followed and preceded by a space.
    phrase: String,
    /// Position in name order (ties by id).
    name_rank: u32,
}

/// What the quick filters read of a document, apart from the rest so that scanning thousands
/// of them stays in cache.
#[derive(Debug, Clone, Copy)]
struct Facts {
    risks: u32,
    groups: u32,
    zone: Option<u32>,
    /// Index into `SearchIndex::municipalities`.
    municipality: Option<u32>,
    min_age: Option<u32>,
    max_age: Option<u32>,
    free: Option<bool>,
}

/// The in-memory search index over a registry's services (see the module documentation).
pub struct SearchIndex {
    /// Ordered by service id, then service-at-location id.
    docs: Vec<Doc>,
    /// The documents' facts, in document order.
    facts: Vec<Facts>,
    /// Folded municipality names, sorted.
    municipalities: Vec<String>,
    /// Document indexes in name order.
    by_name: Vec<u32>,
    vocabulary: Vocabulary,
    /// By term id, each ordered by document.
    postings: Vec<Vec<Posting>>,
    /// The opening hours of every document, in document order.
    schedules: Vec<OpeningHours>,
    /// Zone codes, sorted.
    zones: Vec<String>,
    suggestions: Suggestions,
    bm25: Bm25,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("documents", &self.docs.len())
            .field("terms", &self.vocabulary.len())
            .field("zones", &self.zones.len())
            .field("bm25", &self.bm25)
            .finish()
    }
}

fn bits<T: Copy + PartialEq>(all: &[T], values: &[T]) -> u32 {
    all.iter()
        .enumerate()
        .filter(|(_, v)| values.contains(v))
        .fold(0, |acc, (i, _)| acc | (1 << i))
}

/// The great-circle distance in km between two (latitude, longitude) points.
pub fn haversine_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (p1, p2) = (a.0.to_radians(), b.0.to_radians());
    let (dp, dl) = ((b.0 - a.0).to_radians(), (b.1 - a.1).to_radians());
    let h = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// The registry's rows a build reads, grouped by owner.
struct Sources {
    organizations: HashMap<String, Organization>,
    locations: HashMap<String, Location>,
    addresses: HashMap<String, Vec<Address>>,
    sals: HashMap<String, Vec<ServiceAtLocation>>,
    /// Schedules of a service at a location, by its id.
    by_sal: HashMap<String, Vec<Schedule>>,
    /// Schedules of a service (at any location, or at the one they name), by service id.
    by_service: HashMap<String, Vec<Schedule>>,
    /// Opening hours of a location, by location id.
    by_location: HashMap<String, Vec<Schedule>>,
    terms: HashMap<String, String>,
    attributes: HashMap<(LinkEntity, String), Vec<Attribute>>,
}

impl Sources {
    fn load(reg: &Registry) -> Result<Sources> {
        let mut addresses: HashMap<String, Vec<Address>> = HashMap::new();
        for a in reg.list::<Address>()? {
            addresses.entry(a.location_id.clone()).or_default().push(a);
        }
        let mut sals: HashMap<String, Vec<ServiceAtLocation>> = HashMap::new();
        for s in reg.list::<ServiceAtLocation>()? {
            sals.entry(s.service_id.clone()).or_default().push(s);
        }
        let (mut by_sal, mut by_service, mut by_location) =
            (HashMap::new(), HashMap::new(), HashMap::new());
        for s in reg.list::<Schedule>()? {
            let (map, key): (&mut HashMap<String, Vec<Schedule>>, _) =
                match (&s.service_at_location_id, &s.service_id, &s.location_id) {
                    (Some(k), _, _) => (&mut by_sal, k.clone()),
                    (None, Some(k), _) => (&mut by_service, k.clone()),
                    (None, None, Some(k)) => (&mut by_location, k.clone()),
                    (None, None, None) => continue,
                };
            map.entry(key).or_default().push(s);
        }
        let mut attributes: HashMap<(LinkEntity, String), Vec<Attribute>> = HashMap::new();
        for a in reg.list::<Attribute>()? {
            attributes
                .entry((a.link_entity, a.link_id.clone()))
                .or_default()
                .push(a);
        }
        Ok(Sources {
            organizations: reg
                .list::<Organization>()?
                .into_iter()
                .map(|o| (o.id.clone(), o))
                .collect(),
            locations: reg
                .list::<Location>()?
                .into_iter()
                .map(|l| (l.id.clone(), l))
                .collect(),
            addresses,
            sals,
            by_sal,
            by_service,
            by_location,
            terms: reg
                .list::<TaxonomyTerm>()?
                .into_iter()
                .map(|t| (t.id, t.name))
                .collect(),
            attributes,
        })
    }

    /// The names and values of the attributes of an object, one per line.
    fn attribute_text(&self, entity: LinkEntity, id: &str, out: &mut String) {
        for a in self
            .attributes
            .get(&(entity, id.to_string()))
            .map_or(&[][..], Vec::as_slice)
        {
            if let Some(name) = self.terms.get(&a.taxonomy_term_id) {
                push_line(out, name);
            }
            if let Some(value) = &a.value {
                push_line(out, value);
            }
        }
    }

    /// The schedules that say when a service is open at a location: the most specific level
    /// present (the service at the location's or the service's at that location; else the
    /// service's own; else the location's).
    fn schedules_for(
        &self,
        service: &str,
        location: Option<&str>,
        sal: Option<&str>,
    ) -> Vec<Schedule> {
        let of = |map: &HashMap<String, Vec<Schedule>>, key: Option<&str>| -> Vec<Schedule> {
            key.and_then(|k| map.get(k)).cloned().unwrap_or_default()
        };
        let (own, at_location): (Vec<Schedule>, Vec<Schedule>) =
            of(&self.by_service, Some(service))
                .into_iter()
                .filter(|s| s.location_id.is_none() || s.location_id.as_deref() == location)
                .partition(|s| s.location_id.is_none());
        let mut specific = of(&self.by_sal, sal);
        specific.extend(at_location);
        [specific, own, of(&self.by_location, location)]
            .into_iter()
            .find(|level| !level.is_empty())
            .unwrap_or_default()
    }
}

fn push_line(out: &mut String, text: &str) {
    if !text.is_empty() {
        out.push_str(text);
        out.push('\n');
    }
}

/// One document's texts and facts, before analysis.
struct DocInput {
    fields: [String; FIELDS],
    doc: Doc,
}

/// Accumulates documents, then computes the postings' scores.
struct Builder {
    analyzer: Analyzer,
    /// Stem to term id.
    terms: HashMap<String, u32>,
    /// Folded word to term id.
    words: HashMap<String, u32>,
    /// By term id: (document, frequency in each field).
    raw: Vec<Vec<(u32, [u16; FIELDS])>>,
    /// By document: length of each field in terms.
    lengths: Vec<[u32; FIELDS]>,
    docs: Vec<Doc>,
    schedules: Vec<OpeningHours>,
    suggestions: SuggestionsBuilder,
    /// Scratch: (term, field) of the current document.
    seen: Vec<(u32, u8)>,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            analyzer: Analyzer::default(),
            terms: HashMap::new(),
            words: HashMap::new(),
            raw: Vec::new(),
            lengths: Vec::new(),
            docs: Vec::new(),
            schedules: Vec::new(),
            suggestions: SuggestionsBuilder::default(),
            seen: Vec::new(),
        }
    }

    fn term_of(&mut self, folded: &str) -> u32 {
        if let Some(&t) = self.words.get(folded) {
            return t;
        }
        let stem = self.analyzer.stem(folded);
        let next = self.terms.len() as u32;
        let t = match self.terms.get(stem.as_ref()) {
            Some(&t) => t,
            None => {
                self.terms.insert(stem.into_owned(), next);
                self.raw.push(Vec::new());
                next
            }
        };
        self.words.insert(folded.to_string(), t);
        t
    }

    fn add(&mut self, input: DocInput, schedules: Vec<Schedule>) {
        let id = self.docs.len() as u32;
        let mut lengths = [0u32; FIELDS];
        self.seen.clear();
        let mut suggest_words: Vec<(String, String)> = Vec::new();
        for (f, text) in input.fields.iter().enumerate() {
            for w in words(text) {
                if is_stop_word(&w.folded) {
                    continue;
                }
                let t = self.term_of(&w.folded);
                self.seen.push((t, f as u8));
                lengths[f] += 1;
                let suggestable = f == Field::Name as usize || f == Field::Taxonomy as usize;
                if suggestable && w.folded.len() >= MIN_PREFIX_LEN {
                    suggest_words.push((w.folded, w.original.to_lowercase()));
                }
            }
        }
        self.seen.sort_unstable();
        let mut i = 0;
        while i < self.seen.len() {
            let term = self.seen[i].0;
            let mut tf = [0u16; FIELDS];
            while i < self.seen.len() && self.seen[i].0 == term {
                let f = self.seen[i].1 as usize;
                tf[f] = tf[f].saturating_add(1);
                i += 1;
            }
            self.raw[term as usize].push((id, tf));
        }
        let name = self.suggestions.add_phrase(&input.doc.name);
        suggest_words.sort_by(|a, b| a.0.cmp(&b.0));
        suggest_words.dedup_by(|a, b| a.0 == b.0);
        for (folded, original) in suggest_words {
            // A one-word name is already counted, with its capitals.
            if folded != name {
                self.suggestions.add(&folded, &original, 1);
            }
        }
        let start = self.schedules.len() as u32;
        self.schedules
            .extend(schedules.iter().map(OpeningHours::new));
        let mut doc = input.doc;
        doc.schedules = (start, self.schedules.len() as u32);
        self.lengths.push(lengths);
        self.docs.push(doc);
    }

    /// How many documents so far have a non-zero `bits`.
    fn count(&self, bits: impl Fn(&Doc) -> u32) -> u32 {
        self.docs.iter().filter(|d| bits(d) != 0).count() as u32
    }

    /// Joins the terms of words that differ only in their final vowel (see
    /// [`analysis::vowel_variants`]): each class of terms becomes its smallest id, whose
    /// postings absorb the others'.
    fn conflate(&mut self) {
        fn root(parent: &mut [u32], x: u32) -> u32 {
            let mut r = x;
            while parent[r as usize] != r {
                r = parent[r as usize];
            }
            let mut y = x;
            while parent[y as usize] != r {
                let next = parent[y as usize];
                parent[y as usize] = r;
                y = next;
            }
            r
        }
        let mut parent: Vec<u32> = (0..self.raw.len() as u32).collect();
        for (word, &t) in &self.words {
            for variant in vowel_variants(word) {
                if let Some(&u) = self.words.get(&variant) {
                    let (a, b) = (root(&mut parent, t), root(&mut parent, u));
                    parent[a.max(b) as usize] = a.min(b);
                }
            }
        }
        for t in 0..parent.len() as u32 {
            let c = root(&mut parent, t);
            if c == t {
                continue;
            }
            let moved = std::mem::take(&mut self.raw[t as usize]);
            let kept = std::mem::take(&mut self.raw[c as usize]);
            self.raw[c as usize] = merge_postings(kept, moved);
        }
        for t in self.words.values_mut().chain(self.terms.values_mut()) {
            *t = root(&mut parent, *t);
        }
    }

    fn finish(mut self, bm25: Bm25, zones: Vec<String>) -> SearchIndex {
        self.conflate();
        let n = self.docs.len() as f64;
        let mut avg = [0f64; FIELDS];
        for l in &self.lengths {
            for f in 0..FIELDS {
                avg[f] += f64::from(l[f]);
            }
        }
        for a in &mut avg {
            *a = if n > 0.0 { *a / n } else { 0.0 };
        }
        let postings: Vec<Vec<Posting>> = self
            .raw
            .iter()
            .map(|list| {
                let df = list.len() as f64;
                let idf = ((n - df + 0.5) / (df + 0.5)).ln_1p();
                list.iter()
                    .map(|(doc, tf)| {
                        let lengths = &self.lengths[*doc as usize];
                        let mut weighted = 0.0;
                        for f in 0..FIELDS {
                            if tf[f] == 0 {
                                continue;
                            }
                            let norm = if avg[f] > 0.0 {
                                1.0 - bm25.b + bm25.b * f64::from(lengths[f]) / avg[f]
                            } else {
                                1.0
                            };
                            weighted += bm25.weights[f] * f64::from(tf[f]) / norm;
                        }
                        let score = idf * weighted * (bm25.k1 + 1.0) / (bm25.k1 + weighted);
                        Posting { doc: *doc, score }
                    })
                    .collect()
            })
            .collect();
        let mut docs = self.docs;
        let mut by_name: Vec<u32> = (0..docs.len() as u32).collect();
        by_name.sort_by(|&a, &b| {
            docs[a as usize]
                .phrase
                .cmp(&docs[b as usize].phrase)
                .then(a.cmp(&b))
        });
        for (rank, &d) in by_name.iter().enumerate() {
            docs[d as usize].name_rank = rank as u32;
        }
        let mut municipalities: Vec<String> =
            docs.iter().filter_map(|d| d.municipality.clone()).collect();
        municipalities.sort_unstable();
        municipalities.dedup();
        let facts = docs
            .iter()
            .map(|d| Facts {
                risks: d.risks,
                groups: d.groups,
                zone: d.zone,
                municipality: d
                    .municipality
                    .as_ref()
                    .and_then(|m| municipalities.binary_search(m).ok())
                    .map(|i| i as u32),
                min_age: d.min_age,
                max_age: d.max_age,
                free: d.free,
            })
            .collect();
        SearchIndex {
            docs,
            facts,
            municipalities,
            by_name,
            vocabulary: Vocabulary::new(self.terms, self.words, MIN_TYPO_LEN),
            postings,
            schedules: self.schedules,
            zones,
            suggestions: self.suggestions.finish(),
            bm25,
        }
    }
}

/// Two lists of (document, field frequencies) ordered by document, as one.
fn merge_postings(
    a: Vec<(u32, [u16; FIELDS])>,
    b: Vec<(u32, [u16; FIELDS])>,
) -> Vec<(u32, [u16; FIELDS])> {
    let mut out = a;
    out.extend(b);
    out.sort_by_key(|p| p.0);
    out.dedup_by(|later, kept| {
        if later.0 != kept.0 {
            return false;
        }
        for f in 0..FIELDS {
            kept.1[f] = kept.1[f].saturating_add(later.1[f]);
        }
        true
    });
    out
}

/// The folded words of a text joined by single spaces.
fn folded_words(text: &str) -> String {
    let mut out = String::new();
    for w in words(text) {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&w.folded);
    }
    out
}

/// Names, labels and words offered as completions.
#[derive(Debug, Default)]
struct SuggestionsBuilder {
    /// Folded text to entry index.
    index: HashMap<String, u32>,
    /// (display text, folded text, number of documents).
    entries: Vec<(String, String, u32)>,
}

impl SuggestionsBuilder {
    fn add(&mut self, folded: &str, display: &str, count: u32) {
        if folded.is_empty() {
            return;
        }
        match self.index.get(folded) {
            Some(&i) => self.entries[i as usize].2 += count,
            None => {
                self.index
                    .insert(folded.to_string(), self.entries.len() as u32);
                self.entries
                    .push((display.to_string(), folded.to_string(), count));
            }
        }
    }

    /// Adds a name; returns its folded form.
    fn add_phrase(&mut self, text: &str) -> String {
        let folded = folded_words(text);
        self.add(&folded, text.trim(), 1);
        folded
    }

    fn finish(self) -> Suggestions {
        let mut keys: Vec<(String, u32, bool)> = Vec::new();
        for (i, (_, folded, _)) in self.entries.iter().enumerate() {
            let mut start = 0;
            let mut first = true;
            for word in folded.split(' ') {
                if first || !is_stop_word(word) {
                    keys.push((folded[start..].to_string(), i as u32, first));
                }
                start += word.len() + 1;
                first = false;
            }
        }
        keys.sort_unstable();
        Suggestions {
            keys,
            entries: self.entries.into_iter().map(|(d, _, n)| (d, n)).collect(),
        }
    }
}

/// Completions: every entry under its folded text and under each of its word positions not at
/// a stop word ("Centro diurno per anziani" is found by "centro", "diurno" and "anziani").
#[derive(Debug, Default)]
struct Suggestions {
    /// (key, entry, whether the key is the entry's start), sorted.
    keys: Vec<(String, u32, bool)>,
    /// (display text, number of documents).
    entries: Vec<(String, u32)>,
}

/// A query word and the index terms it reaches, with their weights.
#[derive(Debug)]
struct QueryWord {
    folded: String,
    alternatives: Vec<(u32, f64)>,
}

/// A query's text, analysed against the index.
#[derive(Debug, Default)]
struct ParsedText {
    words: Vec<QueryWord>,
    /// The folded words as a phrase to find in names (queries of two words or more).
    phrase: Option<String>,
}

/// A query's filters, resolved against the index.
struct Filter {
    risks: u32,
    groups: u32,
    all_groups: u32,
    zones: Option<Vec<u32>>,
    /// `Some(None)`: a municipality the index does not know.
    municipality: Option<Option<u32>>,
    age: Option<u32>,
    free_only: bool,
    open_at: Option<NaiveDateTime>,
}

impl Filter {
    /// Whether the quick filters keep everything.
    fn keeps_all(&self) -> bool {
        self.risks == 0
            && self.groups == 0
            && self.zones.is_none()
            && self.municipality.is_none()
            && self.age.is_none()
            && !self.free_only
    }

    /// Every filter but "open at" (the costly one, checked last).
    fn quick(&self, d: &Facts) -> bool {
        (self.risks == 0 || d.risks & self.risks != 0)
            && (self.groups == 0 || d.groups & (self.groups | self.all_groups) != 0)
            && self
                .zones
                .as_ref()
                .is_none_or(|z| d.zone.is_none_or(|dz| z.contains(&dz)))
            && self
                .municipality
                .is_none_or(|m| m.is_some() && d.municipality == m)
            && self.age.is_none_or(|age| {
                d.min_age.is_none_or(|min| age >= min) && d.max_age.is_none_or(|max| age <= max)
            })
            && (!self.free_only || d.free == Some(true))
    }

    fn open(&self, d: &Doc, schedules: &[OpeningHours]) -> bool {
        let Some(at) = self.open_at else {
            return true;
        };
        d.status == Status::Active
            && schedules[d.schedules.0 as usize..d.schedules.1 as usize]
                .iter()
                .any(|s| s.is_open_at(at))
    }

    fn in_zone(&self, d: &Facts) -> bool {
        match (&self.zones, d.zone) {
            (Some(z), Some(dz)) => z.contains(&dz),
            _ => false,
        }
    }
}

/// Dense per-document arrays for scoring, kept per thread and reused by every query (and every
/// index) on it, all zeros between queries: a query touches only the entries of the documents
/// it matches and allocates nothing in proportion to the index.
#[derive(Debug, Default)]
struct Scratch {
    /// Score so far, by document.
    score: Vec<f64>,
    /// Words matched so far (bit per word), by document; 0 for a document not matched yet.
    matched: Vec<u32>,
    /// The current word's best score, by document.
    best: Vec<f64>,
    /// The documents with `matched` not 0.
    touched: Vec<u32>,
    /// The documents with `best` not 0.
    word_touched: Vec<u32>,
}

impl Scratch {
    /// Grows the arrays to `n` documents (they never shrink).
    fn fit(&mut self, n: usize) {
        if self.score.len() < n {
            self.score.resize(n, 0.0);
            self.matched.resize(n, 0);
            self.best.resize(n, 0.0);
        }
    }
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// A document that passed the filters, with what ranks it.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    doc: u32,
    score: f64,
    /// Bit `i` for the query's word `i`.
    matched: u32,
    distance: Option<f64>,
}

impl SearchIndex {
    /// Indexes the active and temporarily closed services of a registry.
    pub fn build(reg: &Registry) -> Result<SearchIndex> {
        SearchIndex::build_with(reg, &IndexOptions::default())
    }

    /// Indexes a registry with options.
    pub fn build_with(reg: &Registry, options: &IndexOptions) -> Result<SearchIndex> {
        let src = Sources::load(reg)?;
        let services = reg.list::<Service>()?;
        let mut zones: Vec<String> = src
            .locations
            .values()
            .filter_map(|l| l.zone.clone())
            .collect();
        zones.sort_unstable();
        zones.dedup();
        let zone_of = |z: &Option<String>| {
            z.as_ref()
                .and_then(|z| zones.binary_search(z).ok())
                .map(|i| i as u32)
        };
        let mut builder = Builder::new();
        let no_sals = Vec::new();
        for service in &services {
            let org = src.organizations.get(&service.organization_id);
            let status = match (service.status, org.map(|o| o.status)) {
                (Status::Active, Some(org_status)) => org_status,
                (s, _) => s,
            };
            let public = matches!(status, Status::Active | Status::TemporarilyClosed);
            if !public && !options.include_inactive {
                continue;
            }
            let organization = org.map(|o| o.name.clone()).unwrap_or_default();
            let mut texts: [String; FIELDS] = Default::default();
            for part in [Some(&service.name), service.alternate_name.as_ref()]
                .into_iter()
                .flatten()
            {
                push_line(&mut texts[Field::Name as usize], part);
            }
            let taxonomy = &mut texts[Field::Taxonomy as usize];
            for r in &service.risks {
                push_line(taxonomy, r.label_it());
                push_line(taxonomy, r.search_terms_it());
            }
            for g in &service.target_groups {
                push_line(taxonomy, g.label_it());
                push_line(taxonomy, g.search_terms_it());
            }
            src.attribute_text(LinkEntity::Service, &service.id, taxonomy);
            for part in [
                org.map(|o| &o.name),
                org.and_then(|o| o.alternate_name.as_ref()),
            ]
            .into_iter()
            .flatten()
            {
                push_line(&mut texts[Field::Organization as usize], part);
            }
            for part in [
                service.description.as_ref(),
                service.eligibility_description.as_ref(),
            ]
            .into_iter()
            .flatten()
            {
                push_line(&mut texts[Field::Description as usize], part);
            }
            let doc = Doc {
                service_id: service.id.clone(),
                location_id: None,
                sal_id: None,
                name: service.name.clone(),
                organization,
                zone: None,
                municipality: org.and_then(|o| o.municipality.as_deref()).map(fold_key),
                status,
                risks: bits(SocialRisk::ALL, &service.risks),
                groups: bits(TargetGroup::ALL, &service.target_groups),
                min_age: service.minimum_age,
                max_age: service.maximum_age,
                free: service.free,
                coords: None,
                schedules: (0, 0),
                phrase: format!(" {} ", folded_words(&service.name)),
                name_rank: 0,
            };
            let sals = src.sals.get(&service.id).unwrap_or(&no_sals);
            if sals.is_empty() {
                let schedules = src.schedules_for(&service.id, None, None);
                builder.add(DocInput { fields: texts, doc }, schedules);
                continue;
            }
            for sal in sals {
                let mut fields = texts.clone();
                let mut doc = doc.clone();
                doc.location_id = Some(sal.location_id.clone());
                doc.sal_id = Some(sal.id.clone());
                if let Some(d) = &sal.description {
                    push_line(&mut fields[Field::Description as usize], d);
                }
                src.attribute_text(
                    LinkEntity::ServiceAtLocation,
                    &sal.id,
                    &mut fields[Field::Taxonomy as usize],
                );
                if let Some(loc) = src.locations.get(&sal.location_id) {
                    let text = &mut fields[Field::Location as usize];
                    for part in [loc.name.as_ref(), loc.alternate_name.as_ref()]
                        .into_iter()
                        .flatten()
                    {
                        push_line(text, part);
                    }
                    for a in src.addresses.get(&loc.id).map_or(&[][..], Vec::as_slice) {
                        push_line(text, &a.address_1);
                        if let Some(a2) = &a.address_2 {
                            push_line(text, a2);
                        }
                        push_line(text, &a.city);
                    }
                    src.attribute_text(LinkEntity::Location, &loc.id, text);
                    doc.zone = zone_of(&loc.zone);
                    if let Some(m) = &loc.municipality {
                        doc.municipality = Some(fold_key(m));
                    }
                    doc.coords = loc.latitude.zip(loc.longitude);
                }
                let schedules =
                    src.schedules_for(&service.id, Some(&sal.location_id), Some(&sal.id));
                builder.add(DocInput { fields, doc }, schedules);
            }
        }
        // Labels of several words as completions ("Persone senza dimora"); their words, and
        // one-word labels, are already there as words of the taxonomy field.
        let labels = SocialRisk::ALL
            .iter()
            .map(|r| {
                (
                    r.label_it(),
                    builder.count(|d| d.risks & bits(SocialRisk::ALL, &[*r])),
                )
            })
            .chain(TargetGroup::ALL.iter().map(|g| {
                (
                    g.label_it(),
                    builder.count(|d| d.groups & bits(TargetGroup::ALL, &[*g])),
                )
            }))
            .collect::<Vec<_>>();
        for (label, n) in labels {
            let folded = folded_words(label);
            if n > 0 && folded.contains(' ') {
                builder.suggestions.add(&folded, label, n);
            }
        }
        Ok(builder.finish(options.bm25, zones))
    }

    /// How many documents (services at locations).
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether no service was indexed.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// How many distinct terms (stems).
    pub fn terms(&self) -> usize {
        self.vocabulary.len()
    }

    /// The statistical zones of the indexed locations, sorted.
    pub fn zones(&self) -> &[String] {
        &self.zones
    }

    /// The ranking parameters.
    pub fn bm25(&self) -> &Bm25 {
        &self.bm25
    }

    /// Runs a query: the page `offset..offset + limit` of the hits, best first.
    pub fn search(&self, query: &Query) -> Vec<Hit> {
        if query.limit == 0 {
            return Vec::new();
        }
        let filter = self.filter(query);
        let text = query
            .text
            .as_deref()
            .map(|t| self.parse(t))
            .unwrap_or_default();
        if text.words.is_empty() {
            return self.browse(query, &filter);
        }
        let matches = SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self.accumulate(&text, &filter, &mut scratch),
            Err(_) => self.accumulate(&text, &filter, &mut Scratch::default()),
        });
        let every_word = u32::MAX >> (32 - text.words.len());
        let mut candidates: Vec<Candidate> = Vec::with_capacity(matches.len());
        for (doc, mut score, matched) in matches {
            let d = &self.docs[doc as usize];
            // A phrase in the name means every word matched: test that first, it is cheaper.
            if matched == every_word && text.phrase.as_ref().is_some_and(|p| d.phrase.contains(p)) {
                score *= 1.0 + PHRASE_BOOST;
            }
            if filter.in_zone(&self.facts[doc as usize]) {
                score *= 1.0 + ZONE_BOOST;
            }
            let distance = query.near.zip(d.coords).map(|(a, b)| haversine_km(a, b));
            if let Some(km) = distance {
                score *= 1.0 + NEAR_BOOST / (1.0 + km);
            }
            candidates.push(Candidate {
                doc,
                score,
                matched,
                distance,
            });
        }
        let order =
            |a: &Candidate, b: &Candidate| b.score.total_cmp(&a.score).then(a.doc.cmp(&b.doc));
        self.page(candidates, query, &filter, order, &text)
    }

    /// Term-at-a-time scoring: each word's best alternative per document, summed over the
    /// words in query order, for the documents that pass the quick filters. Returns
    /// (document, score, words matched) in no particular order and leaves `scratch` clean.
    fn accumulate(
        &self,
        text: &ParsedText,
        filter: &Filter,
        scratch: &mut Scratch,
    ) -> Vec<(u32, f64, u32)> {
        scratch.fit(self.docs.len());
        let Scratch {
            score,
            matched,
            best,
            touched,
            word_touched,
        } = scratch;
        let all = filter.keeps_all();
        for (i, word) in text.words.iter().enumerate() {
            for &(term, weight) in &word.alternatives {
                for p in &self.postings[term as usize] {
                    let doc = p.doc as usize;
                    if !all && !filter.quick(&self.facts[doc]) {
                        continue;
                    }
                    // Posting scores are positive (idf > 0, frequencies > 0): 0 means unseen.
                    let s = weight * p.score;
                    if best[doc] == 0.0 {
                        word_touched.push(p.doc);
                    }
                    if s > best[doc] {
                        best[doc] = s;
                    }
                }
            }
            for doc in word_touched.drain(..) {
                let d = doc as usize;
                if matched[d] == 0 {
                    touched.push(doc);
                }
                score[d] += best[d];
                matched[d] |= 1 << i;
                best[d] = 0.0;
            }
        }
        touched
            .drain(..)
            .map(|doc| {
                let d = doc as usize;
                let out = (doc, score[d], matched[d]);
                (score[d], matched[d]) = (0.0, 0);
                out
            })
            .collect()
    }

    /// Hits without text: in the zones first, then nearest, then by name.
    fn browse(&self, query: &Query, filter: &Filter) -> Vec<Hit> {
        let empty = ParsedText::default();
        if filter.zones.is_none() && query.near.is_none() {
            let mut hits = Vec::new();
            let mut skipped = 0;
            for &doc in &self.by_name {
                let d = &self.docs[doc as usize];
                if !filter.quick(&self.facts[doc as usize]) || !filter.open(d, &self.schedules) {
                    continue;
                }
                if skipped < query.offset {
                    skipped += 1;
                    continue;
                }
                let c = Candidate {
                    doc,
                    score: 0.0,
                    matched: 0,
                    distance: None,
                };
                hits.push(self.hit(&c, &empty));
                if hits.len() == query.limit {
                    break;
                }
            }
            return hits;
        }
        let candidates: Vec<Candidate> = self
            .docs
            .iter()
            .zip(&self.facts)
            .enumerate()
            .filter(|(_, (_, f))| filter.quick(f))
            .map(|(i, (d, _))| Candidate {
                doc: i as u32,
                score: 0.0,
                matched: 0,
                distance: query.near.zip(d.coords).map(|(a, b)| haversine_km(a, b)),
            })
            .collect();
        let order = |a: &Candidate, b: &Candidate| {
            let (da, db) = (&self.docs[a.doc as usize], &self.docs[b.doc as usize]);
            let (fa, fb) = (&self.facts[a.doc as usize], &self.facts[b.doc as usize]);
            filter
                .in_zone(fb)
                .cmp(&filter.in_zone(fa))
                .then_with(|| match (a.distance, b.distance) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                })
                .then(da.name_rank.cmp(&db.name_rank))
        };
        self.page(candidates, query, filter, order, &empty)
    }

    /// Cuts the page out of the candidates, best first, sorting no more of them than needed:
    /// the best ones are selected in linear time and sorted, then checked against "open at"
    /// (costly, so only for candidates that could make the page); if too many fail, the next
    /// best, twice as many each time.
    fn page(
        &self,
        mut candidates: Vec<Candidate>,
        query: &Query,
        filter: &Filter,
        order: impl Fn(&Candidate, &Candidate) -> std::cmp::Ordering,
        text: &ParsedText,
    ) -> Vec<Hit> {
        let wanted = query.offset.saturating_add(query.limit);
        let mut kept: Vec<Candidate> = Vec::with_capacity(wanted.min(candidates.len()));
        let mut rest = &mut candidates[..];
        let mut chunk = wanted;
        while kept.len() < wanted && !rest.is_empty() {
            let n = chunk.min(rest.len());
            if n < rest.len() {
                rest.select_nth_unstable_by(n, &order);
            }
            let (head, tail) = rest.split_at_mut(n);
            head.sort_unstable_by(&order);
            for c in head.iter() {
                if filter.open(&self.docs[c.doc as usize], &self.schedules) {
                    kept.push(*c);
                    if kept.len() == wanted {
                        break;
                    }
                }
            }
            rest = tail;
            chunk = chunk.saturating_mul(2);
        }
        kept.iter()
            .skip(query.offset)
            .map(|c| self.hit(c, text))
            .collect()
    }

    fn hit(&self, c: &Candidate, text: &ParsedText) -> Hit {
        let d = &self.docs[c.doc as usize];
        Hit {
            service_id: d.service_id.clone(),
            location_id: d.location_id.clone(),
            service_at_location_id: d.sal_id.clone(),
            name: d.name.clone(),
            organization: d.organization.clone(),
            zone: d.zone.map(|z| self.zones[z as usize].clone()),
            status: d.status,
            score: c.score,
            distance_km: c.distance,
            matched: text
                .words
                .iter()
                .enumerate()
                .filter(|(i, _)| c.matched & (1 << i) != 0)
                .map(|(_, w)| w.folded.clone())
                .collect(),
        }
    }

    fn filter(&self, query: &Query) -> Filter {
        Filter {
            risks: bits(SocialRisk::ALL, &query.risks),
            groups: bits(TargetGroup::ALL, &query.target_groups),
            all_groups: bits(TargetGroup::ALL, &[TargetGroup::All]),
            zones: (!query.zones.is_empty()).then(|| {
                query
                    .zones
                    .iter()
                    .filter_map(|z| self.zones.binary_search(z).ok())
                    .map(|i| i as u32)
                    .collect()
            }),
            municipality: query.municipality.as_deref().map(|m| {
                self.municipalities
                    .binary_search(&fold_key(m))
                    .ok()
                    .map(|i| i as u32)
            }),
            age: query.age,
            free_only: query.free_only,
            open_at: query.open_at,
        }
    }

    /// Analyses a query's text and finds what each word reaches in the index.
    fn parse(&self, text: &str) -> ParsedText {
        let all: Vec<String> = words(text).map(|w| w.folded).collect();
        let typing = text.chars().last().is_some_and(char::is_alphanumeric);
        let phrase = (all.len() >= 2).then(|| {
            let mut p = format!(" {}", all.join(" "));
            if !typing {
                p.push(' ');
            }
            p
        });
        let analyzer = Analyzer::default();
        let last = all.len().saturating_sub(1);
        let mut out: Vec<QueryWord> = Vec::new();
        for (i, folded) in all.iter().enumerate() {
            if is_stop_word(folded) || out.iter().any(|w| &w.folded == folded) {
                continue;
            }
            if out.len() == MAX_QUERY_WORDS {
                break;
            }
            let mut alternatives: Vec<(u32, f64)> = Vec::new();
            if let Some(t) = self.vocabulary.term(&analyzer.stem(folded)) {
                alternatives.push((t, 1.0));
            }
            // A word the documents lack may have a sibling in another gender or number.
            for variant in vowel_variants(folded) {
                if let Some(t) = self.vocabulary.word(&variant) {
                    alternatives.push((t, 1.0));
                }
            }
            if i == last && typing && folded.len() >= MIN_PREFIX_LEN {
                let mut reached: Vec<(u32, usize)> = self
                    .vocabulary
                    .prefixed(folded)
                    .map(|(_, t)| (t, self.postings[t as usize].len()))
                    .collect();
                reached.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
                reached.dedup_by_key(|r| r.0);
                reached.truncate(MAX_PREFIX_WORDS);
                alternatives.extend(reached.into_iter().map(|(t, _)| (t, PREFIX_WEIGHT)));
            }
            if alternatives.is_empty() && folded.len() >= MIN_TYPO_LEN {
                let mut reached = Vec::new();
                self.vocabulary.within_one_typo(folded, &mut reached);
                alternatives.extend(reached.into_iter().map(|t| (t, TYPO_WEIGHT)));
            }
            // One entry per term, with its best weight.
            alternatives.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)));
            alternatives.dedup_by_key(|a| a.0);
            out.push(QueryWord {
                folded: folded.clone(),
                alternatives,
            });
        }
        ParsedText { words: out, phrase }
    }

    /// Completions for what a user is typing: service names, risk and target-group labels and
    /// words of names and labels that start with it (at any word of a name: "anz" offers
    /// "Centro diurno per anziani"), those that start with it at their first word first, then
    /// the ones found in more documents, then alphabetically.
    pub fn suggest(&self, prefix: &str, limit: usize) -> Vec<String> {
        let mut key = folded_words(prefix);
        if key.is_empty() || limit == 0 {
            return Vec::new();
        }
        if prefix.chars().last().is_some_and(|c| !c.is_alphanumeric()) {
            key.push(' ');
        }
        let keys = &self.suggestions.keys;
        let start = keys.partition_point(|(k, _, _)| k.as_str() < key.as_str());
        let mut found: Vec<(u32, bool)> = keys[start..]
            .iter()
            .take_while(|(k, _, _)| k.starts_with(key.as_str()))
            .map(|(_, e, first)| (*e, *first))
            .collect();
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        found.dedup_by_key(|f| f.0);
        let entries = &self.suggestions.entries;
        found.sort_unstable_by(|a, b| {
            let (ea, eb) = (&entries[a.0 as usize], &entries[b.0 as usize]);
            b.1.cmp(&a.1)
                .then(eb.1.cmp(&ea.1))
                .then_with(|| ea.0.cmp(&eb.0))
                .then(a.0.cmp(&b.0))
        });
        found
            .into_iter()
            .take(limit)
            .map(|(e, _)| entries[e as usize].0.clone())
            .collect()
    }
}

/// A municipality as compared: folded words joined by spaces.
fn fold_key(text: &str) -> String {
    folded_words(text)
}

#[cfg(test)]
mod tests;
