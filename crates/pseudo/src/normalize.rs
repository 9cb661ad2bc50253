//! Normalization of names, sex and birth dates into the identifier behind a weak pseudonym.
//!
//! When a record has no tax code, the custodian can still link it by surname, first name, date
//! and sex of birth. [`weak_identifier`] makes that string invariant to case, accents, spacing,
//! apostrophes and punctuation, but not to typos or to a missing second name: pseudonyms made
//! from it are flagged weak (`w` prefix) and link less well than tax-code pseudonyms.

use chrono::NaiveDate;

/// Characters treated as apostrophes (after transliteration, most become `'`).
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '`' | '\u{b4}' | '\u{2018}' | '\u{2019}' | '\u{2bc}'
    )
}

/// Normalizes a surname or first name: transliterates to ASCII (`È` → `E`, `Ç` → `C`, `ß` →
/// `SS`), uppercases, removes apostrophes together with the spaces around them and periods
/// (`D'Angelo`, `D' Angelo`, `D 'Angelo` → `DANGELO`; `J.R.` → `JR`), turns hyphens and any other
/// non-letter into a space, collapses whitespace and trims.
pub fn name(raw: &str) -> String {
    let ascii = deunicode::deunicode(raw);
    let mut out = String::with_capacity(ascii.len());
    let mut pending_space = false;
    let mut after_apostrophe = false;
    for c in ascii.chars() {
        if is_apostrophe(c) {
            after_apostrophe = true;
            pending_space = false;
            continue;
        }
        if c == '.' {
            continue;
        }
        if c.is_ascii_alphabetic() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            after_apostrophe = false;
            out.push(c.to_ascii_uppercase());
        } else if !(after_apostrophe && c.is_whitespace()) {
            pending_space = true;
            after_apostrophe = false;
        }
    }
    out
}

/// Reads a sex code: `M`/`F` in any case, Italian and English words (`maschio`, `femmina`,
/// `maschile`, `femminile`, `uomo`, `donna`, `male`, `female`, `man`, `woman`) and the ISTAT
/// coding `1` (male) / `2` (female). `None` for anything else, including blanks.
pub fn sex(raw: &str) -> Option<char> {
    let s = raw.trim().to_lowercase();
    match s.as_str() {
        "m" | "maschio" | "maschile" | "uomo" | "male" | "man" | "1" => Some('M'),
        "f" | "femmina" | "femminile" | "donna" | "female" | "woman" | "2" => Some('F'),
        _ => None,
    }
}

