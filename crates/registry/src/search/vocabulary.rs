//! The index's vocabulary: stems (the index terms), the folded words they came from, and what
//! lets a query word reach them when it is not a stem of the index: a sorted word list for
//! prefixes (typing "domicil" reaches "domiciliare") and a deletion index for one typo.
//!
//! The typo index is the SymSpell idea restricted to one edit: every word is stored under
//! itself and under each form with one letter deleted; two words within one insertion,
//! deletion, substitution or transposition of each other share such a key, so a query word
//! looks up itself and its own deletions (a dozen hash lookups) and verifies the candidates,
//! instead of comparing itself with the whole vocabulary.

use std::collections::HashMap;

/// Stems and words of the index.
#[derive(Debug, Default)]
pub(crate) struct Vocabulary {
    /// Stem to term id.
    terms: HashMap<String, u32>,
    /// Every folded word of the documents with its term id, sorted by word.
    words: Vec<(String, u32)>,
    /// A word, or a word with one letter deleted, to the indexes in `words` of the words it
    /// stands for (words of at least `min_typo_len - 1` letters).
    typos: HashMap<String, Vec<u32>>,
}

/// Calls `f` with the word and with each form of it with one letter deleted (ASCII words only;
/// analysis folds every word to ASCII).
fn typo_keys(word: &str, buf: &mut String, mut f: impl FnMut(&str)) {
    f(word);
    if !word.is_ascii() {
        return;
    }
    for i in 0..word.len() {
        buf.clear();
        buf.push_str(&word[..i]);
        buf.push_str(&word[i + 1..]);
        f(buf);
    }
}

impl Vocabulary {
    /// The vocabulary of a set of folded words, each with its stem's term id (`terms` maps every
    /// stem to its id), indexing for typos the words of at least `min_typo_len - 1` letters.
    pub fn new(
        terms: HashMap<String, u32>,
        words: HashMap<String, u32>,
        min_typo_len: usize,
    ) -> Vocabulary {
        let mut words: Vec<(String, u32)> = words.into_iter().collect();
        words.sort_unstable();
        let mut typos: HashMap<String, Vec<u32>> = HashMap::new();
        let mut buf = String::new();
        for (i, (word, _)) in words.iter().enumerate() {
            if word.len() + 1 < min_typo_len {
                continue;
            }
            let i = i as u32;
            typo_keys(word, &mut buf, |key| {
                let list = typos.entry(key.to_string()).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            });
        }
        Vocabulary {
            terms,
            words,
            typos,
        }
    }

    /// The term id of a stem.
    pub fn term(&self, stem: &str) -> Option<u32> {
        self.terms.get(stem).copied()
    }

    /// The term id of a folded word of the documents.
    pub fn word(&self, folded: &str) -> Option<u32> {
        self.words
            .binary_search_by(|(w, _)| w.as_str().cmp(folded))
            .ok()
            .map(|i| self.words[i].1)
    }

    /// How many stems.
    pub fn len(&self) -> usize {
        self.terms.len()
    }

    /// The words starting with a prefix, with their term ids, in word order.
    pub fn prefixed<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = (&'a str, u32)> + 'a {
        let start = self.words.partition_point(|(w, _)| w.as_str() < prefix);
        self.words[start..]
            .iter()
            .take_while(move |(w, _)| w.starts_with(prefix))
            .map(|(w, t)| (w.as_str(), *t))
    }

    /// Appends to `out` the term ids of the words within one typo (insertion, deletion,
    /// substitution or transposition of adjacent letters) of `word`, the word itself included.
    pub fn within_one_typo(&self, word: &str, out: &mut Vec<u32>) {
        let mut buf = String::with_capacity(word.len());
        typo_keys(word, &mut buf, |key| {
            for &i in self.typos.get(key).map_or(&[][..], Vec::as_slice) {
                let (candidate, term) = &self.words[i as usize];
                if strsim::osa_distance(word, candidate) <= 1 {
                    out.push(*term);
                }
            }
        });
        out.sort_unstable();
        out.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary(words: &[(&str, u32)]) -> Vocabulary {
        let words: HashMap<String, u32> = words.iter().map(|(w, t)| (w.to_string(), *t)).collect();
        Vocabulary::new(HashMap::new(), words, 5)
    }

    fn typos(v: &Vocabulary, word: &str) -> Vec<u32> {
        let mut out = Vec::new();
        v.within_one_typo(word, &mut out);
        out
    }

    #[test]
    fn one_typo_of_every_kind() {
        let v = vocabulary(&[
            ("assistenza", 1),
            ("mensa", 2),
            ("mense", 3),
            ("domicilio", 4),
        ]);
        assert_eq!(typos(&v, "assistensa"), [1]); // substitution
        assert_eq!(typos(&v, "asistenza"), [1]); // deletion
        assert_eq!(typos(&v, "assisstenza"), [1]); // insertion
        assert_eq!(typos(&v, "assitsenza"), [1]); // transposition
        assert_eq!(typos(&v, "assistenza"), [1]);
        assert_eq!(typos(&v, "mensa"), [2, 3]);
        assert_eq!(typos(&v, "asistensa"), Vec::<u32>::new()); // two typos
    }

    #[test]
    fn prefixes_in_word_order() {
        let v = vocabulary(&[
            ("domiciliare", 1),
            ("domicilio", 2),
            ("domanda", 3),
            ("dom", 4),
        ]);
        let found: Vec<(&str, u32)> = v.prefixed("domic").collect();
        assert_eq!(found, [("domiciliare", 1), ("domicilio", 2)]);
        assert_eq!(v.prefixed("dom").count(), 4);
        assert_eq!(v.prefixed("zz").count(), 0);
    }
}
