//! Typed parameters (open routes under `/types`), answered with Python `repr` renderings.

use std::borrow::Cow;

use fsa::prelude::*;
use fsa::{Found, FromParam, Scalar};
use num_bigint::{BigInt, Sign};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

/// An integer of any size, as Python's `int`: read from HTTP text as `int(text, 0)` reads it
/// (`0x10`, `1_000`), from a JSON body as an integer of any length.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct PyInt(pub BigInt);

impl From<i128> for PyInt {
    fn from(i: i128) -> Self {
        PyInt(BigInt::from(i))
    }
}

impl std::fmt::Display for PyInt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl PyInt {
    /// Python's limit on the digits of a decimal integer read from text (`sys.int_info`), which
    /// bounds the time a conversion takes.
    pub const MAX_DECIMAL_DIGITS: usize = 4300;

    /// Refuses decimal digits beyond [`PyInt::MAX_DECIMAL_DIGITS`], with Python's message.
    fn check_decimal_digits(digits: &str) -> std::result::Result<(), String> {
        if digits.len() <= Self::MAX_DECIMAL_DIGITS { Ok(()) } else { Err(Self::too_many_digits(digits.len())) }
    }

    /// The least integer of more decimal digits than the limit: 10 to the power of the limit.
    fn least_too_long() -> &'static num_bigint::BigUint {
        static LEAST: std::sync::OnceLock<num_bigint::BigUint> = std::sync::OnceLock::new();
        LEAST.get_or_init(|| num_bigint::BigUint::from(10u32).pow(Self::MAX_DECIMAL_DIGITS as u32))
    }

    /// Python's message for an integer of `digits` decimal digits, beyond the limit.
    fn too_many_digits(digits: usize) -> String {
        format!(
            "Exceeds the limit ({} digits) for integer string conversion: value has {} digits",
            Self::MAX_DECIMAL_DIGITS,
            digits
        )
    }

    /// The integer of these ASCII digits in this radix, within Python's limit.
    ///
    /// Python reads a literal in base 2, 8 or 16 of any length, and then refuses to write it in
    /// decimal beyond the same limit (a 500 of the reference, whose routes print their
    /// integers): such a literal is refused here if its value has more decimal digits than
    /// the limit, judged from its length before it is read, so that neither the reading nor
    /// the writing of a huge one takes long.
    fn from_digits(negative: bool, digits: &str, radix: u32) -> std::result::Result<Self, String> {
        if radix == 10 {
            Self::check_decimal_digits(digits)?;
        } else {
            let significant = digits.trim_start_matches('0').len();
            // Decimal digits of the largest value of that many digits, rounded up.
            let decimal = (significant as f64 * f64::from(radix).log10()).ceil() as usize;
            if decimal > Self::MAX_DECIMAL_DIGITS + 1 {
                return Err(Self::too_many_digits(decimal));
            }
        }
        let magnitude =
            BigInt::parse_bytes(digits.as_bytes(), radix).ok_or_else(|| "invalid literal for int".to_owned())?;
        // Exactly, by a comparison with the least value of one digit more (printing it, for
        // the message only, when it is refused).
        if radix != 10 && magnitude.magnitude() >= Self::least_too_long() {
            return Err(Self::too_many_digits(magnitude.magnitude().to_string().len()));
        }
        Ok(PyInt(if negative { -magnitude } else { magnitude }))
    }
}

impl Scalar for PyInt {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("int")
    }
    /// Up to 38 digits as an `i128`, the usual case; longer literals digit by digit.
    fn from_text(text: &str) -> std::result::Result<Self, String> {
        i128::from_text(text).map(PyInt::from).or_else(|error| {
            let literal = fsa::params::int_literal(text).ok_or(error)?;
            PyInt::from_digits(literal.negative, &literal.digits, literal.radix)
        })
    }
    fn from_json(value: &Value) -> std::result::Result<Self, String> {
        i128::from_json(value).map(PyInt::from)
    }
    /// A JSON integer of any length (within Python's limit); anything else is left to
    /// [`Scalar::from_json`].
    fn from_json_text(text: &str) -> Option<Self> {
        let text = text.trim_matches([' ', '\t', '\n', '\r']);
        let (negative, digits) = text.strip_prefix('-').map_or((false, text), |digits| (true, digits));
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        PyInt::from_digits(negative, digits, 10).ok()
    }
}

