//! Italian personal tax codes (codice fiscale): normalization, validation, derived values.
//!
//! A personal code has 16 characters: surname (3 letters), first name (3 letters), year of birth
//! (2 digits), month (a letter of `ABCDEHLMPRST`), day of birth (2 digits, plus 40 for women),
//! place of birth (a letter and 3 digits: the cadastral code of the Italian municipality, or `Z`
//! and the code of the foreign country), and a check character computed from the first 15
//! (Ministerial Decree of 23 December 1976). When two people would get the same code, the
//! revenue agency replaces digits from the right with letters (omocodia: `LMNPQRSTUV` for
//! `0`-`9`); [`TaxCode::code`] keeps those letters, because that string is the identifier, and
//! the derived values decode them.
//!
//! 11-digit numeric codes (provisional codes, VAT numbers) are not personal codes and are
//! reported as such.

use chrono::NaiveDate;
use thiserror::Error;

/// Month letters, January to December.
const MONTHS: &[u8; 12] = b"ABCDEHLMPRST";

/// Omocodia letters standing for the digits 0 to 9.
const OMOCODIA: &[u8; 10] = b"LMNPQRSTUV";

/// 0-based positions whose digits may be replaced by omocodia letters.
const DIGIT_POSITIONS: [usize; 7] = [6, 7, 9, 10, 12, 13, 14];

/// Values of the characters in odd positions (1st, 3rd, ... 15th), indexed by the character's
/// value (`0`-`9` as `A`-`J`, then `A`-`Z`).
const ODD_VALUES: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

/// Why a string is not a valid personal tax code.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TaxCodeError {
    /// Nothing left after normalization.
    #[error("the tax code is empty")]
    Empty,
    /// An 11-digit number: a provisional tax code or a VAT number.
    #[error(
        "this is an 11-digit number (a provisional tax code or a VAT number), not a person's tax code"
    )]
    Numeric,
    /// Not 16 characters.
    #[error("a person's tax code has 16 characters, this one has {found}")]
    Length {
        /// Number of characters found after normalization.
        found: usize,
    },
    /// A character of the wrong kind for its position.
    #[error("character '{found}' at position {position} is not allowed: expected {expected}")]
    Character {
        /// 1-based position.
        position: usize,
        /// The character found.
        found: char,
        /// What the position requires.
        expected: &'static str,
    },
    /// Position 9 is not a month letter.
    #[error("the month letter at position 9 is '{found}': expected one of A B C D E H L M P R S T")]
    Month {
        /// The character found.
        found: char,
    },
    /// The 16th character does not match the first 15.
    #[error("check character is {found}, expected {expected}: a character was probably mistyped")]
    CheckCharacter {
        /// The check character in the code.
        found: char,
        /// The check character computed from the first 15 characters.
        expected: char,
    },
    /// Day field outside 1-31 (men) and 41-71 (women).
    #[error("the day of birth is {value:02}: expected 01 to 31 for men or 41 to 71 for women")]
    Day {
        /// The decoded day field.
        value: u8,
    },
    /// A day that does not exist in its month (e.g. 30 February).
    #[error("the date of birth {day:02}/{month:02}/..{year2:02} does not exist")]
    Date {
        /// Day of the month (women's +40 removed).
        day: u8,
        /// Month, 1-12.
        month: u8,
        /// Last two digits of the year.
        year2: u8,
    },
}

impl TaxCodeError {
    /// A short machine name for the rule that failed: `empty`, `numeric`, `length`,
    /// `characters`, `month`, `check_character`, `day` or `date`.
    pub fn rule(&self) -> &'static str {
        match self {
            TaxCodeError::Empty => "empty",
            TaxCodeError::Numeric => "numeric",
            TaxCodeError::Length { .. } => "length",
            TaxCodeError::Character { .. } => "characters",
            TaxCodeError::Month { .. } => "month",
            TaxCodeError::CheckCharacter { .. } => "check_character",
            TaxCodeError::Day { .. } => "day",
            TaxCodeError::Date { .. } => "date",
        }
    }
}

/// A valid personal tax code and what can be read from it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaxCode {
    code: String,
    sex: char,
    year2: u8,
    month: u8,
    day: u8,
    place: String,
    omocodia: u8,
}

/// Uppercases and removes spaces, tabs, dots and dashes (and other whitespace).
pub fn normalize(raw: &str) -> String {
    raw.chars()
        .filter(|c| !c.is_whitespace() && *c != '.' && *c != '-')
        .flat_map(char::to_uppercase)
        .collect()
}

