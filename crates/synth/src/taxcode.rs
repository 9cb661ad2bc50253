//! The Italian *codice fiscale* of a natural person: encoding, check character, omocodia.
//!
//! Layout (16 characters): 3 surname letters, 3 name letters, 2 year digits, 1 month letter,
//! 2 day digits (+40 for women), 4 characters of the birth place (Belfiore code of the
//! municipality, or `Z` + 3 digits of the country), 1 check character.
//! When two people would get the same code, the tax office replaces digits from the right
//! with letters (`0..9` -> `LMNPQRSTUV`) and recomputes the check character (omocodia).

/// Month letters, January first.
const MONTHS: &[u8; 12] = b"ABCDEHLMPRST";
/// Letters that replace the digits 0..9 in omocodic codes.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";
/// Positions of the seven digits, rightmost first: the order in which omocodia replaces them.
const DIGIT_POSITIONS: [usize; 7] = [14, 13, 12, 10, 9, 7, 6];

/// Value of a character in an odd (1st, 3rd, ...) position, for digits and letters alike.
const ODD: [u8; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// Folds a name to the uppercase ASCII letters the code is built from (accents dropped,
/// apostrophes, spaces and anything else removed).
pub fn fold_letters(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for c in s.chars() {
        let base = match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' | 'À' | 'Á' | 'Â' | 'Ä' | 'Ã' | 'Å' => {
                'A'
            }
            'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'E',
            'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'I',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' | 'Ò' | 'Ó' | 'Ô' | 'Ö' | 'Õ' => 'O',
            'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'U',
            'ç' | 'Ç' => 'C',
            'ñ' | 'Ñ' => 'N',
            c if c.is_ascii_alphabetic() => c.to_ascii_uppercase(),
            _ => continue,
        };
        out.push(base as u8);
    }
    out
}

fn is_vowel(c: u8) -> bool {
    matches!(c, b'A' | b'E' | b'I' | b'O' | b'U')
}

fn split(letters: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let consonants = letters.iter().copied().filter(|c| !is_vowel(*c)).collect();
    let vowels = letters.iter().copied().filter(|c| is_vowel(*c)).collect();
    (consonants, vowels)
}

fn pad3(mut v: Vec<u8>) -> [u8; 3] {
    v.resize(3.max(v.len()), b'X');
    [v[0], v[1], v[2]]
}

/// The three surname characters: consonants, then vowels, then `X`.
pub fn surname_part(surname: &str) -> [u8; 3] {
    let (mut c, v) = split(&fold_letters(surname));
    c.extend(v);
    pad3(c)
}

/// The three name characters: with four or more consonants the 1st, 3rd and 4th; otherwise
/// consonants, then vowels, then `X`.
pub fn name_part(name: &str) -> [u8; 3] {
    let (c, v) = split(&fold_letters(name));
    if c.len() >= 4 {
        return [c[0], c[2], c[3]];
    }
    let mut c = c;
    c.extend(v);
    pad3(c)
}

/// The check character of the first 15 characters.
pub fn check_char(first15: &[u8]) -> u8 {
    let mut sum: u32 = 0;
    for (i, &ch) in first15.iter().take(15).enumerate() {
        let idx = if ch.is_ascii_digit() {
            ch - b'0'
        } else {
            ch - b'A'
        } as usize;
        // Positions are 1-based in the specification: index 0 is an odd position.
        sum += if i % 2 == 0 {
            ODD[idx] as u32
        } else {
            idx as u32
        };
    }
    b'A' + (sum % 26) as u8
}

/// Builds the regular (non omocodic) code.
pub fn encode(
    surname: &str,
    name: &str,
    female: bool,
    year: i32,
    month: u32,
    day: u32,
    place: &str,
) -> [u8; 16] {
    let mut cf = [b'0'; 16];
    cf[0..3].copy_from_slice(&surname_part(surname));
    cf[3..6].copy_from_slice(&name_part(name));
    let yy = year.rem_euclid(100) as u8;
    cf[6] = b'0' + yy / 10;
    cf[7] = b'0' + yy % 10;
    cf[8] = MONTHS[(month - 1) as usize];
    let dd = day as u8 + if female { 40 } else { 0 };
    cf[9] = b'0' + dd / 10;
    cf[10] = b'0' + dd % 10;
    let p = place.as_bytes();
    cf[11..15].copy_from_slice(&p[..4]);
    cf[15] = check_char(&cf[..15]);
    cf
}