/// A natural integer (0 or more), of any size.
#[derive(Clone, Debug, PartialEq)]
pub struct Nat(pub PyInt);

impl Scalar for Nat {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("nat")
    }
    fn from_text(text: &str) -> std::result::Result<Self, String> {
        Nat::check(PyInt::from_text(text)?)
    }
    fn from_json(value: &Value) -> std::result::Result<Self, String> {
        Nat::check(PyInt::from_json(value)?)
    }
    fn from_json_text(text: &str) -> Option<Self> {
        // A negative one is left to `from_json`, whose error quotes it.
        <PyInt as Scalar>::from_json_text(text).and_then(|i| Nat::check(i).ok())
    }
}

impl Nat {
    fn check(i: PyInt) -> std::result::Result<Nat, String> {
        if i.0.sign() == Sign::Minus { Err(format!("invalid natural: {i}")) } else { Ok(Nat(i)) }
    }
}

/// Serializes an integer of any size as a JSON integer (`serde_json` has no number beyond 64
/// bits but through its raw values).
fn json_integer<S: serde::Serializer>(i: &PyInt, serializer: S) -> std::result::Result<S::Ok, S::Error> {
    let raw = serde_json::value::RawValue::from_string(i.to_string()).map_err(serde::ser::Error::custom)?;
    raw.serialize(serializer)
}

/// Any JSON value, as Python's `json.loads` gives it: the JSON body member as is, or HTTP text
/// parsed as JSON (invalid text: 400).
#[derive(Clone, Debug, PartialEq)]
pub struct AnyJson(pub PyValue);

impl FromParam for AnyJson {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("json")
    }
    fn from_found(found: Found<'_>) -> std::result::Result<Self, String> {
        match found {
            Found::Json(v) => Ok(AnyJson(PyValue::from(v))),
            Found::Text(t) => PyValue::parse(t.first()).map(AnyJson),
            Found::Path(s) | Found::JsonText(s) => PyValue::parse(s).map(AnyJson),
            _ => Err("expecting JSON".to_owned()),
        }
    }
    /// A JSON body member read from its text as `json.loads` reads it, where a `Value` would
    /// make floats of integers beyond 64 bits.
    fn from_json_text(text: &str) -> Option<Self> {
        PyValue::parse(text).ok().map(AnyJson)
    }
}

/// A value of Python's `json.loads`: integers of any size (kept as their decimal text),
/// `NaN`, `Infinity` and `-Infinity` floats, objects in input order (a repeated key keeps its
/// first place and its last value).
#[derive(Clone, Debug, PartialEq)]
pub enum PyValue {
    /// `null`.
    None,
    /// `true`, `false`.
    Bool(bool),
    /// An integer, as normalized decimal text (`-0` is `0`).
    Int(String),
    /// A number with a fraction or an exponent, or `NaN`, `Infinity`, `-Infinity`.
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    List(Vec<PyValue>),
    /// An object.
    Dict(Vec<(String, PyValue)>),
}

impl From<&Value> for PyValue {
    fn from(v: &Value) -> Self {
        match v {
            Value::Null => PyValue::None,
            Value::Bool(b) => PyValue::Bool(*b),
            Value::Number(n) if n.is_f64() => PyValue::Float(n.as_f64().unwrap_or(f64::NAN)),
            Value::Number(n) => PyValue::Int(n.to_string()),
            Value::String(s) => PyValue::Str(s.clone()),
            Value::Array(a) => PyValue::List(a.iter().map(PyValue::from).collect()),
            Value::Object(o) => PyValue::Dict(o.iter().map(|(k, v)| (k.clone(), PyValue::from(v))).collect()),
        }
    }
}

impl PyValue {
    /// Parses one JSON text with `json.loads`'s extensions; an error names what is wrong.
    pub fn parse(text: &str) -> std::result::Result<PyValue, String> {
        let mut reader = PyJsonReader { text, pos: 0, depth: 0 };
        let value = reader.value()?;
        reader.skip_space();
        if reader.pos != text.len() {
            return Err(format!("extra data at {}", reader.pos));
        }
        Ok(value)
    }
}