/// The value of an uppercase ASCII letter or digit in the check-character tables (`0`-`9` count
/// as `A`-`J`).
fn table_index(c: u8) -> Option<usize> {
    match c {
        b'0'..=b'9' => Some(usize::from(c - b'0')),
        b'A'..=b'Z' => Some(usize::from(c - b'A')),
        _ => None,
    }
}

/// The check character of the first 15 characters of a code (uppercase letters and digits,
/// omocodia letters included as they are). `None` if `first15` is not 15 such characters.
pub fn compute_check_char(first15: &str) -> Option<char> {
    let bytes = first15.as_bytes();
    if bytes.len() != 15 {
        return None;
    }
    let mut sum = 0u32;
    for (i, &c) in bytes.iter().enumerate() {
        let v = table_index(c)?;
        // Positions are 1-based in the decree: index 0 is the 1st (odd) position.
        sum += if i % 2 == 0 { ODD_VALUES[v] } else { v as u32 };
    }
    char::from_u32(u32::from(b'A') + sum % 26)
}

/// The digit an omocodia-capable position stands for.
fn decode_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        _ => OMOCODIA
            .iter()
            .position(|&l| l == c)
            .and_then(|p| u8::try_from(p).ok()),
    }
}

const EXPECT_LETTER: &str = "a letter";
const EXPECT_DIGIT: &str = "a digit (or one of the letters L M N P Q R S T U V)";

/// Parses and validates a personal tax code (after [`normalize`]).
pub fn parse(raw: &str) -> Result<TaxCode, TaxCodeError> {
    let code = normalize(raw);
    if code.is_empty() {
        return Err(TaxCodeError::Empty);
    }
    if code.len() == 11 && code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(TaxCodeError::Numeric);
    }
    let length = code.chars().count();
    if length != 16 {
        return Err(TaxCodeError::Length { found: length });
    }
    for (i, c) in code.chars().enumerate() {
        let position = i + 1;
        let ok = match position {
            9 => {
                if !(c.is_ascii() && MONTHS.contains(&(c as u8))) {
                    return Err(TaxCodeError::Month { found: c });
                }
                true
            }
            7 | 8 | 10 | 11 | 13..=15 => c.is_ascii() && decode_digit(c as u8).is_some(),
            _ => c.is_ascii_uppercase(),
        };
        if !ok {
            let expected = match position {
                7 | 8 | 10 | 11 | 13..=15 => EXPECT_DIGIT,
                _ => EXPECT_LETTER,
            };
            return Err(TaxCodeError::Character {
                position,
                found: c,
                expected,
            });
        }
    }
    // All 16 characters are ASCII from here on.
    let b = code.as_bytes();
    let expected = compute_check_char(&code[..15]).ok_or(TaxCodeError::Length { found: length })?;
    let found = char::from(b[15]);
    if found != expected {
        return Err(TaxCodeError::CheckCharacter { found, expected });
    }
    let mut digits = [0u8; 7];
    let mut omocodia = 0u8;
    for (slot, &pos) in digits.iter_mut().zip(DIGIT_POSITIONS.iter()) {
        let c = b[pos];
        if !c.is_ascii_digit() {
            omocodia += 1;
        }
        *slot = decode_digit(c).ok_or(TaxCodeError::Character {
            position: pos + 1,
            found: char::from(c),
            expected: EXPECT_DIGIT,
        })?;
    }
    let year2 = digits[0] * 10 + digits[1];
    let day_field = digits[2] * 10 + digits[3];
    let month_index = MONTHS
        .iter()
        .position(|&m| m == b[8])
        .ok_or(TaxCodeError::Month {
            found: char::from(b[8]),
        })?;
    let month = u8::try_from(month_index + 1).unwrap_or(1);
    let (sex, day) = match day_field {
        1..=31 => ('M', day_field),
        41..=71 => ('F', day_field - 40),
        _ => return Err(TaxCodeError::Day { value: day_field }),
    };
    let exists = [1900, 2000].into_iter().any(|century| {
        NaiveDate::from_ymd_opt(century + i32::from(year2), u32::from(month), u32::from(day))
            .is_some()
    });
    if !exists {
        return Err(TaxCodeError::Date { day, month, year2 });
    }
    let place = format!(
        "{}{}{}{}",
        char::from(b[11]),
        digits[4],
        digits[5],
        digits[6]
    );
    Ok(TaxCode {
        code,
        sex,
        year2,
        month,
        day,
        place,
        omocodia,
    })
}

