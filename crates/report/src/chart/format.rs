//! Numbers and the few words charts write themselves, per locale.

use serde::{Deserialize, Serialize};

/// The language and number conventions of a chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Locale {
    /// Italian: `1.234,5` (dot for thousands, comma for decimals).
    #[default]
    It,
    /// English: `1,234.5` (comma for thousands, dot for decimals).
    En,
}

impl Locale {
    fn separators(self) -> (char, char) {
        match self {
            Locale::It => ('.', ','),
            Locale::En => (',', '.'),
        }
    }

    pub(crate) fn source(self) -> &'static str {
        match self {
            Locale::It => "Fonte",
            Locale::En => "Source",
        }
    }

    /// The cell text for a missing value.
    pub(crate) fn missing(self) -> &'static str {
        match self {
            Locale::It => "n.d.",
            Locale::En => "n/a",
        }
    }

    pub(crate) fn no_data(self) -> &'static str {
        match self {
            Locale::It => "Nessun dato",
            Locale::En => "No data",
        }
    }

    pub(crate) fn period(self) -> &'static str {
        match self {
            Locale::It => "Periodo",
            Locale::En => "Period",
        }
    }

    pub(crate) fn category(self) -> &'static str {
        match self {
            Locale::It => "Categoria",
            Locale::En => "Category",
        }
    }

    pub(crate) fn value(self) -> &'static str {
        match self {
            Locale::It => "Valore",
            Locale::En => "Value",
        }
    }

    pub(crate) fn lower(self) -> &'static str {
        match self {
            Locale::It => "inferiore",
            Locale::En => "lower",
        }
    }

    pub(crate) fn upper(self) -> &'static str {
        match self {
            Locale::It => "superiore",
            Locale::En => "upper",
        }
    }

    pub(crate) fn age_group(self) -> &'static str {
        match self {
            Locale::It => "Classe di età",
            Locale::En => "Age group",
        }
    }

    pub(crate) fn males(self) -> &'static str {
        match self {
            Locale::It => "Maschi",
            Locale::En => "Males",
        }
    }

    pub(crate) fn females(self) -> &'static str {
        match self {
            Locale::It => "Femmine",
            Locale::En => "Females",
        }
    }

    pub(crate) fn class(self) -> &'static str {
        match self {
            Locale::It => "Classe",
            Locale::En => "Class",
        }
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            Locale::It => "Codice",
            Locale::En => "Code",
        }
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Locale::It => "Nome",
            Locale::En => "Name",
        }
    }

    pub(crate) fn target(self) -> &'static str {
        match self {
            Locale::It => "Riferimento",
            Locale::En => "Target",
        }
    }

    pub(crate) fn denominator(self) -> &'static str {
        match self {
            Locale::It => "Denominatore",
            Locale::En => "Denominator",
        }
    }

    pub(crate) fn position(self) -> &'static str {
        match self {
            Locale::It => "Posizione",
            Locale::En => "Position",
        }
    }

    pub(crate) fn latitude(self) -> &'static str {
        match self {
            Locale::It => "Latitudine",
            Locale::En => "Latitude",
        }
    }

    pub(crate) fn longitude(self) -> &'static str {
        match self {
            Locale::It => "Longitudine",
            Locale::En => "Longitude",
        }
    }

    pub(crate) fn outside_map(self) -> &'static str {
        match self {
            Locale::It => "fuori mappa",
            Locale::En => "outside the map",
        }
    }

    pub(crate) fn limits(self, level: &str) -> String {
        match self {
            Locale::It => format!("Limiti {level}"),
            Locale::En => format!("{level} limits"),
        }
    }
}