/// The recursive reader behind [`PyValue::parse`]; strings are decoded by `serde_json`.
struct PyJsonReader<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl PyJsonReader<'_> {
    /// Nesting accepted (deeper text is a 400; the reader recurses once per level).
    const MAX_DEPTH: usize = 128;

    fn rest(&self) -> &str {
        &self.text[self.pos..]
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start_matches([' ', '\t', '\n', '\r']).len();
    }

    fn error(&self, what: &str) -> String {
        format!("{what} at {}", self.pos)
    }

    fn eat(&mut self, token: &str) -> bool {
        let found = self.rest().starts_with(token);
        if found {
            self.pos += token.len();
        }
        found
    }

    fn value(&mut self) -> std::result::Result<PyValue, String> {
        self.skip_space();
        for (token, value) in [
            ("null", PyValue::None),
            ("true", PyValue::Bool(true)),
            ("false", PyValue::Bool(false)),
            ("NaN", PyValue::Float(f64::NAN)),
            ("Infinity", PyValue::Float(f64::INFINITY)),
            ("-Infinity", PyValue::Float(f64::NEG_INFINITY)),
        ] {
            if self.eat(token) {
                return Ok(value);
            }
        }
        match self.rest().bytes().next() {
            Some(b'"') => self.string().map(PyValue::Str),
            Some(b'[') => self.nested(|r| {
                let mut items = Vec::new();
                r.members(b']', |r| r.value().map(|v| items.push(v)))?;
                Ok(PyValue::List(items))
            }),
            Some(b'{') => self.nested(|r| {
                let mut members: Vec<(String, PyValue)> = Vec::new();
                // Where each key is in `members`: a repeated key is found in constant time.
                let mut places: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
                r.members(b'}', |r| {
                    r.skip_space();
                    let key = r.string()?;
                    r.skip_space();
                    if !r.eat(":") {
                        return Err(r.error("expecting ':'"));
                    }
                    let value = r.value()?;
                    match places.get(&key) {
                        Some(&i) => members[i].1 = value,
                        None => {
                            places.insert(key.clone(), members.len());
                            members.push((key, value));
                        }
                    }
                    Ok(())
                })?;
                Ok(PyValue::Dict(members))
            }),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.error("expecting value")),
        }
    }

    /// An array or an object: one more level, at most [`Self::MAX_DEPTH`].
    fn nested(
        &mut self,
        read: impl FnOnce(&mut Self) -> std::result::Result<PyValue, String>,
    ) -> std::result::Result<PyValue, String> {
        self.depth += 1;
        if self.depth > Self::MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        let value = read(self);
        self.depth -= 1;
        value
    }

    /// The members after an opening bracket, comma-separated, up to `close`.
    fn members(
        &mut self,
        close: u8,
        mut member: impl FnMut(&mut Self) -> std::result::Result<(), String>,
    ) -> std::result::Result<(), String> {
        self.pos += 1;
        self.skip_space();
        if self.rest().as_bytes().first() == Some(&close) {
            self.pos += 1;
            return Ok(());
        }
        loop {
            member(self)?;
            self.skip_space();
            match self.rest().as_bytes().first() {
                Some(b',') => self.pos += 1,
                Some(c) if *c == close => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.error("expecting ',' or a closing bracket")),
            }
        }
    }

    fn string(&mut self) -> std::result::Result<String, String> {
        let bytes = self.rest().as_bytes();
        if bytes.first() != Some(&b'"') {
            return Err(self.error("expecting a string"));
        }
        let mut end = 1;
        loop {
            match bytes.get(end) {
                Some(b'"') => break,
                Some(b'\\') => end += 2,
                Some(_) => end += 1,
                None => return Err(self.error("unterminated string")),
            }
        }
        let literal = &self.rest()[..=end];
        let decoded = serde_json::from_str(literal).map_err(|e| self.error(&e.to_string()))?;
        self.pos += end + 1;
        Ok(decoded)
    }

    fn number(&mut self) -> std::result::Result<PyValue, String> {
        let rest = self.rest().as_bytes();
        let digits = |from: usize| rest[from..].iter().take_while(|b| b.is_ascii_digit()).count();
        let mut end = usize::from(rest.first() == Some(&b'-'));
        let int_digits = digits(end);
        if int_digits == 0 || (int_digits > 1 && rest[end] == b'0') {
            return Err(self.error("invalid number"));
        }
        end += int_digits;
        let mut float = false;
        if rest.get(end) == Some(&b'.') && digits(end + 1) > 0 {
            end += 1 + digits(end + 1);
            float = true;
        }
        if matches!(rest.get(end), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(rest.get(end + 1), Some(b'+' | b'-')));
            if digits(end + 1 + sign) > 0 {
                end += 1 + sign + digits(end + 1 + sign);
                float = true;
            }
        }
        let text = self.text;
        let literal = &text[self.pos..self.pos + end];
        self.pos += end;
        if float {
            // Rust parses an exponent too large as an infinity, as Python's `float` does.
            return literal.parse().map(PyValue::Float).map_err(|_| self.error("invalid number"));
        }
        let magnitude = literal.trim_start_matches('-');
        PyInt::check_decimal_digits(magnitude)?;
        let negative = literal.starts_with('-') && magnitude != "0";
        Ok(PyValue::Int(if negative { literal.to_owned() } else { magnitude.to_owned() }))
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
            Found::Path(s) | Found::JsonText(s) => serde_json::from_str(s).map_err(|_| fail())?,
            _ => return Err(fail()),
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
    /// The received value as FlaskSimpleAuth's message quotes it, with Python's `str`: a JSON
    /// body member `[1, 2]` as `[1, 2]`, `"ab"` as `ab`, `null` as `None`.
    fn value_repr(found: &Found<'_>) -> String {
        let value = match found {
            Found::Json(v) => PyValue::from(*v),
            Found::JsonText(text) => match PyValue::parse(text) {
                Ok(v) => v,
                Err(_) => return fsa::params::found_repr(found),
            },
            _ => return fsa::params::found_repr(found),
        };
        match value {
            PyValue::Str(s) => s,
            other => repr(&other),
        }
    }
}