/// Replaces the `level` rightmost digits (1..=7) with their omocodia letters and recomputes
/// the check character. Level 0 returns the code unchanged.
pub fn omocodia(cf: &[u8; 16], level: usize) -> [u8; 16] {
    let mut out = *cf;
    for &pos in DIGIT_POSITIONS.iter().take(level.min(7)) {
        let c = out[pos];
        if c.is_ascii_digit() {
            out[pos] = OMOCODIA[(c - b'0') as usize];
        }
    }
    out[15] = check_char(&out[..15]);
    out
}

/// Whether a code is omocodic (a letter where a digit belongs).
#[cfg(test)]
pub fn is_omocodic(cf: &[u8]) -> bool {
    cf.len() == 16 && DIGIT_POSITIONS.iter().any(|&p| cf[p].is_ascii_alphabetic())
}

/// Structural check: 16 characters in the right classes and a matching check character.
pub fn is_valid(cf: &str) -> bool {
    let b = cf.as_bytes();
    if b.len() != 16 {
        return false;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = match i {
            0..=5 | 8 | 11 | 15 => c.is_ascii_uppercase(),
            _ => c.is_ascii_digit() || OMOCODIA.contains(&c),
        };
        if !ok {
            return false;
        }
    }
    if !MONTHS.contains(&b[8]) {
        return false;
    }
    check_char(&b[..15]) == b[15]
}

/// A different, wrong check character (for injected defects).
pub fn wrong_check(cf: &[u8; 16], shift: u8) -> [u8; 16] {
    let mut out = *cf;
    let s = 1 + shift % 25;
    out[15] = b'A' + (out[15] - b'A' + s) % 26;
    out
}

/// The code as a `&str`.
pub fn as_str(cf: &[u8; 16]) -> &str {
    std::str::from_utf8(cf).expect("tax codes are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(
        surname: &str,
        name: &str,
        female: bool,
        ymd: (i32, u32, u32),
        place: &str,
        expect: &str,
    ) {
        let cf = encode(surname, name, female, ymd.0, ymd.1, ymd.2, place);
        assert_eq!(as_str(&cf), expect, "{surname} {name}");
        assert!(is_valid(expect));
    }

    #[test]
    fn hand_worked_examples() {
        // Mario Rossi, born in Rome on 1 January 1980.
        check(
            "Rossi",
            "Mario",
            false,
            (1980, 1, 1),
            "H501",
            "RSSMRA80A01H501U",
        );
        // Name with four or more consonants takes the 1st, 3rd and 4th.
        assert_eq!(&name_part("Gianfranco"), b"GFR");
        // Short surnames are padded with X; vowels follow consonants.
        assert_eq!(&surname_part("Hu"), b"HUX");
        assert_eq!(&surname_part("Fo"), b"FOX");
        assert_eq!(&surname_part("D'Angelò"), b"DNG");
        assert_eq!(&name_part("Niccolò"), b"NCL");
        // A woman: day + 40.
        let cf = encode("Bianchi", "Anna", true, 1975, 6, 15, "F257");
        assert_eq!(&cf[..15], b"BNCNNA75H55F257");
        assert!(is_valid(as_str(&cf)));
    }

    #[test]
    fn omocodia_example() {
        let cf = encode("Rossi", "Mario", false, 1980, 1, 1, "H501");
        // One substitution: the last digit of the place code (1 -> M).
        let o1 = omocodia(&cf, 1);
        assert_eq!(&o1[..15], b"RSSMRA80A01H50M");
        assert!(is_valid(as_str(&o1)));
        assert!(is_omocodic(&o1));
        // All seven digits replaced.
        let o7 = omocodia(&cf, 7);
        assert_eq!(&o7[..15], b"RSSMRAULALMHRLM");
        assert!(is_valid(as_str(&o7)));
        assert!(!is_omocodic(&cf));
    }

    #[test]
    fn wrong_check_is_invalid() {
        let cf = encode("Verdi", "Giuseppe", false, 1913, 10, 10, "G535");
        for s in 0..30 {
            assert!(!is_valid(as_str(&wrong_check(&cf, s))));
        }
    }
}