/// Formats `value` with `decimals` decimals and the locale's separators, e.g. `1234.5` with one
/// decimal is `1.234,5` in Italian and `1,234.5` in English. Rounding is half away from zero on
/// the decimal text; `-0` prints as `0`; non-finite values print as the locale's "missing".
pub fn format_number(value: f64, decimals: usize, locale: Locale) -> String {
    if !value.is_finite() {
        return locale.missing().to_owned();
    }
    let text = round_half_away(&format!("{}", value.abs()), decimals);
    let (int_part, frac_part) = match text.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (text.as_str(), None),
    };
    let (thousands, decimal) = locale.separators();
    let mut out = String::new();
    let digits: Vec<char> = int_part.chars().collect();
    for (i, d) in digits.iter().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(thousands);
        }
        out.push(*d);
    }
    if let Some(f) = frac_part {
        out.push(decimal);
        out.push_str(f);
    }
    let is_zero = out
        .chars()
        .all(|c| c == '0' || c == thousands || c == decimal);
    if value < 0.0 && !is_zero {
        out.insert(0, '-');
    }
    out
}

/// Rounds the shortest decimal text of a non-negative number (`13.25`, as `Display` writes it:
/// no exponent) to `decimals` decimals, half away from zero: `13.25` -> `13.3`, where rounding
/// the binary value would give `13.2` (ties to even) and `2.675` would give `2.67`.
fn round_half_away(text: &str, decimals: usize) -> String {
    let (int_part, frac_part) = text.split_once('.').unwrap_or((text, ""));
    let mut digits: Vec<u8> = int_part
        .bytes()
        .chain(
            frac_part
                .bytes()
                .chain(std::iter::repeat(b'0'))
                .take(decimals),
        )
        .map(|b| b - b'0')
        .collect();
    if frac_part
        .as_bytes()
        .get(decimals)
        .is_some_and(|d| *d >= b'5')
    {
        let mut i = digits.len();
        loop {
            if i == 0 {
                digits.insert(0, 1);
                break;
            }
            i -= 1;
            if digits[i] == 9 {
                digits[i] = 0;
            } else {
                digits[i] += 1;
                break;
            }
        }
    }
    let int_len = digits.len() - decimals;
    let mut out: String = digits[..int_len]
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    if decimals > 0 {
        out.push('.');
        out.extend(digits[int_len..].iter().map(|d| char::from(b'0' + d)));
    }
    out
}

/// Formats an optional value, writing the locale's "missing" for `None`.
pub(crate) fn format_opt(value: Option<f64>, decimals: usize, locale: Locale) -> String {
    match value {
        Some(v) => format_number(v, decimals, locale),
        None => locale.missing().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(value: f64, decimals: usize, it: &str, en: &str) {
        assert_eq!(format_number(value, decimals, Locale::It), it, "it {value}");
        assert_eq!(format_number(value, decimals, Locale::En), en, "en {value}");
    }

    #[test]
    fn formats_per_locale() {
        check(1234.5, 1, "1.234,5", "1,234.5");
        check(1234567.891, 2, "1.234.567,89", "1,234,567.89");
        check(999.0, 0, "999", "999");
        check(1000.0, 0, "1.000", "1,000");
        check(0.5, 2, "0,50", "0.50");
        check(-1234.5, 1, "-1.234,5", "-1,234.5");
        check(-0.001, 1, "0,0", "0.0");
        check(123456.0, 0, "123.456", "123,456");
    }

    #[test]
    fn ties_round_half_away_from_zero_on_the_decimal_text() {
        check(13.25, 1, "13,3", "13.3");
        check(2.675, 2, "2,68", "2.68");
        check(0.125, 2, "0,13", "0.13");
        check(-0.5, 0, "-1", "-1");
        check(9.96, 1, "10,0", "10.0");
        check(999.95, 1, "1.000,0", "1,000.0");
        check(0.04, 1, "0,0", "0.0");
        check(12.5, 3, "12,500", "12.500");
        check(
            1e21,
            0,
            "1.000.000.000.000.000.000.000",
            "1,000,000,000,000,000,000,000",
        );
        check(1e-7, 2, "0,00", "0.00");
    }

    #[test]
    fn missing_and_non_finite() {
        assert_eq!(format_number(f64::NAN, 1, Locale::It), "n.d.");
        assert_eq!(format_opt(None, 1, Locale::En), "n/a");
    }
}