/// A character: `{"name": str, "age": int}`; `age` is read as pydantic's lax mode reads an
/// `int` (see [`lax_int_value`]), of any size.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Character {
    /// Name.
    pub name: String,
    /// Age.
    #[serde(deserialize_with = "lax_int", serialize_with = "json_integer")]
    pub age: PyInt,
}

fn lax_int<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<PyInt, D::Error> {
    lax_int_or_error(&Value::deserialize(d)?)
}

/// Serde's `deserialize_with` for an optional integer read as pydantic's lax mode reads one:
/// null is `None`, anything else as [`lax_int_value`] takes it, up to `i128`'s range.
pub fn lax_optional_int<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Option<i128>, D::Error> {
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        value => {
            let i = lax_int_or_error(&value)?;
            i128::try_from(&i.0).map(Some).map_err(|_| serde::de::Error::custom(format!("integer out of range: {i}")))
        }
    }
}

fn lax_int_or_error<E: serde::de::Error>(value: &Value) -> std::result::Result<PyInt, E> {
    lax_int_value(value).ok_or_else(|| E::custom(format!("invalid integer: {value}")))
}

/// Serde's `deserialize_with` for a boolean read as pydantic's lax mode reads one (see
/// [`lax_bool_value`]).
pub fn lax_bool<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<bool, D::Error> {
    let value = Value::deserialize(d)?;
    lax_bool_value(&value).ok_or_else(|| serde::de::Error::custom(format!("invalid boolean: {value}")))
}

