//! Typed parameters (open routes under `/types`), answered with Python `repr` renderings.

use std::borrow::Cow;

use fsa::prelude::*;
use fsa::{Found, FromParam, Scalar};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// A float as Python's `float` parameter: from text any float syntax; from a JSON body only a
/// number written with a fraction or an exponent (`2` is refused, `2.0` is fine).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PyFloat(pub f64);

impl Scalar for PyFloat {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("float")
    }
    fn from_text(text: &str) -> std::result::Result<Self, String> {
        f64::from_text(text).map(PyFloat)
    }
    fn from_json(value: &Value) -> std::result::Result<Self, String> {
        match value {
            Value::Number(n) if n.is_f64() => n.as_f64().map(PyFloat).ok_or_else(|| "expecting float".to_owned()),
            _ => Err("expecting float".to_owned()),
        }
    }
}

/// A natural integer (0 or more).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Nat(pub i64);

impl Scalar for Nat {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("nat")
    }
    fn from_text(text: &str) -> std::result::Result<Self, String> {
        Nat::check(i64::from_text(text)?)
    }
    fn from_json(value: &Value) -> std::result::Result<Self, String> {
        Nat::check(i64::from_json(value)?)
    }
}

impl Nat {
    fn check(i: i64) -> std::result::Result<Nat, String> {
        if i < 0 { Err(format!("invalid natural: {i}")) } else { Ok(Nat(i)) }
    }
}

/// Any JSON value: the JSON body member as is, or HTTP text parsed as JSON (invalid text: 400).
#[derive(Clone, Debug, PartialEq)]
pub struct AnyJson(pub Value);

impl FromParam for AnyJson {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("json")
    }
    fn from_found(found: Found<'_>) -> std::result::Result<Self, String> {
        match found {
            Found::Json(v) => Ok(AnyJson(v.clone())),
            Found::Text(t) => serde_json::from_str(t.first()).map(AnyJson).map_err(|e| e.to_string()),
            Found::Path(s) => serde_json::from_str(s).map(AnyJson).map_err(|e| e.to_string()),
            Found::File(_) => Err("expecting JSON".to_owned()),
        }
    }
}

/// A JSON list of strings (JSON body member, or JSON text in a form field or query).
#[derive(Clone, Debug, PartialEq)]
pub struct StrList(pub Vec<String>);

impl FromParam for StrList {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("list[str]")
    }
    fn from_found(found: Found<'_>) -> std::result::Result<Self, String> {
        let fail = || "expecting list[str]".to_owned();
        let value = match found {
            Found::Json(v) => v.clone(),
            Found::Text(t) => serde_json::from_str(t.first()).map_err(|_| fail())?,
            Found::Path(s) => serde_json::from_str(s).map_err(|_| fail())?,
            Found::File(_) => return Err(fail()),
        };
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => Ok(s),
                    _ => Err(fail()),
                })
                .collect::<std::result::Result<_, _>>()
                .map(StrList),
            _ => Err(fail()),
        }
    }
}

/// A character: `{"name": str, "age": int}`; `age` may also be a string of digits.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Character {
    /// Name.
    pub name: String,
    /// Age.
    #[serde(deserialize_with = "lax_int")]
    pub age: i64,
}

fn lax_int<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrText {
        Int(i64),
        Text(String),
    }
    match IntOrText::deserialize(d)? {
        IntOrText::Int(i) => Ok(i),
        IntOrText::Text(s) => s.trim().parse().map_err(|_| serde::de::Error::custom(format!("invalid integer: {s}"))),
    }
}

/// Python's `repr` of a float: shortest round-trip digits, always a fraction or an exponent.
pub fn repr_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let fixed = format!("{f}");
        if fixed.contains('.') { fixed } else { format!("{fixed}.0") }
    } else {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    }
}

/// Python's `repr` of a string: single quotes, or double quotes when the text has a `'` and
/// no `"`; backslash escapes.
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || (0x7f..0xa0).contains(&(c as u32)) => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr` of a JSON value (as `json.loads` gives it).
pub fn repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(b) => (if *b { "True" } else { "False" }).into(),
        Value::Number(n) if n.is_f64() => repr_float(n.as_f64().unwrap_or(f64::NAN)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => repr_str(s),
        Value::Array(a) => format!("[{}]", a.iter().map(repr).collect::<Vec<_>>().join(", ")),
        Value::Object(o) => {
            format!(
                "{{{}}}",
                o.iter().map(|(k, v)| format!("{}: {}", repr_str(k), repr(v))).collect::<Vec<_>>().join(", ")
            )
        }
    }
}

/// Python's type name of a JSON value.
pub fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Scalars with defaults.
#[get("/types/scalars", authorize = "OPEN")]
fn get_scalars(
    #[default(0)] i: i64,
    #[default(PyFloat(0.0))] f: PyFloat,
    #[default(false)] b: bool,
    #[default(String::new())] s: String,
) -> String {
    format!("i={i}, f={}, b={}, s={s}", repr_float(f.0), if b { "True" } else { "False" })
}

/// Any JSON value: its Python type and rendering.
#[get("/types/json", authorize = "OPEN")]
fn get_json(j: AnyJson) -> String {
    let text = match &j.0 {
        Value::String(s) => s.clone(),
        other => repr(other),
    };
    format!("{}: {text}", py_type(&j.0))
}

/// The sum of two naturals.
#[get("/types/nat", authorize = "OPEN")]
fn get_nat(i: Nat, j: Nat) -> Json<i64> {
    Json(i.0.saturating_add(j.0))
}

/// A character object, echoed.
#[post("/types/char", authorize = "OPEN")]
fn post_char(char: Character) -> (Json<Character>, u16) {
    (Json(char), 201)
}

/// A person object (same shape), echoed.
#[post("/types/pers", authorize = "OPEN")]
fn post_pers(pers: Character) -> (Json<Character>, u16) {
    (Json(pers), 201)
}

/// A list of strings: its length and items joined with `/`.
#[get("/types/ls", authorize = "OPEN")]
fn get_ls(ls: StrList) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "len": ls.0.len(), "all": ls.0.join("/") }))
}

/// The routes of this module.
pub fn routes() -> Vec<fsa::RouteDef> {
    routes![get_scalars, get_json, get_nat, post_char, post_pers, get_ls]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_float_repr() {
        for (f, s) in [
            (2.0, "2.0"),
            (123.456, "123.456"),
            (15000000000.0, "15000000000.0"),
            (1e16, "1e+16"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1.5e300, "1.5e+300"),
            (-0.0, "-0.0"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(repr_float(f), s);
        }
        assert_eq!(repr_float(f64::NAN), "nan");
    }

    #[test]
    fn python_str_repr() {
        assert_eq!(repr_str("hello"), "'hello'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(repr_str("a\\b\n"), "'a\\\\b\\n'");
    }
}
