//! Locating things in TOML text: byte offsets to lines, toml errors to [`ConfigError`]s.

use crate::error::ConfigError;
use std::ops::Range;
use std::path::Path;

/// 1-based (line, column) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rfind('\n').map_or(offset, |nl| offset - nl - 1) + 1;
    (line, col)
}

/// A [`ConfigError`] located at `span` in `text`.
pub fn error_at(
    file: &Path,
    text: &str,
    span: Option<Range<usize>>,
    key: impl Into<String>,
    message: impl Into<String>,
    hint: Option<String>,
) -> ConfigError {
    let (line, column) = span.map_or((0, 0), |s| line_col(text, s.start));
    ConfigError {
        file: file.to_path_buf(),
        line,
        column,
        key: key.into(),
        message: message.into(),
        hint,
    }
}

/// Converts a toml/serde error into a located error, with a "did you mean" hint for unknown
/// keys and values.
pub fn from_toml_error(file: &Path, text: &str, err: &toml::de::Error) -> ConfigError {
    let message = err.message().trim().trim_end_matches('.').to_string();
    let span = err.span();
    // A missing key is named by the message; the span covers the whole table, whose first line
    // holds some other key (regression: `missing field `format_version`` was reported as
    // "key `name`"; guarded by the cli tests `config::missing_format_version_*`).
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next());
    let key = match missing {
        Some(k) => k.to_string(),
        None => span
            .clone()
            .map(|s| key_on_line(text, s.start))
            .unwrap_or_default(),
    };
    let hint = suggestion(&message);
    let mut e = error_at(file, text, span, key, first_lower(&message), hint);
    if e.message.contains("missing field `format_version`") {
        e.hint = Some("add `format_version = 1` at the top of the file".into());
    }
    e
}

fn first_lower(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// The key written on the line containing `offset` (`name = ...`), if any.
fn key_on_line(text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line = &text[start..end];
    match line.split_once('=') {
        Some((k, _)) => k.trim().trim_matches('"').to_string(),
        None => line.trim().trim_matches(['[', ']']).to_string(),
    }
}

/// For serde's "unknown field `x`, expected one of `a`, `b`" and "unknown variant" messages,
/// the closest expected name.
fn suggestion(message: &str) -> Option<String> {
    let (kind, rest) = if let Some(r) = message.strip_prefix("unknown field ") {
        ("key", r)
    } else if let Some(r) = message.strip_prefix("unknown variant ") {
        ("value", r)
    } else {
        return None;
    };
    let got = rest.split('`').nth(1)?;
    let expected: Vec<&str> = rest
        .split_once("expected")?
        .1
        .split('`')
        .skip(1)
        .step_by(2)
        .collect();
    closest(got, &expected)
        .map(|best| format!("did you mean `{best}`?"))
        .or_else(|| Some(format!("the valid {kind}s are: {}", expected.join(", "))))
}

/// The candidate closest to `got`, if it is close enough to be a likely typo.
pub fn closest<'a>(got: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| {
            (
                strsim::jaro_winkler(&got.to_lowercase(), &c.to_lowercase()),
                *c,
            )
        })
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_from_one() {
        let t = "a = 1\nbb = 2\n";
        assert_eq!(line_col(t, 0), (1, 1));
        assert_eq!(line_col(t, 6), (2, 1));
        assert_eq!(line_col(t, 8), (2, 3));
    }

    #[test]
    fn unknown_field_gets_a_did_you_mean() {
        let m = "unknown field `delimter`, expected one of `delimiter`, `decimal`, `quote`";
        assert_eq!(suggestion(m).as_deref(), Some("did you mean `delimiter`?"));
    }

    #[test]
    fn far_off_names_list_the_valid_ones() {
        let m = "unknown variant `xml`, expected one of `csv`, `xlsx`, `parquet`, `jsonl`";
        assert_eq!(
            suggestion(m).as_deref(),
            Some("the valid values are: csv, xlsx, parquet, jsonl")
        );
    }
}