/// A boolean as pydantic 2's lax mode takes it: a JSON boolean, the numbers 0 and 1 (`0.0`
/// and `1.0` too), or one of the strings `0`, `1` and, in any case, `f`, `n`, `no`, `off`,
/// `false`, `t`, `y`, `yes`, `on`, `true` (no spaces around). Anything else is `None`.
///
/// ```
/// use demo::types::lax_bool_value;
/// use serde_json::json;
/// assert_eq!(lax_bool_value(&json!("Yes")), Some(true));
/// assert_eq!(lax_bool_value(&json!(0.0)), Some(false));
/// assert_eq!(lax_bool_value(&json!(2)), None);
/// assert_eq!(lax_bool_value(&json!(" true")), None);
/// ```
pub fn lax_bool_value(value: &Value) -> Option<bool> {
    match value {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_f64()? {
            0.0 => Some(false),
            1.0 => Some(true),
            _ => None,
        },
        Value::String(s) => {
            let is = |words: &[&str]| words.iter().any(|w| s.eq_ignore_ascii_case(w));
            if is(&["0", "f", "n", "no", "off", "false"]) {
                Some(false)
            } else if is(&["1", "t", "y", "yes", "on", "true"]) {
                Some(true)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// A character read from its JSON text, where an `age` written as a long integer keeps every
/// digit (a `serde_json::Value` would hold it as a float); `None` when the text is not such an
/// object, and the reading through a `Value` then says why.
#[derive(Deserialize)]
struct CharacterText<'a> {
    name: String,
    #[serde(borrow)]
    age: &'a serde_json::value::RawValue,
}

impl Character {
    fn from_json_text_exact(text: &str) -> Option<Self> {
        if !text.trim_start().starts_with('{') {
            return None;
        }
        let raw: CharacterText<'_> = serde_json::from_str(text).ok()?;
        let age = raw.age.get();
        let age = <PyInt as Scalar>::from_json_text(age).or_else(|| lax_int_value(&serde_json::from_str(age).ok()?))?;
        Some(Character { name: raw.name, age })
    }
}

impl FromParam for Character {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("Character")
    }
    fn from_found(found: Found<'_>) -> std::result::Result<Self, String> {
        let text = match &found {
            Found::Text(t) => Some(t.first()),
            Found::Path(s) | Found::JsonText(s) => Some(*s),
            _ => None,
        };
        match text.and_then(Character::from_json_text_exact) {
            Some(character) => Ok(character),
            None => fsa::params::serde_from_found(found),
        }
    }
    fn from_json_text(text: &str) -> Option<Self> {
        Character::from_json_text_exact(text)
    }
}

/// An integer as pydantic 2's lax mode takes it: a JSON integer, a float with no fractional
/// part (`12.0`) within 64 bits, a boolean (`true` is 1), or a string holding a decimal
/// integer with optional surrounding spaces, sign, single underscores between digits and a
/// fraction of zeros (`" +1_000.00 "`), of any size. Anything else is `None`.
///
/// ```
/// use demo::types::{PyInt, lax_int_value};
/// use serde_json::json;
/// assert_eq!(lax_int_value(&json!(" +1_000.00 ")), Some(PyInt::from(1000)));
/// assert_eq!(lax_int_value(&json!(12.0)), Some(PyInt::from(12)));
/// assert_eq!(lax_int_value(&json!(9.2e18)), Some(PyInt::from(9_200_000_000_000_000_000)));
/// assert_eq!(lax_int_value(&json!(1e20)), None);
/// let long = format!("1{}", "0".repeat(40));
/// assert_eq!(lax_int_value(&json!(long)).map(|i| i.to_string()), Some(long));
/// assert_eq!(lax_int_value(&json!(12.5)), None);
/// assert_eq!(lax_int_value(&json!("0x10")), None);
/// ```
pub fn lax_int_value(value: &Value) -> Option<PyInt> {
    match value {
        Value::Number(n) => {
            n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)).map(PyInt::from).or_else(|| {
                // A float without fraction, within 64 bits (strictly: pydantic refuses -2⁶³ too).
                let f = n.as_f64()?;
                (f.fract() == 0.0 && f.abs() < 2f64.powi(63)).then(|| PyInt::from(f as i128))
            })
        }
        Value::Bool(b) => Some(PyInt::from(i128::from(*b))),
        Value::String(s) => lax_int_text(s),
        _ => None,
    }
}