impl TaxCode {
    /// The normalized code, 16 characters as given (omocodia letters kept): the identifier to
    /// pseudonymize.
    pub fn code(&self) -> &str {
        &self.code
    }

    /// `'M'` or `'F'`.
    pub fn sex(&self) -> char {
        self.sex
    }

    /// The last two digits of the year of birth.
    pub fn birth_year_2(&self) -> u8 {
        self.year2
    }

    /// Month of birth, 1-12.
    pub fn birth_month(&self) -> u8 {
        self.month
    }

    /// Day of birth, 1-31 (women's +40 removed).
    pub fn birth_day(&self) -> u8 {
        self.day
    }

    /// The place-of-birth code with omocodia letters decoded: a municipality's cadastral code
    /// (e.g. `F257`) or `Z` and a foreign country's code (e.g. `Z129`).
    pub fn birth_place_code(&self) -> String {
        self.place.clone()
    }

    /// Whether the person was born in Italy (the place code does not start with `Z`).
    pub fn born_in_italy(&self) -> bool {
        !self.place.starts_with('Z')
    }

    /// How many digits were replaced by omocodia letters (0 to 7).
    pub fn omocodia_level(&self) -> u8 {
        self.omocodia
    }

    /// The four-digit year of birth, choosing the century so that the person is not born after
    /// `reference_year`: with `yy` the code's two digits, `yy <= reference_year % 100` gives the
    /// reference year's century, otherwise the previous one (for reference years 2000-2099: 20yy
    /// or 19yy).
    ///
    /// The code does not record the century: people 100 or more years older than
    /// `reference_year` get a year a century too late.
    pub fn birth_year(&self, reference_year: i32) -> i32 {
        let yy = i32::from(self.year2);
        let century = reference_year - reference_year.rem_euclid(100);
        if yy <= reference_year.rem_euclid(100) {
            century + yy
        } else {
            century - 100 + yy
        }
    }

    /// The date of birth with the century chosen by [`TaxCode::birth_year`]; `None` only for 29
    /// February of a year that is a leap year in the other century (e.g. `00` read as 1900).
    pub fn birth_date(&self, reference_year: i32) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(
            self.birth_year(reference_year),
            u32::from(self.month),
            u32::from(self.day),
        )
    }
}

impl std::fmt::Display for TaxCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.code)
    }
}

impl std::str::FromStr for TaxCode {
    type Err = TaxCodeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Appends the check character to 15 characters.
    fn with_check(first15: &str) -> String {
        let c = compute_check_char(first15).expect("15 valid characters");
        format!("{first15}{c}")
    }

    /// Replaces the character at 0-based `pos` by its omocodia letter.
    fn omocode(code: &str, pos: usize) -> String {
        let mut b = code.as_bytes()[..15].to_vec();
        b[pos] = OMOCODIA[usize::from(b[pos] - b'0')];
        with_check(std::str::from_utf8(&b).expect("ascii"))
    }

    fn check_err(raw: &str, rule: &str, message: &str) {
        let err = parse(raw).expect_err(raw);
        assert_eq!(err.rule(), rule, "{raw}: {err}");
        assert_eq!(err.to_string(), message, "{raw}");
    }

    #[test]
    fn mario_rossi() {
        // Published example: Mario Rossi, born 10 December 1985 in San Giuliano Terme (A562).
        assert_eq!(compute_check_char("RSSMRA85T10A562"), Some('S'));
        let tc = parse("RSSMRA85T10A562S").expect("valid");
        assert_eq!(tc.code(), "RSSMRA85T10A562S");
        assert_eq!(tc.sex(), 'M');
        assert_eq!(tc.birth_year_2(), 85);
        assert_eq!(tc.birth_month(), 12);
        assert_eq!(tc.birth_day(), 10);
        assert_eq!(tc.birth_place_code(), "A562");
        assert!(tc.born_in_italy());
        assert_eq!(tc.omocodia_level(), 0);
        assert_eq!(tc.birth_year(2025), 1985);
        assert_eq!(tc.birth_date(2025), NaiveDate::from_ymd_opt(1985, 12, 10));
    }

