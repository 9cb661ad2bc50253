//! The rule language: expressions in Rhai (<https://rhai.rs>), a sandboxed, maintained
//! expression engine, evaluated over a household's variables and a rule's parameters.
//!
//! What a rule writer may use: numbers, `true`/`false`, strings in double quotes, arithmetic
//! `+ - * /` (division is always exact: `7 / 2` is 3.5, never integer division), comparisons,
//! `&&`, `||`, `!`, `if c { a } else { b }`, and functions such as `min`, `max`, `abs`,
//! `floor`, `round`. No statement, loop, assignment or function definition: a rule is an
//! expression, not a program.

use crate::microsim::simulate::Value;
use rhai::{AST, Dynamic, Engine, Scope};
use std::sync::OnceLock;

/// The shared engine: standard functions, exact division, bounded work per expression.
pub fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut e = Engine::new();
        // operators registered below override the built-in ones only without fast operators
        e.set_fast_operators(false);
        e.register_fn("/", |a: i64, b: i64| a as f64 / b as f64);
        e.set_max_operations(10_000);
        e.set_max_expr_depths(64, 64);
        e
    })
}

/// A compiled expression with its source text.
#[derive(Debug, Clone)]
pub struct Expr {
    pub text: String,
    pub ast: AST,
    /// The variables it reads, in order of first appearance.
    pub names: Vec<String>,
}

impl Expr {
    /// Compiles `text`; the error is Rhai's message with the 1-based (line, column) inside the
    /// text, when known.
    pub fn compile(text: &str) -> Result<Expr, (String, Option<(usize, usize)>)> {
        let ast = engine().compile_expression(text).map_err(|e| {
            let pos = e.position();
            let at = pos.line().map(|l| (l, pos.position().unwrap_or(1)));
            (e.err_type().to_string().to_lowercase(), at)
        })?;
        Ok(Expr {
            text: text.to_string(),
            ast,
            names: identifiers(text),
        })
    }

    /// Evaluates the expression in `scope`.
    pub fn eval(&self, scope: &mut Scope) -> Result<Value, String> {
        let v: Dynamic = engine()
            .eval_ast_with_scope(scope, &self.ast)
            .map_err(|e| e.to_string().to_lowercase())?;
        to_value(v)
    }
}

/// A Rhai value as one of ours.
pub fn to_value(v: Dynamic) -> Result<Value, String> {
    if let Some(b) = v.clone().try_cast::<bool>() {
        return Ok(Value::Bool(b));
    }
    if let Some(i) = v.clone().try_cast::<i64>() {
        return Ok(Value::Num(i as f64));
    }
    if let Some(f) = v.clone().try_cast::<f64>() {
        return Ok(Value::Num(f));
    }
    if v.is_string() {
        return Ok(Value::Text(v.into_string().unwrap_or_default()));
    }
    Err(format!(
        "the expression gives a value of type {}, expected a number, a boolean or a string",
        v.type_name()
    ))
}

/// One of ours as a Rhai value.
pub fn to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Num(x) => Dynamic::from_float(*x),
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Text(s) => Dynamic::from(s.clone()),
    }
}

/// Words of Rhai that are not variables.
const KEYWORDS: &[&str] = &["true", "false", "if", "else", "switch", "in"];

/// The variable names an expression reads: identifiers outside string literals that are not
/// keywords, not function names (followed by `(`) and not method or property names (after a
/// `.`), in order of first appearance.
pub fn identifiers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            let quote = c;
            i += 1;
            while i < chars.len() && chars[i] != quote {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            continue;
        }
        if c.is_ascii_digit() {
            // a number, with its exponent or underscores (1e3, 10_140)
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            let mut j = i;
            while j < chars.len() && chars[j].is_whitespace() {
                j += 1;
            }
            let call = j < chars.len() && chars[j] == '(';
            let member = start > 0 && chars[start - 1] == '.';
            if !call && !member && !KEYWORDS.contains(&word.as_str()) && !out.contains(&word) {
                out.push(word);
            }
            continue;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, vars: &[(&str, Value)]) -> Value {
        let mut scope = Scope::new();
        for (k, v) in vars {
            scope.push_dynamic(k.to_string(), to_dynamic(v));
        }
        Expr::compile(text).unwrap().eval(&mut scope).unwrap()
    }

    #[test]
    fn division_is_exact_and_numbers_mix() {
        assert_eq!(eval("7 / 2", &[]), Value::Num(3.5));
        assert_eq!(eval("1 + 2.5", &[]), Value::Num(3.5));
        assert_eq!(
            eval(
                "max(0, 6000 * s - y)",
                &[("s", Value::Num(1.4)), ("y", Value::Num(3000.0))]
            ),
            Value::Num(5400.0)
        );
        assert_eq!(
            eval("if m > 2 { 1 } else { 0 }", &[("m", Value::Num(3.0))]),
            Value::Num(1.0)
        );
        assert_eq!(
            eval(
                "t == \"monogenitore\" && m >= 1",
                &[
                    ("t", Value::Text("monogenitore".into())),
                    ("m", Value::Num(1.0))
                ]
            ),
            Value::Bool(true)
        );
    }

    #[test]
    fn identifiers_skip_functions_strings_numbers_and_keywords() {
        assert_eq!(
            identifiers("max(0, base * scale - isr) + if t == \"a b\" { 1e3 } else { x_2 }"),
            vec!["base", "scale", "isr", "t", "x_2"]
        );
    }

    #[test]
    fn a_syntax_error_is_located() {
        let (msg, at) = Expr::compile("isee <=\n 10140 +* 2").unwrap_err();
        assert!(!msg.is_empty());
        assert_eq!(at.map(|a| a.0), Some(2));
    }
}