fn lax_int_text(text: &str) -> Option<PyInt> {
    let text = text.trim();
    let (negative, unsigned) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (unsigned, None),
    };
    if fraction.is_some_and(|f| f.is_empty() || f.bytes().any(|b| b != b'0')) {
        return None;
    }
    // Underscores only between two digits, as Python's `int()` wants them.
    let groups_ok = whole.split('_').all(|group| !group.is_empty() && group.bytes().all(|b| b.is_ascii_digit()));
    if !groups_ok {
        return None;
    }
    let digits: String = whole.chars().filter(|c| *c != '_').collect();
    PyInt::from_digits(negative, &digits, 10).ok()
}

/// Python's `repr` of a float: shortest round-trip digits, always a fraction or an exponent.
///
/// Of the shortest digit strings that read back as `f`, Python takes the one nearest to `f`,
/// a tie going to the even last digit (`1125899906842624.2` for 2⁵⁰ + 0.25), where Rust's
/// shortest form rounds the tie up: the digits are taken again, as many, by Rust's exact
/// formatting (nearest, ties to even), and kept when they read back as `f`.
pub fn repr_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sign = if f.is_sign_negative() { "-" } else { "" };
    let magnitude = f.abs();
    let mut sci = format!("{magnitude:e}");
    let precision = sci.split_once('e').map_or(0, |(mantissa, _)| mantissa.len().saturating_sub(2));
    let nearest = format!("{magnitude:.precision$e}");
    if nearest.parse::<f64>() == Ok(magnitude) {
        sci = nearest;
    }
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits = mantissa.replace('.', "");
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        if point <= 0 {
            format!("{sign}0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
        } else {
            let point = point as usize;
            if digits.len() > point {
                format!("{sign}{}.{}", &digits[..point], &digits[point..])
            } else {
                format!("{sign}{digits}{}.0", "0".repeat(point - digits.len()))
            }
        }
    } else {
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mantissa}e{exp_sign}{:02}", exp.abs())
    }
}

/// The characters Python's `str.isprintable` refuses, which its `repr` escapes: the general
/// categories Other (controls, formats, private use, unassigned) and Separator, but the ASCII
/// space. `regex` carries the Unicode tables, so the demo needs no table of its own.
static NOT_PRINTABLE: std::sync::LazyLock<regex::Regex> =
    std::sync::LazyLock::new(|| regex::Regex::new(r"^[\p{C}\p{Z}&&[^ ]]$").expect("a valid pattern"));

