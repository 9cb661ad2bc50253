//! Italian text analysis, the same for documents and queries: words are cut on anything that
//! is not a letter or a digit, folded (ASCII transliteration, so accents drop: "attività" and
//! "attivita" are one word; lower case), stop words are dropped, and what is left is reduced to
//! its Snowball Italian stem ("anziani" and "anziano" are both `anzian`).
//!
//! Folding comes before stemming so that a query typed without accents meets a text written
//! with them: both reach the stemmer in the same ASCII form.
//!
//! Snowball's Italian stemmer reads `-ano`, `-are`, `-ere`, `-ire` as verb endings even in
//! nouns and adjectives: "anziano" becomes `anzi` but "anziani" `anzian`, "domiciliare"
//! `domicil` but "domiciliari" `domiciliar`. The index therefore also joins words that differ
//! only in their final vowel (gender and number: [`vowel_variants`]) into one term.

use std::borrow::Cow;

use rust_stemmers::{Algorithm, Stemmer};

/// Italian stop words, folded and sorted (binary search): articles, prepositions simple and
/// articulated (with the elided forms `l`, `dell`, `all`, ... that apostrophes leave), pronouns,
/// conjunctions and the commonest forms of "essere" and "avere". Words that carry meaning in
/// welfare services ("casa", "tutti", "senza") are not here.
pub const STOP_WORDS: &[&str] = &[
    "a", "abbiamo", "ad", "agli", "ai", "al", "all", "alla", "alle", "allo", "altra", "altre",
    "altri", "altro", "anche", "ancora", "avere", "avete", "aveva", "c", "che", "chi", "ci", "cio",
    "cioe", "coi", "col", "come", "con", "contro", "cosi", "cui", "d", "da", "dagli", "dai", "dal",
    "dall", "dalla", "dalle", "dallo", "degli", "dei", "del", "dell", "della", "delle", "dello",
    "di", "dove", "e", "ed", "era", "erano", "essere", "fra", "gia", "gli", "ha", "hai", "hanno",
    "ho", "i", "il", "in", "io", "l", "la", "le", "lei", "li", "lo", "loro", "lui", "ma", "me",
    "mentre", "mi", "mia", "mie", "miei", "mio", "molto", "ne", "negli", "nei", "nel", "nell",
    "nella", "nelle", "nello", "noi", "non", "nostra", "nostre", "nostri", "nostro", "o", "od",
    "ogni", "oppure", "per", "perche", "pero", "piu", "po", "poco", "quale", "quali", "quando",
    "quella", "quelle", "quelli", "quello", "questa", "queste", "questi", "questo", "qui",
    "quindi", "s", "sara", "se", "sei", "si", "sia", "siamo", "siete", "sono", "stata", "state",
    "stati", "stato", "su", "sua", "sue", "sugli", "sui", "sul", "sull", "sulla", "sulle", "sullo",
    "suo", "suoi", "ti", "tra", "tu", "tua", "tue", "tuo", "tuoi", "un", "una", "uno", "vi", "voi",
    "vostra", "vostre", "vostri", "vostro",
];

/// Whether a folded word is a stop word.
pub fn is_stop_word(folded: &str) -> bool {
    STOP_WORDS.binary_search(&folded).is_ok()
}

/// Folds text for matching: ASCII transliteration (accents dropped) in lower case.
pub fn fold(text: &str) -> String {
    let mut folded = deunicode::deunicode(text);
    folded.make_ascii_lowercase();
    folded
}

/// One word of a text as the analysis sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Word<'a> {
    /// The word as written, for display (suggestions).
    pub original: &'a str,
    /// Its folded form (ASCII letters and digits only).
    pub folded: String,
}

