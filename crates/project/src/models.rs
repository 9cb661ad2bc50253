//! `models/NAME.sql`: derived tables, one SQL query per file, built after the sources they read
//! (like dbt models). Only the syntax is checked here; the build checks the tables and columns.

use crate::config::is_identifier;
use crate::error::ConfigError;
use crate::text::error_at;
use serde::Serialize;
use sqlparser::ast::{Spanned as _, Statement};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};
use std::path::Path;

/// A model: a table of the warehouse defined by one SQL query over other tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelSpec {
    /// The table name: the file stem.
    pub name: String,
    /// The file, relative to the project root (`models/NAME.sql`).
    pub file: String,
    /// The query as written.
    pub sql: String,
}

/// Parses and checks one model file; `sources` are the source names (a model cannot take one).
pub(crate) fn parse(
    root: &Path,
    rel: &Path,
    text: &str,
    sources: &[&str],
) -> Result<ModelSpec, Vec<ConfigError>> {
    let file = root.join(rel);
    let mut errors = Vec::new();
    let name = rel
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let whole = |message: String, hint: Option<String>| ConfigError {
        file: file.clone(),
        line: 0,
        column: 0,
        key: String::new(),
        message,
        hint,
    };
    if !is_identifier(&name) {
        errors.push(whole(
            format!("`{name}` is not a valid model name (it becomes a table name)"),
            Some(
                "rename the file: lowercase letters, digits and `_`, starting with a letter".into(),
            ),
        ));
    } else if sources.contains(&name.as_str()) {
        errors.push(whole(
            format!("a model cannot be named like the source `{name}`"),
            Some("rename the file: its name is the model's table name".into()),
        ));
    }
    match Parser::parse_sql(&GenericDialect, text) {
        Err(e) => {
            let (message, at) = parser_error(&e);
            let (line, column) = at.unwrap_or_else(|| {
                // "found: EOF": the query ends too early, at its last line.
                let end = text.trim_end().len();
                crate::text::line_col(text, end)
            });
            errors.push(ConfigError {
                line,
                column,
                ..whole(format!("invalid SQL: {message}"), None)
            });
        }
        Ok(statements) => match statements.as_slice() {
            [] => errors.push(whole(
                "the file holds no query".into(),
                Some("write one SELECT (or WITH ... SELECT) query".into()),
            )),
            [Statement::Query(_)] => {}
            [other] => {
                let what = other.to_string();
                let what = what.split_whitespace().next().unwrap_or("").to_uppercase();
                errors.push(at_statement(
                    &file,
                    text,
                    other,
                    format!("a model is a query (SELECT or WITH), not {what}"),
                    Some("datalab creates the table itself from the query's result".into()),
                ))
            }
            [_, second, ..] => errors.push(at_statement(
                &file,
                text,
                second,
                format!(
                    "a model is one query, this file holds {} statements",
                    statements.len()
                ),
                Some("put each model in its own file".into()),
            )),
        },
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(ModelSpec {
        name,
        file: rel.to_string_lossy().replace('\\', "/"),
        sql: text.to_string(),
    })
}

fn at_statement(
    file: &Path,
    text: &str,
    statement: &Statement,
    message: String,
    hint: Option<String>,
) -> ConfigError {
    let start = statement.span().start;
    let mut e = error_at(file, text, None, "", message, hint);
    if start.line > 0 {
        e.line = start.line as usize;
        e.column = start.column as usize;
    }
    e
}

/// sqlparser's message (first letter lowercased) and the 1-based (line, column) it names.
pub(crate) fn parser_error(e: &ParserError) -> (String, Option<(usize, usize)>) {
    let s = match e {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s.clone(),
        ParserError::RecursionLimitExceeded => "the query is nested too deeply".into(),
    };
    let (message, at) = match s.rsplit_once(" at Line: ") {
        Some((m, loc)) => {
            let at = loc.split_once(", Column: ").and_then(|(l, c)| {
                Some((
                    l.trim().parse::<usize>().ok()?,
                    c.trim().parse::<usize>().ok()?,
                ))
            });
            match at {
                Some(at) => (m.to_string(), Some(at)),
                None => (s.clone(), None),
            }
        }
        None => (s.clone(), None),
    };
    let mut c = message.chars();
    let message = match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => message,
    };
    (message, at)
}

#[cfg(test)]
mod tests {
    use crate::testing::{check, load};

    const SOURCE: &str = "format_version = 1\nfiles = [\"data/r.csv\"]\nformat = \"csv\"\n\n[[columns]]\nname = \"zone\"\ntype = \"string\"\n";

    #[test]
    fn models_are_one_query_each_sorted_by_name() {
        let p = load(&[
            ("sources/register.toml", SOURCE),
            (
                "models/zones_count.sql",
                "-- residents per zone\nSELECT zone, count(*) AS n\nFROM register\nGROUP BY zone;\n",
            ),
            (
                "models/a_first.sql",
                "WITH z AS (SELECT zone FROM register)\nSELECT * FROM z",
            ),
            ("models/README.md", "# models"),
        ]);
        let names: Vec<(&str, &str)> = p
            .models
            .iter()
            .map(|m| (m.name.as_str(), m.file.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("a_first", "models/a_first.sql"),
                ("zones_count", "models/zones_count.sql")
            ]
        );
        assert!(
            p.model("zones_count")
                .is_some_and(|m| m.sql.contains("GROUP BY zone"))
        );
    }

    #[test]
    fn a_syntax_error_names_its_line_and_column() {
        check(
            &[(
                "models/m.sql",
                "SELECT zone,\n       count(*\nFROM register\n",
            )],
            &[(
                "models/m.sql",
                3,
                "",
                "invalid SQL: expected: ), found: FROM",
                "",
            )],
        );
        check(
            &[("models/m.sql", "SELECT zone\nFROM register\nWHERE\n\n")],
            &[(
                "models/m.sql",
                3,
                "",
                "invalid SQL: expected: an expression, found: EOF",
                "",
            )],
        );
    }

    #[test]
    fn a_model_is_exactly_one_query() {
        check(
            &[("models/m.sql", "SELECT 1;\n\nSELECT 2;\n")],
            &[(
                "models/m.sql",
                3,
                "",
                "a model is one query, this file holds 2 statements",
                "its own file",
            )],
        );
        check(
            &[("models/m.sql", "\nCREATE TABLE x (a INT)")],
            &[(
                "models/m.sql",
                2,
                "",
                "a model is a query (SELECT or WITH), not CREATE",
                "",
            )],
        );
        check(
            &[("models/m.sql", "-- nothing yet\n")],
            &[("models/m.sql", 0, "", "the file holds no query", "")],
        );
    }

    #[test]
    fn a_model_name_is_an_identifier_and_not_a_source() {
        check(
            &[
                ("sources/register.toml", SOURCE),
                ("models/register.sql", "SELECT 1"),
                ("models/By-Zone.sql", "SELECT 1"),
            ],
            &[
                (
                    "models/By-Zone.sql",
                    0,
                    "",
                    "`By-Zone` is not a valid model name",
                    "rename the file",
                ),
                (
                    "models/register.sql",
                    0,
                    "",
                    "a model cannot be named like the source `register`",
                    "",
                ),
            ],
        );
    }
}