/// Python's `repr` of a string: single quotes, or double quotes when the text has a `'` and
/// no `"`; backslash escapes (`\n`, `\xhh`, `\uhhhh`, `\Uhhhhhhhh` for what is not printable).
pub fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut utf8 = [0; 4];
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
            c if NOT_PRINTABLE.is_match(c.encode_utf8(&mut utf8)) => {
                let n = c as u32;
                let escape = match n {
                    0..0x100 => format!("\\x{n:02x}"),
                    0x100..0x10000 => format!("\\u{n:04x}"),
                    _ => format!("\\U{n:08x}"),
                };
                out.push_str(&escape);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr` of a JSON value (as `json.loads` gives it).
pub fn repr(v: &PyValue) -> String {
    match v {
        PyValue::None => "None".into(),
        PyValue::Bool(b) => (if *b { "True" } else { "False" }).into(),
        PyValue::Float(f) => repr_float(*f),
        PyValue::Int(digits) => digits.clone(),
        PyValue::Str(s) => repr_str(s),
        PyValue::List(a) => format!("[{}]", a.iter().map(repr).collect::<Vec<_>>().join(", ")),
        PyValue::Dict(o) => {
            format!(
                "{{{}}}",
                o.iter().map(|(k, v)| format!("{}: {}", repr_str(k), repr(v))).collect::<Vec<_>>().join(", ")
            )
        }
    }
}

/// Python's type name of a JSON value.
pub fn py_type(v: &PyValue) -> &'static str {
    match v {
        PyValue::None => "NoneType",
        PyValue::Bool(_) => "bool",
        PyValue::Float(_) => "float",
        PyValue::Int(_) => "int",
        PyValue::Str(_) => "str",
        PyValue::List(_) => "list",
        PyValue::Dict(_) => "dict",
    }
}

/// Scalars with defaults.
#[get("/types/scalars", authorize = "OPEN")]
fn get_scalars(
    #[default(PyInt::default())] i: PyInt,
    #[default(0.0)] f: f64,
    #[default(false)] b: bool,
    #[default(String::new())] s: String,
) -> String {
    format!("i={i}, f={}, b={}, s={s}", repr_float(f), if b { "True" } else { "False" })
}

/// Any JSON value: its Python type and rendering.
#[get("/types/json", authorize = "OPEN")]
fn get_json(j: AnyJson) -> String {
    let text = match &j.0 {
        PyValue::Str(s) => s.clone(),
        other => repr(other),
    };
    format!("{}: {text}", py_type(&j.0))
}

/// The sum of two naturals, exact and of any size, as in Python.
#[get("/types/nat", authorize = "OPEN")]
fn get_nat(i: Nat, j: Nat) -> fsa::Result<Json<Box<serde_json::value::RawValue>>> {
    let sum = PyInt(i.0.0 + j.0.0);
    Ok(Json(serde_json::value::RawValue::from_string(sum.to_string()).map_err(fsa::Error::internal)?))
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
            (0.1, "0.1"),
            (-2.5e-7, "-2.5e-07"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (9999999999999998.0, "9999999999999998.0"),
            (0.00012345, "0.00012345"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (f64::INFINITY, "inf"),
        ] {
            assert_eq!(repr_float(f), s);
        }
        assert_eq!(repr_float(f64::NAN), "nan");
        // Ties between two shortest forms go to the even digit, as in Python.
        for (text, shown) in [
            ("1125899906842624.25", "1125899906842624.2"),
            ("2000000000000000.25", "2000000000000000.2"),
            ("1338628897074590.2", "1338628897074590.2"),
        ] {
            assert_eq!(repr_float(text.parse().expect("a float")), shown);
        }
    }

    #[test]
    fn json_as_python_reads_it() {
        let shown = |text: &str| PyValue::parse(text).map(|v| format!("{}: {}", py_type(&v), repr(&v)));
        for (text, expected) in [
            (" 12 ", "int: 12"),
            ("-0", "int: 0"),
            ("-12", "int: -12"),
            ("123456789012345678901234567890", "int: 123456789012345678901234567890"),
            (&"9".repeat(4300), &format!("int: {}", "9".repeat(4300))),
            ("-0.0", "float: -0.0"),
            ("1E3", "float: 1000.0"),
            ("2.5e-7", "float: 2.5e-07"),
            ("1e400", "float: inf"),
            ("NaN", "float: nan"),
            ("[Infinity, -Infinity]", "list: [inf, -inf]"),
            ("null", "NoneType: None"),
            ("[true, false, \"it's\", \"\\u00e9\\n\"]", "list: [True, False, \"it's\", 'é\\n']"),
            ("{\"b\": 1, \"a\": {}, \"b\": [2]}", "dict: {'b': [2], 'a': {}}"),
            ("[]", "list: []"),
        ] {
            assert_eq!(shown(text).as_deref(), Ok(expected), "{text}");
        }
        for bad in
            ["", "01", "-", "1.", "1e", "[1,]", "{\"a\" 1}", "{1: 2}", "nan", "-NaN", "[1] 2", "\"a", "\"\t\"", "'a'"]
        {
            assert!(PyValue::parse(bad).is_err(), "{bad:?}");
        }
        assert!(PyValue::parse(&"[".repeat(129)).is_err());
        assert!(PyValue::parse(&format!("{}{}", "[".repeat(128), "]".repeat(128))).is_ok());
        // Python's limit on the digits of an integer.
        assert_eq!(
            PyValue::parse(&format!("[-{}]", "1".repeat(4301))),
            Err("Exceeds the limit (4300 digits) for integer string conversion: value has 4301 digits".to_owned())
        );
    }

    #[test]
    fn python_str_repr() {
        assert_eq!(repr_str("hello"), "'hello'");
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("it's \"x\""), "'it\\'s \"x\"'");
        assert_eq!(repr_str("a\\b\n"), "'a\\\\b\\n'");
    }
}