/// The words of a text in order, stop words included: cut on anything that is not a letter or
/// a digit, then folded (a transliteration that yields several words, rare, yields them all).
pub fn words(text: &str) -> impl Iterator<Item = Word<'_>> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .flat_map(|original| {
            let folded = if original.is_ascii() {
                original.to_ascii_lowercase()
            } else {
                fold(original)
            };
            let pieces: Vec<String> = folded
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
            pieces
                .into_iter()
                .map(move |folded| Word { original, folded })
        })
}

/// The forms of a folded word with its final vowel replaced by each other one ("anziano":
/// "anziana", "anziane", "anziani"), for words of four letters or more ending in `a`, `e`, `i`
/// or `o`: in Italian they are mostly the same word in another gender or number.
pub fn vowel_variants(folded: &str) -> impl Iterator<Item = String> + '_ {
    let stem = match folded.as_bytes() {
        [.., b'a' | b'e' | b'i' | b'o'] if folded.len() >= 4 => &folded[..folded.len() - 1],
        _ => "",
    };
    let last = folded.as_bytes().last().copied();
    [b'a', b'e', b'i', b'o']
        .into_iter()
        .filter(move |v| !stem.is_empty() && Some(*v) != last)
        .map(move |v| {
            let mut w = String::with_capacity(folded.len());
            w.push_str(stem);
            w.push(char::from(v));
            w
        })
}

/// The Snowball Italian stemmer (a function pointer: free to create).
pub struct Analyzer {
    stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Analyzer {
            stemmer: Stemmer::create(Algorithm::Italian),
        }
    }
}

impl Analyzer {
    /// The stem of a folded word.
    pub fn stem<'w>(&self, folded: &'w str) -> Cow<'w, str> {
        self.stemmer.stem(folded)
    }

    /// The index terms of a text: the stems of its words that are not stop words.
    pub fn terms(&self, text: &str) -> Vec<String> {
        words(text)
            .filter(|w| !is_stop_word(&w.folded))
            .map(|w| self.stem(&w.folded).into_owned())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expect: &[&str]) {
        assert_eq!(Analyzer::default().terms(text), expect, "{text}");
    }

    #[test]
    fn stop_words_are_sorted_and_folded() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(STOP_WORDS.iter().all(|w| fold(w) == *w));
        assert!(is_stop_word("della") && is_stop_word("per") && !is_stop_word("casa"));
    }

    #[test]
    fn plural_and_singular_share_a_stem() {
        let a = Analyzer::default();
        for (x, y) in [
            ("servizio", "servizi"),
            ("attività", "attivita"),
            ("disabilità", "DISABILITA"),
            ("famiglie", "famiglia"),
        ] {
            assert_eq!(a.stem(&fold(x)), a.stem(&fold(y)), "{x} / {y}");
        }
    }

    #[test]
    fn snowball_misreads_some_nouns_as_verbs() {
        let a = Analyzer::default();
        assert_eq!(a.stem("anziano"), "anzi");
        assert_eq!(a.stem("anziani"), "anzian");
        assert_eq!(a.stem("domiciliare"), "domicil");
        assert_eq!(a.stem("domiciliari"), "domiciliar");
        let v: Vec<String> = vowel_variants("anziano").collect();
        assert_eq!(v, ["anziana", "anziane", "anziani"]);
        assert_eq!(vowel_variants("via").count(), 0);
        assert_eq!(vowel_variants("sud").count(), 0);
    }

    #[test]
    fn texts_become_terms() {
        check(
            "Assistenza domiciliare per gli anziani",
            &["assistent", "domicil", "anzian"],
        );
        check("L'attività dell’educatore", &["attiv", "educ"]);
        check(
            "Casa, lavoro & salute: 24h!",
            &["cas", "lavor", "sal", "24h"],
        );
        check("", &[]);
        check("il di per", &[]);
    }

    #[test]
    fn words_keep_the_original_for_display() {
        let w: Vec<Word<'_>> = words("Città-Età").collect();
        assert_eq!(w[0].original, "Città");
        assert_eq!(w[0].folded, "citta");
        assert_eq!(w[1].folded, "eta");
    }
}