    #[test]
    fn other_examples() {
        // Check characters below were also computed with an independent implementation of the
        // decree's tables (Python), not only with `compute_check_char`.
        // Matteo Moretti, 8 April 1991, Milan (F205): check character J.
        let tc = parse("MRTMTT91D08F205J").expect("valid");
        assert_eq!((tc.birth_month(), tc.birth_day()), (4, 8));
        assert_eq!(tc.birth_place_code(), "F205");
        // Giuseppe Verdi, 10 October 1813, Busseto (B293): check character P.
        let tc = parse("VRDGPP13R10B293P").expect("valid");
        assert_eq!(tc.birth_year(1900), 1813);
        assert_eq!(tc.birth_year(2025), 2013, "100+ years older: wrong century");
    }

    #[test]
    fn woman() {
        // Giovanna Bianchi, 1 January 1980, Rome (H501): day 01 + 40.
        let code = with_check("BNCGNN80A41H501");
        assert_eq!(code, "BNCGNN80A41H501X");
        let tc = parse(&code).expect("valid");
        assert_eq!(tc.sex(), 'F');
        assert_eq!(tc.birth_day(), 1);
        assert_eq!(tc.birth_month(), 1);
        assert_eq!(tc.birth_year(2025), 1980);
    }

    #[test]
    fn born_abroad() {
        // Born in Romania (Z129) on 31 March 2002.
        let code = with_check("PPSLNE02C71Z129");
        let tc = parse(&code).expect("valid");
        assert!(!tc.born_in_italy());
        assert_eq!(tc.birth_place_code(), "Z129");
        assert_eq!(tc.sex(), 'F');
        assert_eq!(tc.birth_year(2025), 2002);
        // Born in the USA (Z404).
        let tc = parse(&with_check("SMTJHN70E15Z404")).expect("valid");
        assert!(!tc.born_in_italy());
        assert_eq!(tc.birth_place_code(), "Z404");
    }

    #[test]
    fn omocodia_decodes_to_the_same_fields() {
        let original = parse("RSSMRA85T10A562S").expect("valid");
        // Last digit of the place (position 15) 2 -> N.
        let level1 = omocode("RSSMRA85T10A562S", 14);
        assert_eq!(&level1[..15], "RSSMRA85T10A56N");
        let tc = parse(&level1).expect("valid");
        assert_eq!(tc.code(), level1, "the code keeps the letters");
        assert_ne!(tc.code(), original.code());
        assert_eq!(tc.omocodia_level(), 1);
        assert_eq!(tc.birth_place_code(), original.birth_place_code());
        assert_eq!(tc.birth_day(), original.birth_day());
        assert_eq!(tc.birth_year_2(), original.birth_year_2());
        // Every substitutable digit replaced.
        let mut all = "RSSMRA85T10A562S".to_string();
        for pos in DIGIT_POSITIONS {
            all = omocode(&all, pos);
        }
        assert_eq!(&all[..15], "RSSMRAURTMLARSN");
        let tc = parse(&all).expect("valid");
        assert_eq!(tc.omocodia_level(), 7);
        assert_eq!(tc.sex(), 'M');
        assert_eq!(
            (tc.birth_year_2(), tc.birth_month(), tc.birth_day()),
            (85, 12, 10)
        );
        assert_eq!(tc.birth_place_code(), "A562");
    }

    #[test]
    fn normalization() {
        assert_eq!(normalize(" rss mra-85.t10\ta562 s "), "RSSMRA85T10A562S");
        let tc = parse(" rssmra 85t10 a562s ").expect("valid");
        assert_eq!(tc.code(), "RSSMRA85T10A562S");
        assert_eq!(tc, parse("RSS-MRA-85T10-A562S").expect("valid"));
    }

    #[test]
    fn errors_in_order() {
        check_err("  ", "empty", "the tax code is empty");
        check_err(
            "01234567890",
            "numeric",
            "this is an 11-digit number (a provisional tax code or a VAT number), not a person's tax code",
        );
        check_err(
            "RSSMRA85T10A562",
            "length",
            "a person's tax code has 16 characters, this one has 15",
        );
        check_err(
            "RSSMRÀ85T10A562S",
            "characters",
            "character 'À' at position 6 is not allowed: expected a letter",
        );
        check_err(
            "RSSMRA8AT10A562S",
            "characters",
            "character 'A' at position 8 is not allowed: expected a digit (or one of the letters L M N P Q R S T U V)",
        );
        check_err(
            "RSSMRA85T10A562_",
            "characters",
            "character '_' at position 16 is not allowed: expected a letter",
        );
        check_err(
            "RSSMRA85F10A562S",
            "month",
            "the month letter at position 9 is 'F': expected one of A B C D E H L M P R S T",
        );
        check_err(
            "RSSMRA85T10A562T",
            "check_character",
            "check character is T, expected S: a character was probably mistyped",
        );
        let day35 = with_check("RSSMRA85T35A562");
        check_err(
            &day35,
            "day",
            "the day of birth is 35: expected 01 to 31 for men or 41 to 71 for women",
        );
        check_err(
            &with_check("RSSMRA85T00A562"),
            "day",
            "the day of birth is 00: expected 01 to 31 for men or 41 to 71 for women",
        );
        let feb30 = with_check("RSSMRA85B30A562");
        check_err(
            &feb30,
            "date",
            "the date of birth 30/02/..85 does not exist",
        );
        check_err(
            &with_check("RSSMRA85D71A562"),
            "date",
            "the date of birth 31/04/..85 does not exist",
        );
    }