/// The identifier behind a weak pseudonym: `"{SURNAME}|{FIRST}|{YYYY-MM-DD}|{S}"` with names
/// normalized by [`name`] and `sex` uppercased.
///
/// It is invariant to case, accents, spacing, punctuation and apostrophes, but not to typos,
/// swapped names or a missing second name: two records of one person may get different weak
/// pseudonyms, and that is why they carry the `w` prefix.
pub fn weak_identifier(
    surname: &str,
    first_name: &str,
    birth_date: NaiveDate,
    sex: char,
) -> String {
    use chrono::Datelike;
    // The date written by hand: chrono's strftime formatter is slow for millions of rows.
    format!(
        "{}|{}|{:04}-{:02}-{:02}|{}",
        name(surname),
        name(first_name),
        birth_date.year(),
        birth_date.month(),
        birth_date.day(),
        sex.to_ascii_uppercase()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(raw: &str, expected: &str) {
        assert_eq!(name(raw), expected, "name({raw:?})");
    }

    #[test]
    fn names() {
        check("Rossi", "ROSSI");
        check("  de   luca ", "DE LUCA");
        check("D'Angelo", "DANGELO");
        check("D' Angelo", "DANGELO");
        check("D 'Angelo", "DANGELO");
        check("D’Angelo", "DANGELO");
        check("d`angelo", "DANGELO");
        check("Dell'Anno", "DELLANNO");
        check("Nicolò", "NICOLO");
        check("Èlena", "ELENA");
        check("François", "FRANCOIS");
        check("Strauß", "STRAUSS");
        check("Müller-Lüdenscheidt", "MULLER LUDENSCHEIDT");
        check("Maria-Grazia", "MARIA GRAZIA");
        check("J.R.", "JR");
        check("St. John", "ST JOHN");
        check("Anna\tMaria\n", "ANNA MARIA");
        check("Rossi2", "ROSSI");
        check("", "");
        check(" - ' . ", "");
        check("Łukasz Żółć", "LUKASZ ZOLC");
    }

    #[test]
    fn sexes() {
        for m in ["M", "m", " maschio ", "Male", "1", "UOMO"] {
            assert_eq!(sex(m), Some('M'), "{m}");
        }
        for f in ["F", "f", "Femmina", "female", "2", "donna"] {
            assert_eq!(sex(f), Some('F'), "{f}");
        }
        for other in ["", " ", "X", "0", "3", "mf", "9"] {
            assert_eq!(sex(other), None, "{other}");
        }
    }

    #[test]
    fn weak_identifier_format() {
        let date = NaiveDate::from_ymd_opt(1985, 12, 10).expect("valid date");
        assert_eq!(
            weak_identifier("d'Angelo", "María  José", date, 'f'),
            "DANGELO|MARIA JOSE|1985-12-10|F"
        );
        assert_eq!(
            weak_identifier("D' ANGELO", "maria-jose", date, 'F'),
            "DANGELO|MARIA JOSE|1985-12-10|F"
        );
    }

    /// An accented variant of an uppercase ASCII letter, chosen by `pick`.
    fn accent(c: char, pick: u8) -> char {
        let variants: &[char] = match c {
            'A' => &['À', 'Á', 'Â', 'Ä', 'à', 'á'],
            'E' => &['È', 'É', 'Ê', 'è', 'é'],
            'I' => &['Ì', 'Í', 'ì', 'í'],
            'O' => &['Ò', 'Ó', 'Ö', 'ò', 'ó'],
            'U' => &['Ù', 'Ú', 'Ü', 'ù', 'ú'],
            'C' => &['Ç', 'ç'],
            'N' => &['Ñ', 'ñ'],
            _ => &[],
        };
        if variants.is_empty() {
            c
        } else {
            variants[usize::from(pick) % variants.len()]
        }
    }

    proptest! {
        #[test]
        fn invariant_to_case_spaces_and_accents(
            words in proptest::collection::vec("[A-Z]{1,8}", 1..4),
            flips in proptest::collection::vec(any::<u8>(), 40),
            gaps in proptest::collection::vec(0usize..4, 5),
        ) {
            let canonical = words.join(" ");
            let mut variant = " ".repeat(gaps[0]);
            let mut k = 0;
            for (w, word) in words.iter().enumerate() {
                if w > 0 {
                    variant.push_str(&" ".repeat(1 + gaps[w]));
                }
                for c in word.chars() {
                    let f = flips[k % flips.len()];
                    k += 1;
                    let c = match f % 3 {
                        0 => c,
                        1 => c.to_ascii_lowercase(),
                        _ => accent(c, f / 3),
                    };
                    variant.push(c);
                }
            }
            variant.push_str(&" ".repeat(gaps[4]));
            prop_assert_eq!(name(&variant), canonical.clone());
            prop_assert_eq!(name(&canonical), canonical.clone());
            // Idempotent.
            prop_assert_eq!(name(&name(&variant)), canonical);
        }

        #[test]
        fn output_is_clean(raw in ".{0,40}") {
            let n = name(&raw);
            prop_assert!(n.chars().all(|c| c.is_ascii_uppercase() || c == ' '), "{:?}", n);
            prop_assert!(!n.starts_with(' ') && !n.ends_with(' ') && !n.contains("  "));
            prop_assert_eq!(name(&n), n);
        }
    }
}