    #[test]
    fn leap_day_checked_in_both_centuries() {
        // 29 February 00: 2000 is a leap year, 1900 is not.
        assert!(parse(&with_check("RSSMRA00B29A562")).is_ok());
        // 29 February 04: leap in both.
        assert!(parse(&with_check("RSSMRA04B69A562")).is_ok());
        // 29 February 01: leap in neither.
        assert_eq!(
            parse(&with_check("RSSMRA01B29A562"))
                .map_err(|e| e.rule())
                .err(),
            Some("date")
        );
    }

    #[test]
    fn compute_check_char_rejects_bad_input() {
        assert_eq!(compute_check_char("RSSMRA85T10A56"), None);
        assert_eq!(compute_check_char("RSSMRA85T10A5622"), None);
        assert_eq!(compute_check_char("rssmra85t10a562"), None);
        assert_eq!(compute_check_char("RSSMRA85T10A56é"), None);
    }

    #[test]
    fn birth_year_century() {
        let tc = parse(&with_check("RSSMRA25A01A562")).expect("valid");
        assert_eq!(tc.birth_year(2025), 2025);
        assert_eq!(tc.birth_year(2024), 1925);
        assert_eq!(tc.birth_year(1999), 1925);
        assert_eq!(tc.birth_year(2101), 2025);
    }

    fn components() -> impl Strategy<Value = (String, u8, usize, u8, bool, char, u16, u8)> {
        (
            "[A-Z]{6}",
            0u8..100,
            0usize..12,
            1u8..=28,
            any::<bool>(),
            proptest::char::range('A', 'Z'),
            0u16..1000,
            any::<u8>(),
        )
    }

    proptest! {
        #[test]
        fn built_codes_roundtrip(
            (names, yy, month, day, female, place_letter, place_num, mask) in components()
        ) {
            let day_field = if female { day + 40 } else { day };
            let first15 = format!(
                "{names}{yy:02}{}{day_field:02}{place_letter}{place_num:03}",
                char::from(MONTHS[month])
            );
            let mut bytes = first15.into_bytes();
            let mut level = 0;
            for (bit, &pos) in DIGIT_POSITIONS.iter().enumerate() {
                if mask & (1 << bit) != 0 {
                    bytes[pos] = OMOCODIA[usize::from(bytes[pos] - b'0')];
                    level += 1;
                }
            }
            let first15 = String::from_utf8(bytes).expect("ascii");
            let code = with_check(&first15);
            let tc = parse(&code).expect("valid by construction");
            prop_assert_eq!(tc.code(), code.as_str());
            prop_assert_eq!(tc.sex(), if female { 'F' } else { 'M' });
            prop_assert_eq!(tc.birth_year_2(), yy);
            prop_assert_eq!(usize::from(tc.birth_month()), month + 1);
            prop_assert_eq!(tc.birth_day(), day);
            prop_assert_eq!(tc.birth_place_code(), format!("{place_letter}{place_num:03}"));
            prop_assert_eq!(tc.born_in_italy(), place_letter != 'Z');
            prop_assert_eq!(tc.omocodia_level(), level);
            let lower = code.to_lowercase();
            prop_assert_eq!(parse(&lower).map(|t| t.code().to_string()), Ok(code.clone()));

            // Flipping the check character to any other letter always fails.
            for other in b'A'..=b'Z' {
                if other != code.as_bytes()[15] {
                    let flipped = format!("{}{}", &code[..15], char::from(other));
                    prop_assert_eq!(
                        parse(&flipped).map_err(|e| e.rule()).err(),
                        Some("check_character")
                    );
                }
            }
        }
    }
}
