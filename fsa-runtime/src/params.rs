//! Request parameters and their conversion into handler arguments.
//!
//! FlaskSimpleAuth's model: every handler argument is a parameter looked up by name in one
//! merged view of the request — the path, then the query string and an url-encoded or
//! multipart form body, or the top-level members of a JSON object body.
//!
//! Conversion is layered so that new types plug in without touching the route macro:
//! - [`Scalar`]: a value read from one text (`int`, `float`, `bool`, `str`, UUIDs, dates, any
//!   `FromStr` type opted in with [`scalar_from_str!`](crate::scalar_from_str)) or from a JSON
//!   value of the matching JSON type; `serde_json::Value` and `Box<RawValue>` take any JSON
//!   value, the second exactly as written (integers beyond 64 bits included);
//! - [`FromParam`]: how an argument type uses the parameter: a scalar, `Option<scalar>`,
//!   `Vec<scalar>` (repeated parameter, or JSON array of values of the scalar's JSON type);
//! - any other `serde::Deserialize` type (structs, enums, maps, tuples, nested generics,
//!   `serde_json::Value`) is built from the JSON member or from JSON text in an HTTP
//!   parameter, and validated when it also implements `garde::Validate`;
//! - [`UploadedFile`] (and `Option<UploadedFile>`): a `multipart/form-data` part with a file
//!   name, subject to `FSA_MAX_BODY_SIZE` (413);
//! - [`Cast<T>`]: a type you do not own, converted by a function registered with
//!   [`AppBuilder::cast`](crate::AppBuilder::cast) (upstream `app.cast`). The orphan rule
//!   forbids implementing [`Scalar`] for a foreign type, and a conversion that lives in the app
//!   needs the request context, so `Cast<T>` is extracted through the
//!   [`Special`](crate::special::Special) tier with the request-parameter kind: it is an
//!   accepted parameter name, may be a path segment, and its conversion function is kept in the
//!   app's typed state map under a private wrapper type;
//! - [`Special`](crate::special::Special) arguments do not come from request parameters at all.
//!
//! Conversion errors read `parameter "NAME" cast error on VALUE: DETAIL` (for a list from a
//! repeated parameter, VALUE is all its values as a JSON array and DETAIL starts with the
//! failing item, `item 1: …`; VALUE is cut to its first 200 characters and `…`), absent
//! mandatory parameters `parameter "NAME" is missing`; all errors of a request are one 400, one
//! per line (at most 100, then `and N more parameter errors`): the arguments' errors in their
//! order, then the request's unexpected names, as upstream lists them. A body of more than
//! `FSA_MAX_PARAMS` parameters (form fields, multipart parts or top-level JSON members; 10,000
//! by default) is refused with 413 before any conversion.
//! serde is the one data model (every Rust type already speaks it, and garde validates the
//! same structs); `serde_json` parses the JSON body, which is kept as its text and the spans of
//! its members: strings, integers and booleans convert straight from their member's text, and
//! a member's `serde_json::Value` is built only for the types that need one (a number written
//! `-0` is the integer 0 there, at any depth, as JSON's grammar and Python's `json.loads` have
//! it). What a
//! `Value` cannot hold passes the body's parse, as with `json.loads`: a float parameter reads
//! a number beyond `f64`'s range (`1e400`, also inside a list) as an infinity, as Python does,
//! and `NaN`, `Infinity` and `-Infinity` (which `json.loads` reads, and Python's `requests`
//! writes for such floats) as themselves; every other type refuses those as of the wrong type,
//! and a string with a lone UTF-16 surrogate with `unsupported JSON value: …`
//! ([`Found::JsonText`]), never as a `null`. An integer beyond 64 bits stays an integer, which
//! a float parameter refuses as it refuses `2` (`serde_json` alone would read a float), also
//! inside a member: a `Vec<i128>` item or an `i128`/`u128` field of a serde record reads it
//! exactly, and a `Vec<f64>` takes it as a float, as `list[float]` does. Floats
//! are read to the nearest double (`serde_json`'s `float_roundtrip`), and a UTF-8 byte order
//! mark before the body is skipped, as `json.loads` skips it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

/// An uploaded file from a `multipart/form-data` part with a file name (`filename=` or
/// RFC 5987's `filename*=`).
#[derive(Clone, Debug)]
pub struct UploadedFile {
    /// The client's file name, read as Werkzeug reads it: `%22` and `\"` in a quoted name are
    /// a quote, and `filename*=UTF-8''na%C3%AFve.txt` is `naïve.txt`.
    pub filename: String,
    /// The part's content type, if given.
    pub content_type: Option<String>,
    /// The file content.
    pub content: bytes::Bytes,
}

impl UploadedFile {
    /// The part's media type without its parameters, lowercased, and empty when the part has
    /// no content type: what Flask's `FileStorage.mimetype` gives.
    ///
    /// ```
    /// let file = |ct: Option<&str>| fsa_runtime::UploadedFile {
    ///     filename: "a.txt".into(),
    ///     content_type: ct.map(Into::into),
    ///     content: Default::default(),
    /// };
    /// assert_eq!(file(Some("Text/Plain; charset=utf-8")).mimetype(), "text/plain");
    /// assert_eq!(file(None).mimetype(), "");
    /// ```
    pub fn mimetype(&self) -> String {
        let ct = self.content_type.as_deref().unwrap_or_default();
        ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
    }
}

/// The path parameters of a request, by name.
pub(crate) type PathParams = smallvec::SmallVec<[(std::sync::Arc<str>, compact_str::CompactString); 2]>;

/// The parsed request parameters of one request.
#[derive(Debug, Default)]
pub struct Params {
    /// Path parameters (name, decoded segment): routes have few, and segments are short, so
    /// both are usually inline (`smallvec`, `compact_str`), with no allocation per request.
    pub(crate) path: PathParams,
    pub(crate) query: Pairs,
    pub(crate) form: Pairs,
    pub(crate) json: Option<JsonObject>,
    /// Whether the route takes the whole JSON body ([`JsonBody`](crate::JsonBody)): its
    /// members are then no parameters, for any lookup.
    pub(crate) json_is_body: bool,
    pub(crate) files: Vec<(String, UploadedFile)>,
}

/// Where a parameter was found, as given to [`FromParam::from_found`].
///
/// More sources may come: a `match` on it needs a last arm for the others.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum Found<'a> {
    /// A path segment.
    Path(&'a str),
    /// One or more HTTP text values (query string, then form), in request order.
    Text(TextValues<'a>),
    /// A member of the JSON object body.
    Json(&'a Value),
    /// A member of the JSON object body that a [`Value`] cannot hold, as its JSON text: a
    /// number beyond `f64`'s range (`1e400`) or a string with a lone UTF-16 surrogate
    /// (`"\ud800"`), anywhere in the member. Python's `json.loads` reads both; the library's
    /// types refuse it with a 400 that says why, unless their
    /// [`from_json_text`](FromParam::from_json_text) reads the text (`f64` reads `1e400` as
    /// an infinity, as Python's `float` does).
    JsonText(&'a str),
    /// An uploaded file.
    File(&'a UploadedFile),
}

impl<'a> Found<'a> {
    /// The value as text: the first one of HTTP text, a JSON string's content, other JSON as
    /// JSON text; a file has none.
    fn into_text(self) -> Option<Cow<'a, str>> {
        match self {
            Found::Path(s) | Found::JsonText(s) => Some(Cow::Borrowed(s)),
            Found::Text(t) => Some(Cow::Borrowed(t.first())),
            Found::Json(Value::String(s)) => Some(Cow::Borrowed(s)),
            Found::Json(v) => Some(Cow::Owned(v.to_string())),
            Found::File(_) => None,
        }
    }
}

/// Decoded `name=value` pairs of a query string or form, in request order, kept in one text
/// buffer: two allocations however many pairs (a query is parsed on every request).
#[derive(Clone, Debug, Default)]
pub(crate) struct Pairs {
    text: String,
    /// Per pair: where its name starts, where its value starts (the name's end), its end.
    spans: Vec<[usize; 3]>,
}

impl Pairs {
    /// Parses `application/x-www-form-urlencoded` text (percent-decoding, `+` as space), by
    /// the rules of `form_urlencoded` (pairs split on `&`, empty ones skipped, the name ending
    /// at the first `=`, a `%` without two hex digits kept as it is), except for escapes that
    /// do not decode to UTF-8: they stay written (`%E9`), as Werkzeug keeps them, where
    /// `form_urlencoded` would put U+FFFD.
    ///
    /// A pair without `%` or `+`, the usual case, is copied as it is: one scan of the pair and
    /// one copy, which a single path through [`form_decode`] for the name and the value would
    /// double (0.08k more instructions per request on the bench's `params` route).
    #[expect(clippy::manual_pattern_char_comparison, reason = "a `char` pattern calls `memcmp` at each match")]
    pub(crate) fn parse(input: &str) -> Pairs {
        let mut pairs = Pairs { text: String::with_capacity(input.len()), spans: Vec::new() };
        // Split by a predicate, not a `char` pattern (see the `expect` above).
        for segment in input.split(|c| c == '&').filter(|s| !s.is_empty()) {
            let (k, v) = split_pair(segment);
            if segment.bytes().any(|b| b == b'%' || b == b'+') {
                let start = pairs.text.len();
                form_decode(k, &mut pairs.text);
                let mid = pairs.text.len();
                form_decode(v, &mut pairs.text);
                pairs.spans.push([start, mid, pairs.text.len()]);
            } else {
                pairs.push(k, v);
            }
        }
        pairs
    }

    /// How many pairs [`parse`](Self::parse) finds in `input`, without decoding them: a form
    /// body's count is checked against `FSA_MAX_PARAMS` before anything is kept.
    pub(crate) fn count(input: &str) -> usize {
        input.split('&').filter(|s| !s.is_empty()).count()
    }

    /// The number of pairs.
    pub(crate) fn len(&self) -> usize {
        self.spans.len()
    }

    /// The first value of `name`.
    pub(crate) fn first(&self, name: &str) -> Option<&str> {
        self.iter().find(|(k, _)| same_name(k, name)).map(|(_, v)| v)
    }

    /// Appends one pair.
    pub(crate) fn push(&mut self, name: &str, value: &str) {
        let start = self.text.len();
        self.text.push_str(name);
        let mid = self.text.len();
        self.text.push_str(value);
        self.spans.push([start, mid, self.text.len()]);
    }

    /// The pairs, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.spans.iter().map(|&[a, b, c]| (&self.text[a..b], &self.text[b..c]))
    }
}

/// A pair's name and value, split at its first `=` (without one, the whole pair is the name).
fn split_pair(segment: &str) -> (&str, &str) {
    match segment.bytes().position(|b| b == b'=') {
        Some(i) => (&segment[..i], &segment[i + 1..]),
        None => (segment, ""),
    }
}

/// Whether two parameter names are the same, compared in line: names are short, and a call to
/// `memcmp` (what `==` on strings makes) costs more than comparing their few bytes here.
#[inline]
pub(crate) fn same_name(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// Byte-string equality for short strings, in line: a name of 4 to 16 bytes is compared as two
/// machine words that overlap (its first and last 4 or 8 bytes), a shorter one byte by byte,
/// a longer one by `==` (`memcmp`).
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    match a.len() {
        0..4 => a.iter().zip(b).all(|(x, y)| x == y),
        4..8 => a.first_chunk::<4>() == b.first_chunk::<4>() && a.last_chunk::<4>() == b.last_chunk::<4>(),
        8..=16 => a.first_chunk::<8>() == b.first_chunk::<8>() && a.last_chunk::<8>() == b.last_chunk::<8>(),
        _ => a == b,
    }
}

/// Appends a percent-decoded name or value of a form (`+` as a space) to `out`; the bytes of
/// escapes that are not UTF-8 are written back as `%XX`, as Werkzeug does.
fn form_decode(part: &str, out: &mut String) {
    if !part.bytes().any(|b| b == b'%' || b == b'+') {
        out.push_str(part);
        return;
    }
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = part.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => decoded.push(b' '),
            b'%' => match (bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (Some(h), Some(l)) => {
                    decoded.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => decoded.push(b'%'),
            },
            b => decoded.push(b),
        }
        i += 1;
    }
    for chunk in decoded.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

/// The members of a JSON object body, kept as spans of the body's text: a parameter of a
/// common type (string, integer, boolean) converts straight from its member's text, and a
/// member's [`Value`] is built only when something asks for it (other types, error messages,
/// hooks), once. Building the whole body as a `serde_json` map of `String` keys and `Value`s
/// would allocate for every key and string member, and every string parameter would be
/// copied again out of it.
#[derive(Debug, Default)]
pub(crate) struct JsonObject {
    /// The body's text.
    text: String,
    /// The members in body order, repeated keys included: lookups take the last one, as a
    /// JSON map keeps the last value of a repeated key.
    members: Vec<JsonMember>,
}

#[derive(Debug)]
struct JsonMember {
    /// The key's span in the text, or the key itself when it holds escapes.
    key: Result<std::ops::Range<usize>, Box<str>>,
    /// The value's span in the text.
    value: std::ops::Range<usize>,
    /// The value, built on first use; `None` when a `Value` cannot hold it.
    parsed: std::sync::OnceLock<Option<Value>>,
}

/// Why a body is not a JSON object.
#[derive(Debug)]
pub(crate) enum JsonBodyError {
    /// Not JSON: serde_json's message.
    Invalid(String),
    /// Valid JSON, but not an object.
    NotObject,
    /// Nested deeper than the limit.
    TooDeep,
    /// More members than the limit.
    TooMany,
}

impl JsonObject {
    /// Parses a JSON object body, refusing bodies nested deeper than `max_depth` levels and
    /// objects of more than `max_members` members (found without keeping more than that many).
    /// With `any_value` (a route taking the whole body), any valid JSON (an object, an array,
    /// a string, ...) is kept as text without members, and `max_members` does not apply.
    pub(crate) fn parse(
        body: bytes::Bytes,
        max_depth: usize,
        max_members: usize,
        any_value: bool,
    ) -> Result<Self, JsonBodyError> {
        let invalid = |e: &dyn std::fmt::Display| JsonBodyError::Invalid(e.to_string());
        // A UTF-8 byte order mark is skipped, as Python's `json.loads` skips it in bytes.
        let body = if body.starts_with(b"\xEF\xBB\xBF") { body.slice(3..) } else { body };
        // Checked once: the members are then plain slices of the text.
        let body = String::from_utf8(Vec::from(body)).map_err(|e| invalid(&e))?;
        let text = body.as_str();
        let is_object = text.trim_start().starts_with('{');
        if !is_object && !any_value {
            return Err(match serde_json::from_str::<serde::de::IgnoredAny>(text) {
                Ok(_) => JsonBodyError::NotObject,
                Err(e) => invalid(&e),
            });
        }
        // Each level of nesting takes two bytes at least: a short body needs no scan.
        // serde_json's own limit (128 levels) bounds the members' later parsing.
        let limit = max_depth.min(127);
        if text.len() > 2 * limit && json_text_depth(text) > limit {
            return Err(if max_depth < 128 {
                JsonBodyError::TooDeep
            } else {
                JsonBodyError::Invalid("recursion limit exceeded".to_owned())
            });
        }
        if any_value {
            // A whole body: no members to find, as none is a parameter (nor counted as one).
            // Checked here, so that a body which is no JSON answers the same message whatever
            // the route's value type.
            serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| invalid(&e))?;
            return Ok(JsonObject { text: body, members: Vec::new() });
        }
        let too_many = std::cell::Cell::new(false);
        // `NaN`, `Infinity` and `-Infinity`, which Python's `json.loads` reads as floats and
        // `serde_json` refuses: the members are found in a copy where each is a number of the
        // same length, so that their spans hold in the body as it was sent; the error told is
        // the body's own.
        let members = object_members(text, max_members, &too_many).or_else(|e| match mask_non_finite(text) {
            Some(masked) if !too_many.get() => object_members(&masked, max_members, &too_many).map_err(|_| e),
            _ => Err(e),
        });
        let members = match members {
            Ok(members) => members,
            Err(_) if too_many.get() => return Err(JsonBodyError::TooMany),
            Err(e) => return Err(invalid(&e)),
        };
        Ok(JsonObject { text: body, members })
    }

    fn slice(&self, range: &std::ops::Range<usize>) -> &str {
        self.text.get(range.clone()).unwrap_or("")
    }

    fn key<'a>(&'a self, member: &'a JsonMember) -> &'a str {
        match &member.key {
            Ok(range) => self.slice(range),
            Err(key) => key,
        }
    }

    /// A member's key as bytes, for comparisons: no check of UTF-8 boundaries, which the key's
    /// span, found by the body's parse, holds anyway.
    fn key_bytes<'a>(&'a self, member: &'a JsonMember) -> &'a [u8] {
        match &member.key {
            Ok(range) => self.text.as_bytes().get(range.clone()).unwrap_or_default(),
            Err(key) => key.as_bytes(),
        }
    }

    /// The last member named `name` (a repeated key keeps its last value).
    fn member(&self, name: &str) -> Option<&JsonMember> {
        self.members.iter().rfind(|m| same_bytes(self.key_bytes(m), name.as_bytes()))
    }

    /// The member's JSON text.
    pub(crate) fn text_of(&self, name: &str) -> Option<&str> {
        self.member(name).map(|m| self.slice(&m.value))
    }

    /// The member's value, built on first use, or its JSON text (`Err`) when a `Value`
    /// cannot hold it: a number beyond `f64`'s range, a non-finite literal (`NaN`) or a string
    /// with a lone UTF-16 surrogate, anywhere in the member, which the body's parse lets
    /// through as Python's `json.loads` does; and an integer beyond 64 bits, at any depth, which
    /// `serde_json` would make a float where Python keeps an int. See [`json_value`] for `-0`.
    pub(crate) fn get(&self, name: &str) -> Option<Result<&Value, &str>> {
        self.member(name).map(|member| self.value(member))
    }

    /// A member's value, as [`get`](Self::get) gives it.
    fn value<'a>(&'a self, member: &'a JsonMember) -> Result<&'a Value, &'a str> {
        let text = self.slice(&member.value);
        let parsed = member.parsed.get_or_init(|| json_value(text).filter(|v| !loses_integers(v, text)));
        parsed.as_ref().ok_or(text)
    }

    /// The keys, in body order; a repeated key comes again.
    pub(crate) fn keys(&self) -> impl Iterator<Item = &str> {
        self.members.iter().map(|m| self.key(m))
    }
}

/// The `Value` of a JSON text, `None` when a `Value` cannot hold it. A number written `-0`,
/// at any depth, is the integer 0, as JSON's grammar and Python's `json.loads` have it:
/// `serde_json` reads it as the float `-0.0`, which an integer parameter or item would refuse.
pub(crate) fn json_value(text: &str) -> Option<Value> {
    serde_json::from_str(&negative_zeros_as_zeros(text)).ok()
}

/// JSON text where each `-0` number (outside strings, not `-0.0` or `-0e1`) has lost its
/// sign: the `-` becomes a space, which JSON allows there, so that spans keep their places.
fn negative_zeros_as_zeros(text: &str) -> Cow<'_, str> {
    if !text.contains("-0") {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut fixed: Option<Vec<u8>> = None;
    for (i, b) in outside_strings(text) {
        // A `-` after `e` or `E` is an exponent's sign (`1e-0` is 1.0), not a number's.
        if b == b'-'
            && bytes.get(i + 1) == Some(&b'0')
            && !matches!(bytes.get(i + 2), Some(b'.' | b'e' | b'E' | b'0'..=b'9'))
            && !matches!(i.checked_sub(1).map(|j| bytes[j]), Some(b'e' | b'E'))
        {
            fixed.get_or_insert_with(|| bytes.to_vec())[i] = b' ';
        }
    }
    // An ASCII byte replaced by another: still UTF-8.
    match fixed.map(String::from_utf8) {
        Some(Ok(fixed)) => Cow::Owned(fixed),
        _ => Cow::Borrowed(text),
    }
}

/// Whether `serde_json` made a float, in this value of a JSON text, of an integer beyond 64
/// bits (below `i64::MIN` or above `u64::MAX`), at any depth, where Python keeps an int.
/// Cheap for the usual values: the text is read only when the value holds a float.
fn loses_integers(value: &Value, text: &str) -> bool {
    match value {
        // JSON text from the query may have spaces around it.
        Value::Number(n) => n.is_f64() && is_json_integer(text.trim_matches(JSON_SPACE)),
        Value::Array(_) | Value::Object(_) => holds_float(value) && holds_wide_integer(text),
        _ => false,
    }
}

/// Whether a JSON value holds a float number, at any depth.
fn holds_float(value: &Value) -> bool {
    match value {
        Value::Number(n) => n.is_f64(),
        Value::Array(items) => items.iter().any(holds_float),
        Value::Object(members) => members.values().any(holds_float),
        _ => false,
    }
}

/// Whether JSON text holds, outside strings, an integer number beyond 64 bits.
fn holds_wide_integer(text: &str) -> bool {
    let is_wide = |number: &str| {
        number.len() > 18 && is_json_integer(number) && number.parse::<i64>().is_err() && number.parse::<u64>().is_err()
    };
    // The number being read, as the span of its characters.
    let mut number: Option<std::ops::Range<usize>> = None;
    for (i, b) in outside_strings(text) {
        let numeric = matches!(b, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E');
        match &mut number {
            Some(span) if numeric && span.end == i => span.end = i + 1,
            _ => {
                if number.take().is_some_and(|span| is_wide(&text[span])) {
                    return true;
                }
                if numeric {
                    number = Some(i..i + 1);
                }
            }
        }
    }
    number.is_some_and(|span| is_wide(&text[span]))
}

/// The members of a JSON object text, as spans of it; an error, with `too_many` set, as soon
/// as there are more than `max`.
fn object_members(
    text: &str,
    max: usize,
    too_many: &std::cell::Cell<bool>,
) -> Result<Vec<JsonMember>, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let seed = MembersOf { base: text.as_ptr() as usize, max, too_many };
    let members = serde::de::DeserializeSeed::deserialize(seed, &mut deserializer)?;
    deserializer.end()?;
    Ok(members)
}

/// The non-finite literals of Python's `json.loads` (`NaN`, `Infinity`, `-Infinity`) and the
/// float each stands for.
const NON_FINITE: [(&str, f64); 3] = [("NaN", f64::NAN), ("Infinity", f64::INFINITY), ("-Infinity", f64::NEG_INFINITY)];

/// A copy of JSON text where each non-finite literal standing as a value (outside strings,
/// after `[`, `,`, `:` or a space, and before `]`, `}`, `,`, a space or the end) is a number of
/// the same length, or `None` when the text holds no such literal. `-NaN` and `NaN1` are not
/// literals, as for Python.
fn mask_non_finite(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut masked: Option<Vec<u8>> = None;
    let mut skip_to = 0;
    for (i, b) in outside_strings(text) {
        if i < skip_to || !matches!(b, b'N' | b'I' | b'-') {
            continue;
        }
        let before_ok = i == 0 || matches!(bytes[i - 1], b'[' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r');
        let Some((literal, _)) = NON_FINITE.iter().find(|(lit, _)| bytes[i..].starts_with(lit.as_bytes())) else {
            continue;
        };
        let end = i + literal.len();
        let after_ok = matches!(bytes.get(end), None | Some(b']' | b'}' | b',' | b' ' | b'\t' | b'\n' | b'\r'));
        if before_ok && after_ok {
            let out = masked.get_or_insert_with(|| bytes.to_vec());
            // `0.0`, `0.000000`, `-0.000000`: valid JSON numbers of the literal's length.
            let number = if literal.starts_with('-') { "-0." } else { "0." };
            out[i..i + number.len()].copy_from_slice(number.as_bytes());
            out[i + number.len()..end].fill(b'0');
            skip_to = end;
        }
    }
    masked.and_then(|m| String::from_utf8(m).ok())
}

/// The characters JSON allows around a value.
const JSON_SPACE: [char; 4] = [' ', '\t', '\n', '\r'];

/// Whether a JSON number is written as an integer (no fraction, no exponent).
fn is_json_integer(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The float a non-finite literal of Python's `json.loads` stands for.
fn non_finite(text: &str) -> Option<f64> {
    NON_FINITE.iter().find(|(lit, _)| *lit == text).map(|(_, f)| *f)
}

/// The items of a JSON array text, as slices of it (non-finite literals included).
fn json_array_items(text: &str) -> Option<Vec<&str>> {
    let masked = mask_non_finite(text);
    let source = masked.as_deref().unwrap_or(text);
    let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(source).ok()?;
    items
        .iter()
        .map(|item| {
            let start = (item.get().as_ptr() as usize).checked_sub(source.as_ptr() as usize)?;
            text.get(start..start + item.get().len())
        })
        .collect()
}

/// Reads the members of a JSON object as spans of the text starting at `base` (the address of
/// the text the deserializer reads): values and unescaped keys are borrowed from it.
struct MembersOf<'a> {
    base: usize,
    /// The most members to keep: one more sets `too_many` and ends the parse with an error.
    max: usize,
    too_many: &'a std::cell::Cell<bool>,
}

impl MembersOf<'_> {
    fn span(&self, s: &str) -> std::ops::Range<usize> {
        let start = (s.as_ptr() as usize).saturating_sub(self.base);
        start..start + s.len()
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for MembersOf<'_> {
    type Value = Vec<JsonMember>;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for MembersOf<'_> {
    type Value = Vec<JsonMember>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(4));
        while let Some(RawKey(key)) = map.next_key()? {
            if members.len() == self.max {
                self.too_many.set(true);
                return Err(serde::de::Error::custom("too many members"));
            }
            let value: &'de serde_json::value::RawValue = map.next_value()?;
            let key = match key {
                Cow::Borrowed(k) => Ok(self.span(k)),
                Cow::Owned(k) => Err(k.into_boxed_str()),
            };
            members.push(JsonMember { key, value: self.span(value.get()), parsed: std::sync::OnceLock::new() });
        }
        Ok(members)
    }
}

/// A JSON key, borrowed from the body unless it holds escapes.
struct RawKey<'a>(Cow<'a, str>);

impl<'de> serde::Deserialize<'de> for RawKey<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Key;
        impl<'de> serde::de::Visitor<'de> for Key {
            type Value = RawKey<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(RawKey(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(RawKey(Cow::Owned(v.to_owned())))
            }
        }
        deserializer.deserialize_str(Key)
    }
}

/// The bytes of valid JSON text outside its strings (their quotes left out), with their
/// positions.
fn outside_strings(text: &str) -> impl Iterator<Item = (usize, u8)> + '_ {
    let (mut in_string, mut escaped) = (false, false);
    text.bytes().enumerate().filter(move |&(_, b)| {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            false
        } else {
            in_string = b == b'"';
            !in_string
        }
    })
}

/// The nesting depth of valid JSON text: the deepest level of brackets outside strings.
fn json_text_depth(text: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for (_, b) in outside_strings(text) {
        match b {
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The text values of one HTTP parameter (repeated parameters give several).
#[derive(Clone, Copy, Debug)]
pub struct TextValues<'a> {
    name: &'a str,
    query: &'a Pairs,
    form: &'a Pairs,
    /// The first value, found when the parameter was looked up.
    first: &'a str,
}

impl<'a> TextValues<'a> {
    /// All values, query string first, then form fields.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let name = self.name;
        self.query.iter().chain(self.form.iter()).filter(move |(k, _)| same_name(k, name)).map(|(_, v)| v)
    }

    /// The first value (upstream uses the first of repeated scalar parameters).
    pub fn first(&self) -> &'a str {
        self.first
    }

    /// Whether the parameter came more than once.
    pub fn is_repeated(&self) -> bool {
        self.iter().nth(1).is_some()
    }
}

impl Params {
    /// Looks a parameter up: path first, then the JSON body or the query and form, then files.
    pub fn get<'a>(&'a self, name: &'a str) -> Option<Found<'a>> {
        if let Some((_, v)) = self.path.iter().find(|(k, _)| same_name(k, name)) {
            return Some(Found::Path(v));
        }
        if let Some(member) = self.json_params().and_then(|j| j.get(name)) {
            return Some(member.map_or_else(Found::JsonText, Found::Json));
        }
        if let Some(first) = self.query.first(name).or_else(|| self.form.first(name)) {
            return Some(Found::Text(TextValues { name, query: &self.query, form: &self.form, first }));
        }
        self.files.iter().find(|(k, _)| k == name).map(|(_, f)| Found::File(f))
    }

    /// The JSON text of a parameter that is a member of the JSON body (and not a path
    /// segment, which comes first): what [`FromParam::from_json_text`] converts.
    pub(crate) fn json_text(&self, name: &str) -> Option<&str> {
        let json = self.json_params()?;
        if self.path.iter().any(|(k, _)| same_name(k, name)) {
            return None;
        }
        json.text_of(name)
    }

    /// The first text value of a parameter from the query, form or JSON string member.
    pub fn text<'a>(&'a self, name: &'a str) -> Option<Cow<'a, str>> {
        self.get(name)?.into_text()
    }

    /// Each request parameter's name once, with the text [`text`](Self::text) gives it, in
    /// one pass over the request, which may carry thousands of names (a name looked up again
    /// for each would take their square): the JSON members (a repeated key's last value, as
    /// `json.loads` keeps it), then the query string and the form (a name's first value). Files
    /// have no text, and path segments are no request parameters.
    pub(crate) fn request_texts(&self) -> BTreeMap<&str, Cow<'_, str>> {
        let mut texts = BTreeMap::new();
        if let Some(json) = self.json_params() {
            for member in &json.members {
                if let Some(text) = json.value(member).map_or_else(Found::JsonText, Found::Json).into_text() {
                    texts.insert(json.key(member), text);
                }
            }
        }
        for (name, value) in self.query.iter().chain(self.form.iter()) {
            texts.entry(name).or_insert(Cow::Borrowed(value));
        }
        texts
    }

    /// Like [`text`](Self::text) but ignoring path segments: authentication parameters come
    /// from the request only, even when a path segment has the same name. A JSON member that
    /// Python finds false (`null`, `false`, `0`, `0.0`, `[]`, `{}`) is no value, as for
    /// FlaskSimpleAuth's `if not login`; other members are their JSON text.
    pub fn request_text<'a>(&'a self, name: &'a str) -> Option<Cow<'a, str>> {
        if let Some(member) = self.json_params().and_then(|j| j.get(name)) {
            return match member {
                Ok(Value::String(s)) => Some(Cow::Borrowed(s.as_str())),
                Ok(Value::Null | Value::Bool(false)) => None,
                Ok(Value::Number(n)) if n.as_f64() == Some(0.0) => None,
                Ok(Value::Array(a)) if a.is_empty() => None,
                Ok(Value::Object(o)) if o.is_empty() => None,
                Ok(v) => Some(Cow::Owned(v.to_string())),
                Err(text) => Some(Cow::Borrowed(text)),
            };
        }
        self.query.first(name).or_else(|| self.form.first(name)).map(Cow::Borrowed)
    }

    /// Names of all request (non-path) parameters: JSON members first, then the query string,
    /// the form and the files; a repeated name comes again.
    pub(crate) fn all_request_names(&self) -> impl Iterator<Item = &str> {
        let json = self.json_params().into_iter().flat_map(|j| j.keys());
        let text = self.query.iter().chain(self.form.iter()).map(|(k, _)| k);
        json.chain(text.chain(self.files.iter().map(|(k, _)| k.as_str())))
    }

    /// Whether the request's parameters include a JSON object body's members: they are then
    /// all `json` ones in messages, those of the query string included, as upstream names a
    /// request's parameters by its body's type.
    pub(crate) fn is_json(&self) -> bool {
        self.json_params().is_some()
    }

    /// The JSON object body, unless the route takes it whole.
    fn json_params(&self) -> Option<&JsonObject> {
        if self.json_is_body { None } else { self.json.as_ref() }
    }

    /// The JSON body's text, if the request has one (an object, or any JSON on a route
    /// taking the body whole).
    pub(crate) fn json_body_text(&self) -> Option<&str> {
        self.json.as_ref().map(|j| j.text.as_str())
    }

    /// Whether [`Params::all_request_names`] yields anything (a query, form, JSON member or
    /// file), answered without building its iterator chain, which costs a request without
    /// parameters more than the check it spares. Keep the two on the same sources.
    pub(crate) fn has_request_names(&self) -> bool {
        !self.query.spans.is_empty()
            || !self.form.spans.is_empty()
            || self.json_params().is_some_and(|j| !j.members.is_empty())
            || !self.files.is_empty()
    }
}

/// The conversion message for a value that does not fit the expected type.
fn cast_error(expected: &str) -> String {
    format!("expecting {expected}")
}

/// A value converted from one HTTP text or one JSON value.
///
/// Implement it (or use [`scalar_from_str!`](crate::scalar_from_str)) for your own types;
/// they then work as arguments, `Option<T>` and `Vec<T>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a scalar fsa parameter type",
    note = "implement `fsa::Scalar`, or use `fsa::scalar_from_str!({Self})` for a `FromStr` type"
)]
pub trait Scalar: Sized + Send {
    /// The type's name in error messages (`int`, `float`, …).
    fn type_name() -> Cow<'static, str>;
    /// Converts HTTP text (query, form, path).
    fn from_text(text: &str) -> Result<Self, String>;
    /// Converts a JSON value; by default only a JSON string, through [`Scalar::from_text`].
    fn from_json(value: &Value) -> Result<Self, String> {
        match value {
            Value::String(s) => Self::from_text(s),
            _ => Err(cast_error(&Self::type_name())),
        }
    }
    /// Converts an item of a JSON array (a `Vec<T>` parameter); by default as a member, through
    /// [`Scalar::from_json`]. Floats take any number here, `2` included, as FlaskSimpleAuth's
    /// `list[float]` does, where a float member must be written as a float.
    fn from_json_item(value: &Value) -> Result<Self, String> {
        Self::from_json(value)
    }
    /// Whether a path segment can hold this type; a segment that cannot means the route does
    /// not match (404), as with Flask's path converters.
    fn path_segment_ok(_segment: &str) -> bool {
        true
    }
    /// Converts a path segment that [`Scalar::path_segment_ok`] accepted; by default as HTTP
    /// text, through [`Scalar::from_text`]. Integers differ: a segment is plain decimal digits,
    /// leading zeros included (`/stuff/007` is 7), as with Flask's `int` path converter,
    /// where the query string follows Python's `int(text, 0)`, which refuses `007`.
    fn from_path(segment: &str) -> Result<Self, String> {
        Self::from_text(segment)
    }
    /// Whether a path segment that [`Scalar::path_segment_ok`] took holds a value beyond the
    /// type: an integer too large for it. FlaskSimpleAuth's integers have no bound, so that its
    /// route runs and finds no object of that id (a 404, or the 401 of a missing login first);
    /// here such a parameter answers 404 where other refused values answer 400.
    #[doc(hidden)]
    fn path_beyond_type(_segment: &str) -> bool {
        false
    }
    /// Converts a JSON body member straight from its JSON text, when the type reads the text
    /// itself: a shortcut for the common types, which spares building a `Value`, or a reading
    /// that the parsed value would lose (integers beyond 64 bits, which `serde_json` makes
    /// floats). `None` lets [`Scalar::from_json`] decide on the parsed value (the default).
    fn from_json_text(_text: &str) -> Option<Self> {
        None
    }
}

/// The content of a JSON string literal without escapes (`"abc"` → `abc`).
fn plain_json_string(text: &str) -> Option<&str> {
    let inner = text.strip_prefix('"')?.strip_suffix('"')?;
    (!inner.contains('\\')).then_some(inner)
}

/// The digit zero of each run of ten decimal digits beyond ASCII (Unicode category `Nd`,
/// whose digits Unicode always encodes as runs of ten in ascending order), as Python 3.11's
/// `unicodedata` lists them (Unicode 14.0): the digits that Python's `\d` matches and that
/// `int()` and `float()` read, such as `٣` (3) or the full-width `１`.
const DECIMAL_ZEROS: [u32; 65] = [
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6, 0xE50, 0xED0, 0xF20,
    0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0,
    0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10, 0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0,
    0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E950, 0x1FBF0,
];

/// The value of a decimal digit of any script (Unicode category `Nd`).
fn decimal_digit(c: char) -> Option<u32> {
    if c.is_ascii_digit() {
        return Some(u32::from(c) - u32::from('0'));
    }
    let code = u32::from(c);
    // The last zero at or before `c`: `c` is its digit when within ten of it.
    let i = DECIMAL_ZEROS.partition_point(|&zero| zero <= code).checked_sub(1)?;
    let value = code - DECIMAL_ZEROS[i];
    (value < 10).then_some(value)
}

/// Whether `text` holds decimal digits only, of any script, and at least one.
fn all_decimal_digits(text: &str) -> bool {
    !text.is_empty() && text.chars().all(|c| decimal_digit(c).is_some())
}

/// Whether a path segment that is not all ASCII digits is all decimal digits of other scripts
/// too: out of line, so that the usual segments pay nothing for it.
#[cold]
#[inline(never)]
fn other_decimal_digits(segment: &str) -> bool {
    !segment.is_ascii() && all_decimal_digits(segment)
}

/// Whether the two sides of a float path segment that are not both ASCII digits are decimal
/// digits of any script: out of line, as [`other_decimal_digits`].
#[cold]
#[inline(never)]
fn other_decimal_float(int: &str, fraction: &str) -> bool {
    !(int.is_ascii() && fraction.is_ascii()) && all_decimal_digits(int) && all_decimal_digits(fraction)
}

/// The value of a path segment of decimal digits (of any script, leading zeros included) when
/// the integer type holds it: `u128` parsing takes leading zeros and fails only past its
/// range. In line, as the conversion of every integer path segment.
#[inline]
fn path_digits_value<T: TryFrom<u128>>(segment: &str) -> Option<T> {
    segment
        .parse::<u128>()
        .ok()
        .or_else(|| with_ascii_decimals(segment, |s| s.parse().ok()))
        .and_then(|v| T::try_from(v).ok())
}

/// `parse` of `text` with its decimal digits of other scripts written in ASCII, for a text
/// that `parse` refused as it is: `None` when it is ASCII. Out of line, so that the usual
/// texts pay nothing for it; ASCII parsing refuses any text with such a digit, so trying it
/// first changes no result.
#[cold]
#[inline(never)]
fn with_ascii_decimals<T>(text: &str, parse: fn(&str) -> Option<T>) -> Option<T> {
    if text.is_ascii() { None } else { parse(&ascii_decimals(text)) }
}

/// `text` with every decimal digit of another script written as its ASCII digit, as Python's
/// `int()` and `float()` read them: the digits that an `int` path segment may hold.
///
/// ```
/// assert_eq!(fsa_runtime::params::ascii_decimals("٣٤.５"), "34.5");
/// ```
pub fn ascii_decimals(text: &str) -> String {
    let digit = |c: char| decimal_digit(c).and_then(|d| char::from_digit(d, 10));
    text.chars().map(|c| digit(c).unwrap_or(c)).collect()
}

/// Parses Python's `int(text, 0)` syntax: optional sign and spaces, `0x`/`0o`/`0b`
/// prefixes, `_` between digits, no leading zeros on decimal numbers, and decimal digits of
/// any script (`٣`), as Python reads them.
pub fn parse_int(text: &str) -> Option<i128> {
    // The usual case first, without allocating: decimal digits after an optional sign, no
    // leading zero, at most 38 digits (always within `i128`).
    let b = text.as_bytes();
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
        _ => (false, b),
    };
    if (1..=38).contains(&digits.len())
        && (digits[0] != b'0' || digits.len() == 1)
        && digits.iter().all(u8::is_ascii_digit)
    {
        let v = digits.iter().fold(0i128, |acc, d| acc * 10 + i128::from(d - b'0'));
        return Some(if neg { -v } else { v });
    }
    parse_int_text(text).or_else(|| with_ascii_decimals(text, parse_int_text))
}

/// [`parse_int`] past its usual case, on ASCII digits.
fn parse_int_text(text: &str) -> Option<i128> {
    let literal = ascii_int_literal(text)?;
    // The magnitude unsigned, so that `i128::MIN` reads too.
    let v = u128::from_str_radix(&literal.digits, literal.radix).ok()?;
    if literal.negative { 0i128.checked_sub_unsigned(v) } else { i128::try_from(v).ok() }
}

/// An integer written as Python's `int(text, 0)` reads it, of any length: what a type of
/// integers beyond 128 bits needs to read it, as Python's ints have no bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntLiteral {
    /// Whether a `-` came first.
    pub negative: bool,
    /// 10, or 16, 8 or 2 after a `0x`, `0o` or `0b` prefix.
    pub radix: u32,
    /// The digits in that radix, ASCII, without the `_` between them nor the prefix.
    pub digits: String,
}

/// Reads an integer as Python's `int(text, 0)` does ([`parse_int`]'s syntax), of any length.
///
/// ```
/// use fsa_runtime::params::{IntLiteral, int_literal};
/// let literal = int_literal(" -0x_ffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_f ").unwrap();
/// assert_eq!((literal.negative, literal.radix, literal.digits.len()), (true, 16, 33));
/// assert_eq!(int_literal("٤٢"), Some(IntLiteral { negative: false, radix: 10, digits: "42".into() }));
/// assert_eq!(int_literal("017"), None);
/// ```
pub fn int_literal(text: &str) -> Option<IntLiteral> {
    ascii_int_literal(text).or_else(|| with_ascii_decimals(text, ascii_int_literal))
}

/// [`int_literal`] on ASCII digits.
fn ascii_int_literal(text: &str) -> Option<IntLiteral> {
    let t = text.trim();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let prefix = |p: &str| t.get(..2).is_some_and(|h| h.eq_ignore_ascii_case(p));
    let (radix, digits) = if prefix("0x") {
        (16, &t[2..])
    } else if prefix("0o") {
        (8, &t[2..])
    } else if prefix("0b") {
        (2, &t[2..])
    } else {
        (10, t)
    };
    // `_` only between digits (a leading one is allowed right after a base prefix).
    let body = if radix != 10 { digits.strip_prefix('_').unwrap_or(digits) } else { digits };
    if body.is_empty() || body.starts_with('_') || body.ends_with('_') || body.contains("__") {
        return None;
    }
    let digits: String = body.chars().filter(|c| *c != '_').collect();
    if radix == 10 && digits.len() > 1 && digits.starts_with('0') && digits.bytes().any(|b| b != b'0') {
        return None;
    }
    digits.chars().all(|c| c.is_digit(radix)).then_some(IntLiteral { negative, radix, digits })
}

/// Why `text` is not an integer of the type named `type_name` after [`parse_int`] refused it: a
/// literal that Python reads, of more digits than `i128` holds, is out of range; anything else
/// is not an integer.
fn int_error(text: &str, type_name: &str) -> String {
    if int_literal(text).is_some() {
        format!("out of range for {type_name}")
    } else {
        "invalid literal for int".to_owned()
    }
}

/// Parses Python's `float(text)` syntax (`1e3`, `inf`, `nan`, `1_000.5`, spaces, decimal
/// digits of any script).
pub fn parse_float(text: &str) -> Option<f64> {
    parse_float_text(text).or_else(|| with_ascii_decimals(text, parse_float_text))
}

/// [`parse_float`] on ASCII digits.
fn parse_float_text(text: &str) -> Option<f64> {
    let t = text.trim();
    let clean: Cow<'_, str> = if t.contains('_') {
        let b = t.as_bytes();
        for (i, c) in b.iter().enumerate() {
            if *c == b'_' && !(i > 0 && i + 1 < b.len() && b[i - 1].is_ascii_digit() && b[i + 1].is_ascii_digit()) {
                return None;
            }
        }
        Cow::Owned(t.replace('_', ""))
    } else {
        Cow::Borrowed(t)
    };
    let lower = clean.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    if matches!(unsigned, "inf" | "infinity" | "nan") {
        return clean.parse().ok().or_else(|| lower.replace("infinity", "inf").parse().ok());
    }
    if unsigned.is_empty() || !unsigned.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-')) {
        return None;
    }
    clean.parse().ok()
}

macro_rules! int_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn type_name() -> Cow<'static, str> {
                Cow::Borrowed("int")
            }
            fn from_text(text: &str) -> Result<Self, String> {
                let v = parse_int(text).ok_or_else(|| int_error(text, stringify!($t)))?;
                <$t>::try_from(v).map_err(|_| format!("out of range for {}", stringify!($t)))
            }
            fn from_json(value: &Value) -> Result<Self, String> {
                let v = match value {
                    Value::Number(n) if n.is_i64() => n.as_i64().map(i128::from),
                    Value::Number(n) if n.is_u64() => n.as_u64().map(i128::from),
                    _ => None,
                };
                let v = v.ok_or_else(|| cast_error("int"))?;
                <$t>::try_from(v).map_err(|_| format!("out of range for {}", stringify!($t)))
            }
            /// Decimal digits, of any script as Werkzeug's `\d+` has them.
            fn path_segment_ok(segment: &str) -> bool {
                !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) || other_decimal_digits(segment)
            }
            fn from_path(segment: &str) -> Result<Self, String> {
                if !<$t as Scalar>::path_segment_ok(segment) {
                    return <$t as Scalar>::from_text(segment);
                }
                path_digits_value(segment).ok_or_else(|| format!("out of range for {}", stringify!($t)))
            }
            fn path_beyond_type(segment: &str) -> bool {
                <$t as Scalar>::path_segment_ok(segment) && path_digits_value::<$t>(segment).is_none()
            }
            // Inlined into each argument's extraction, where it is the usual way in.
            #[inline]
            fn from_json_text(text: &str) -> Option<Self> {
                // A JSON integer of up to 39 digits (`i128::MIN` and `u128::MAX` have 39),
                // read exactly: the member's value agrees up to 64 bits (`-0` included, which
                // it reads as 0 too), and beyond them makes a float of it, which only `i128`
                // and `u128` parameters could have held.
                let digits = text.strip_prefix('-').unwrap_or(text);
                if digits.is_empty() || digits.len() > 39 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                if digits.len() <= 18 {
                    // The usual case, in the narrower (cheaper) parse.
                    return text.parse::<i64>().ok().and_then(|v| <$t>::try_from(v).ok());
                }
                match text.parse::<i128>() {
                    Ok(v) => <$t>::try_from(v).ok(),
                    // Beyond `i128::MAX`: only a `u128` may hold it.
                    Err(_) => text.parse::<u128>().ok().and_then(|v| <$t>::try_from(v).ok()),
                }
            }
        }
    )*};
}
int_scalar!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize);

macro_rules! nonzero_scalar {
    ($($t:ty => $inner:ty),*) => {$(
        impl Scalar for $t {
            fn type_name() -> Cow<'static, str> {
                Cow::Borrowed("non-zero int")
            }
            fn from_text(text: &str) -> Result<Self, String> {
                <$t>::new(<$inner as Scalar>::from_text(text)?).ok_or_else(|| "must not be zero".to_owned())
            }
            fn from_json(value: &Value) -> Result<Self, String> {
                <$t>::new(<$inner as Scalar>::from_json(value)?).ok_or_else(|| "must not be zero".to_owned())
            }
            fn path_segment_ok(segment: &str) -> bool {
                <$inner as Scalar>::path_segment_ok(segment)
            }
            fn from_path(segment: &str) -> Result<Self, String> {
                <$t>::new(<$inner as Scalar>::from_path(segment)?).ok_or_else(|| "must not be zero".to_owned())
            }
            fn path_beyond_type(segment: &str) -> bool {
                <$inner as Scalar>::path_beyond_type(segment)
            }
        }
    )*};
}
nonzero_scalar!(
    std::num::NonZeroU8 => u8, std::num::NonZeroU16 => u16, std::num::NonZeroU32 => u32,
    std::num::NonZeroU64 => u64, std::num::NonZeroUsize => usize, std::num::NonZeroI32 => i32,
    std::num::NonZeroI64 => i64
);

macro_rules! float_scalar {
    ($($t:ty),*) => {$(
        impl Scalar for $t {
            fn type_name() -> Cow<'static, str> {
                Cow::Borrowed("float")
            }
            fn from_text(text: &str) -> Result<Self, String> {
                parse_float(text).map(|f| f as $t).ok_or_else(|| "could not convert string to float".to_owned())
            }
            fn from_json(value: &Value) -> Result<Self, String> {
                match value {
                    // A number written as a float (`2.0`, `2e0`): JSON values are not converted,
                    // and Python's `json.loads` makes `2` an int, which FlaskSimpleAuth refuses.
                    Value::Number(n) if n.is_f64() => Self::from_json_item(value),
                    _ => Err(cast_error("float")),
                }
            }
            fn from_json_item(value: &Value) -> Result<Self, String> {
                match value {
                    Value::Number(n) => n.as_f64().map(|f| f as $t).ok_or_else(|| cast_error("float")),
                    _ => Err(cast_error("float")),
                }
            }
            /// Only what a `Value` cannot hold: a float beyond `f64`'s range, an infinity as
            /// Python's `json.loads` reads it (`1e400`), and `NaN`, `Infinity` and
            /// `-Infinity`, which it reads too. An integer that long is a Python int, refused
            /// as `2` is.
            fn from_json_text(text: &str) -> Option<Self> {
                if text.contains(['.', 'e', 'E']) {
                    json_number_overflow(text).map(|f| f as $t)
                } else {
                    non_finite(text).map(|f| f as $t)
                }
            }
            /// `\d+\.\d+` as Werkzeug has it: decimal digits of any script.
            fn path_segment_ok(segment: &str) -> bool {
                segment.split_once('.').is_some_and(|(a, b)| {
                    !a.is_empty()
                        && !b.is_empty()
                        && a.bytes().all(|c| c.is_ascii_digit())
                        && b.bytes().all(|c| c.is_ascii_digit())
                        || other_decimal_float(a, b)
                })
            }
        }
    )*};
}
float_scalar!(f32, f64);

/// The infinity of a JSON number literal beyond `f64`'s range (`1e400`, `-1e400`), which
/// `serde_json` refuses; `None` for any other text. Cheap for the usual numbers: only one
/// with an exponent or of 310 characters or more can overflow.
fn json_number_overflow(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    if bytes.len() < 310 && !bytes.iter().any(|b| matches!(b, b'e' | b'E')) {
        return None;
    }
    // JSON's grammar, stricter than Rust's float syntax: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?
    let digits = |i: usize| bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
    let mut i = usize::from(bytes.first() == Some(&b'-'));
    let int = digits(i);
    if int == 0 || (int > 1 && bytes[i] == b'0') {
        return None;
    }
    i += int;
    if bytes.get(i) == Some(&b'.') {
        let frac = digits(i + 1);
        if frac == 0 {
            return None;
        }
        i += 1 + frac;
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exp = digits(i);
        if exp == 0 {
            return None;
        }
        i += exp;
    }
    if i != bytes.len() {
        return None;
    }
    text.parse::<f64>().ok().filter(|f| f.is_infinite())
}

impl Scalar for bool {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("bool")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        if text.eq_ignore_ascii_case("true") {
            Ok(true)
        } else if text.eq_ignore_ascii_case("false") {
            Ok(false)
        } else {
            Err("expecting true or false".to_owned())
        }
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        value.as_bool().ok_or_else(|| cast_error("bool"))
    }
    fn from_json_text(text: &str) -> Option<Self> {
        match text {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

impl Scalar for String {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("str")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        Ok(text.to_owned())
    }
    fn path_segment_ok(segment: &str) -> bool {
        !segment.contains('/')
    }
    // Inlined into each argument's extraction, where it is the usual way in.
    #[inline]
    fn from_json_text(text: &str) -> Option<Self> {
        plain_json_string(text).map(str::to_owned)
    }
}

impl Scalar for char {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("char")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        let mut it = text.chars();
        match (it.next(), it.next()) {
            (Some(c), None) => Ok(c),
            _ => Err("expecting one character".to_owned()),
        }
    }
}

impl Scalar for uuid::Uuid {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("uuid")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        uuid::Uuid::parse_str(text).map_err(|e| e.to_string())
    }
    fn path_segment_ok(segment: &str) -> bool {
        segment.len() == 36 && uuid::Uuid::try_parse(segment).is_ok()
    }
}

impl Scalar for IpAddr {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("ip address")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        text.trim().parse().map_err(|e: std::net::AddrParseError| e.to_string())
    }
}

/// Checks that an ISO date text starts with a year of exactly four digits, 0001 to 9999, as
/// Python's `date.fromisoformat` wants: the `time` crate's `[year]` also takes a sign (`+2024`,
/// `-0001`) and year 0, which upstream refuses.
fn iso_year(text: &str) -> Result<(), String> {
    match text.as_bytes() {
        [y0, y1, y2, y3, b'-', ..] if [y0, y1, y2, y3].iter().all(|d| d.is_ascii_digit()) && text[..4] != *"0000" => {
            Ok(())
        }
        _ => Err("the year must have four digits, from 0001 to 9999".to_owned()),
    }
}

impl Scalar for time::Date {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("date")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        iso_year(text)?;
        let fmt = time::macros::format_description!("[year]-[month]-[day]");
        time::Date::parse(text, fmt).map_err(|e| e.to_string())
    }
}

impl Scalar for time::PrimitiveDateTime {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("datetime")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        iso_year(text)?;
        let t = text.replace(' ', "T");
        let fmt = time::macros::format_description!(
            version = 2,
            "[year]-[month]-[day]T[hour]:[minute][optional [:[second][optional [.[subsecond]]]]]"
        );
        time::PrimitiveDateTime::parse(&t, fmt).map_err(|e| e.to_string())
    }
}

impl Scalar for time::OffsetDateTime {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("datetime")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        iso_year(text)?;
        time::OffsetDateTime::parse(&text.replace(' ', "T"), &time::format_description::well_known::Rfc3339)
            .map_err(|e| e.to_string())
    }
}

/// Implements [`Scalar`] for a type through its `FromStr` implementation; JSON values must be
/// strings. The parse error's `Display` is the 400 message detail.
///
/// ```
/// #[derive(Debug)]
/// struct Nat(u64);
/// impl std::str::FromStr for Nat {
///     type Err = String;
///     fn from_str(s: &str) -> Result<Self, String> {
///         s.parse::<u64>().map(Nat).map_err(|_| format!("not a natural: {s}"))
///     }
/// }
/// fsa_runtime::scalar_from_str!(Nat);
/// ```
#[macro_export]
macro_rules! scalar_from_str {
    ($($t:ty),+ $(,)?) => {$(
        impl $crate::Scalar for $t {
            fn type_name() -> ::std::borrow::Cow<'static, str> {
                ::std::borrow::Cow::Borrowed(stringify!($t))
            }
            fn from_text(text: &str) -> ::std::result::Result<Self, ::std::string::String> {
                <$t as ::std::str::FromStr>::from_str(text).map_err(|e| ::std::string::ToString::to_string(&e))
            }
        }
    )+};
}

/// How an argument type is read from the request parameters.
///
/// Implemented for every [`Scalar`], `Option<Scalar>` (absent or `null` is `None`) and
/// `Vec<Scalar>` (repeated HTTP parameter, each converted from text, or JSON array, each item
/// read as [`Scalar::from_json`] reads a JSON member).
pub trait FromParam: Sized + Send {
    /// The expected type, for error messages.
    fn type_name() -> Cow<'static, str>;
    /// Converts the parameter found in the request.
    fn from_found(found: Found<'_>) -> Result<Self, String>;
    /// The value when the parameter is absent, if the type allows absence.
    fn when_absent() -> Option<Self> {
        None
    }
    /// Whether a path segment can hold this type.
    fn path_segment_ok(_segment: &str) -> bool {
        true
    }
    /// Converts a JSON body member from its JSON text, when the type reads the text itself:
    /// a shortcut for the common types, which spares building a `serde_json::Value`, or a
    /// reading that a `Value` would lose (`serde_json` reads integers beyond 64 bits as
    /// floats). `None` lets
    /// [`from_found`](Self::from_found) decide (the default). It is not asked for a name
    /// that the path also has.
    fn from_json_text(_text: &str) -> Option<Self> {
        None
    }
    /// The received value as a conversion error quotes it: by default what
    /// [`from_found`](Self::from_found) reads first ([`found_repr`]).
    fn value_repr(found: &Found<'_>) -> String {
        found_repr(found)
    }
    /// Whether a path segment that [`path_segment_ok`](Self::path_segment_ok) took names
    /// nothing this type can hold (an integer beyond it): the refusal is then a 404, not a 400.
    #[doc(hidden)]
    fn path_beyond_type(_segment: &str) -> bool {
        false
    }
}

fn scalar_from_found<T: Scalar>(found: Found<'_>) -> Result<T, String> {
    match found {
        Found::Path(s) => T::from_path(s),
        Found::Text(t) => T::from_text(t.first()),
        Found::Json(v) => T::from_json(v),
        Found::JsonText(text) => T::from_json_text(text).ok_or_else(|| json_text_error(text, &T::type_name())),
        Found::File(_) => Err(cast_error(&T::type_name())),
    }
}

/// One item of a JSON array member that a `Value` could not hold as a whole: as a `Value`
/// when it can be one, as for any array, else from its text.
fn json_item<T: Scalar>(text: &str) -> Result<T, String> {
    match json_value(text) {
        // An integer beyond 64 bits, which the `Value` holds as a float: read from its text by
        // the types that can (`i128`, `u128`), else as that float (a `list[float]` takes it).
        Some(value) if loses_integers(&value, text) => {
            T::from_json_text(text).map_or_else(|| T::from_json_item(&value), Ok)
        }
        Some(value) => T::from_json_item(&value),
        None => T::from_json_text(text).ok_or_else(|| json_text_error(text, &T::type_name())),
    }
}

/// Why a scalar refuses a JSON text that a `Value` cannot hold: a non-finite float, or an
/// integer beyond 64 bits, is of the wrong type for the types that do not read it, as for
/// Python; anything else is unsupported.
fn json_text_error(text: &str, type_name: &str) -> String {
    if non_finite(text).is_some() || is_json_integer(text) { cast_error(type_name) } else { unrepresentable_json(text) }
}

/// Why a JSON member that a `Value` cannot hold is refused: `serde_json`'s reason, without
/// its position in the member's text, and named plainly for a lone surrogate (for which
/// `serde_json` may speak of a hex escape).
fn unrepresentable_json(text: &str) -> String {
    let message = match serde_json::from_str::<Value>(text) {
        Err(e) => e.to_string(),
        Ok(_) => String::new(),
    };
    let reason = match message.rfind(" at line ") {
        _ if message.contains("surrogate") || message.contains("hex escape") => "lone UTF-16 surrogate in a string",
        Some(end) => &message[..end],
        None => &message,
    };
    format!("unsupported JSON value: {reason}")
}

impl<T: Scalar> FromParam for T {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }
    fn from_found(found: Found<'_>) -> Result<Self, String> {
        scalar_from_found(found)
    }
    fn path_segment_ok(segment: &str) -> bool {
        T::path_segment_ok(segment)
    }
    fn path_beyond_type(segment: &str) -> bool {
        T::path_beyond_type(segment)
    }
    fn from_json_text(text: &str) -> Option<Self> {
        T::from_json_text(text)
    }
}

impl<T: Scalar> FromParam for Option<T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("optional {}", T::type_name()))
    }
    fn from_found(found: Found<'_>) -> Result<Self, String> {
        match found {
            Found::Json(Value::Null) => Ok(None),
            Found::Text(t) if t.first() == "null" => Ok(None),
            other => scalar_from_found(other).map(Some),
        }
    }
    fn when_absent() -> Option<Self> {
        Some(None)
    }
    fn path_segment_ok(segment: &str) -> bool {
        T::path_segment_ok(segment)
    }
    fn path_beyond_type(segment: &str) -> bool {
        T::path_beyond_type(segment)
    }
    fn from_json_text(text: &str) -> Option<Self> {
        if text == "null" { Some(None) } else { T::from_json_text(text).map(Some) }
    }
}

impl<T: Scalar> FromParam for Vec<T> {
    fn type_name() -> Cow<'static, str> {
        Cow::Owned(format!("list[{}]", T::type_name()))
    }
    fn from_found(found: Found<'_>) -> Result<Self, String> {
        match found {
            Found::Path(s) => Ok(vec![T::from_path(s)?]),
            Found::Text(t) => {
                // A repeated parameter: the error names the item that failed.
                let repeated = t.is_repeated();
                let item =
                    |(k, text)| T::from_text(text).map_err(|e| if repeated { format!("item {k}: {e}") } else { e });
                t.iter().enumerate().map(item).collect()
            }
            // JSON arrays: each item is read as a JSON value of the scalar's type
            // (`["2"]` is no list of integers; a float item may be `2`). FlaskSimpleAuth 36
            // would convert string items like HTTP text; JSON values are not converted here.
            Found::Json(Value::Array(items)) => items.iter().map(T::from_json_item).collect(),
            // An array with an item that a `Value` cannot hold, or with an integer beyond 64
            // bits: each item read on its own.
            Found::JsonText(text) => {
                let items = json_array_items(text).ok_or_else(|| cast_error(&Self::type_name()))?;
                items.into_iter().map(json_item::<T>).collect()
            }
            _ => Err(cast_error(&Self::type_name())),
        }
    }
    /// All the values of a repeated parameter, as a JSON array of strings.
    fn value_repr(found: &Found<'_>) -> String {
        match found {
            Found::Text(t) if t.is_repeated() => {
                serde_json::to_string(&t.iter().collect::<Vec<_>>()).unwrap_or_default()
            }
            _ => found_repr(found),
        }
    }
}

/// Any JSON value (upstream `JsonData`): a JSON body member as is, HTTP text parsed as JSON
/// (invalid JSON is a 400). Absent is missing, as for other scalars; use `Option<Value>`
/// for an optional one.
impl Scalar for Value {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("JSON")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        Ok(value.clone())
    }
    /// A member holding an integer beyond 64 bits, which the body hands over as its text: the
    /// float a `Value` makes of it, as `serde_json` reads it.
    fn from_json_text(text: &str) -> Option<Self> {
        if is_json_integer(text) || (text.starts_with(['[', '{']) && holds_wide_integer(text)) {
            json_value(text)
        } else {
            None
        }
    }
}

/// Any JSON value kept as its text (`serde_json`'s `RawValue`): a JSON body member exactly as
/// sent, HTTP text checked as JSON (invalid JSON is a 400). Where a [`Value`] holds an integer
/// beyond 64 bits as a float, this keeps every number's digits, as Python's `json.loads` keeps
/// its integers, and [`Json`](crate::Json) writes it back unchanged.
///
/// ```
/// use serde_json::value::RawValue;
/// use fsa_runtime::Scalar;
///
/// let data = <Box<RawValue> as Scalar>::from_text(r#"{"a": 12345678901234567890123}"#).unwrap();
/// assert_eq!(data.get(), r#"{"a": 12345678901234567890123}"#);
/// assert!(<Box<RawValue> as Scalar>::from_text("{").is_err());
/// ```
impl Scalar for Box<serde_json::value::RawValue> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("JSON")
    }
    fn from_text(text: &str) -> Result<Self, String> {
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))
    }
    fn from_json(value: &Value) -> Result<Self, String> {
        serde_json::value::to_raw_value(value).map_err(|e| e.to_string())
    }
    /// The member's text, as it came in the body.
    fn from_json_text(text: &str) -> Option<Self> {
        serde_json::value::RawValue::from_string(text.to_owned()).ok()
    }
}

/// The most characters of a value that an error message quotes: a huge parameter must not
/// make a huge answer.
pub(crate) const QUOTED_MAX: usize = 200;

/// A value as an error message quotes it: whole up to [`QUOTED_MAX`] characters, else its
/// beginning and `…`.
pub(crate) fn quoted(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(QUOTED_MAX) {
        None => Cow::Borrowed(value),
        Some((end, _)) => Cow::Owned(format!("{}…", &value[..end])),
    }
}

/// The 400 of a value that does not convert, for every source (`what`: `parameter`, `header`,
/// `cookie`): `WHAT "NAME" cast error on VALUE: DETAIL`, the value [`quoted`].
pub(crate) fn conversion_error(what: &str, name: &str, value: &str, detail: impl std::fmt::Display) -> crate::Error {
    crate::Error::bad_request(format!("{what} \"{name}\" cast error on {}: {detail}", quoted(value)))
}

/// Formats the value part of a cast error message.
///
/// The default of [`FromParam::value_repr`], for a type of your own that quotes some values
/// its own way and the others as usual.
pub fn found_repr(found: &Found<'_>) -> String {
    match found {
        Found::Path(s) => (*s).to_owned(),
        Found::Text(t) => t.first().to_owned(),
        Found::Json(v) => v.to_string(),
        Found::JsonText(text) => (*text).to_owned(),
        Found::File(f) => f.filename.clone(),
    }
}

/// Converts a parameter for a serde type: the JSON member as is, or HTTP text parsed as JSON.
///
/// A struct (a model record) must be given as a JSON object: serde would also build one from
/// an array of its fields, which upstream's dataclasses and pydantic models refuse.
pub fn serde_from_found<T: serde::de::DeserializeOwned>(found: Found<'_>) -> Result<T, String> {
    let from = |v: &Value| T::deserialize(ObjectsOnly::value(v));
    match found {
        Found::Json(v) => from(v).map_err(|e| e.to_string()),
        // Integers beyond 64 bits (what a `Value` can hold but as floats): read from the text.
        Found::JsonText(text) if json_value(text).is_some() => serde_from_json_text(text),
        Found::JsonText(text) => Err(unrepresentable_json(text)),
        Found::Path(s) => serde_from_text(s),
        Found::Text(t) => serde_from_text(t.first()),
        Found::File(_) => Err("unexpected file".to_owned()),
    }
}

/// HTTP text for a serde type: JSON text, else the text as a JSON string (for string-like
/// types: enums' unit variants, `try_from = "String"` newtypes). When neither works, the error
/// shown is the JSON syntax error for text that looks like a JSON object, array or string, and
/// the type's own error otherwise.
fn serde_from_text<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
    match json_value(s) {
        Some(v) if loses_integers(&v, s) => serde_from_json_text(s),
        Some(v) => T::deserialize(ObjectsOnly::value(&v)).map_err(|e| e.to_string()),
        None => {
            T::deserialize(ObjectsOnly::value(&Value::String(s.to_owned()))).map_err(|e| {
                match serde_json::from_str::<Value>(s) {
                    Err(parse) if s.trim_start().starts_with(['{', '[', '"']) => parse.to_string(),
                    _ => e.to_string(),
                }
            })
        }
    }
}

/// A serde type read straight from valid JSON text, for a value holding integers beyond 64
/// bits: `i128` and `u128` fields take them exactly, where a `Value` holds them as floats.
/// As through a `Value`: `-0` is the integer 0, a repeated key keeps its last value, a
/// top-level array is no struct ([`ObjectsOnly`]), and messages do not give a position in
/// the text.
fn serde_from_json_text<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, String> {
    // A repeated key keeps its last value, as in a `Value`'s map and for `json.loads`: the
    // text deserializer would refuse a struct's repeated field and read every value of a map's.
    let mut last = String::with_capacity(text.len());
    last_members_only(text, &mut last).map_err(without_position)?;
    let text = negative_zeros_as_zeros(&last);
    let mut deserializer = serde_json::Deserializer::from_str(&text);
    let first = text.trim_start_matches(JSON_SPACE).bytes().next().unwrap_or_default();
    let top = ObjectsOnly { inner: &mut deserializer, first };
    let value = T::deserialize(top).map_err(|e| {
        // The text is valid JSON: a syntax error is `serde_json` reading an `i128` or `u128`
        // from what is not an integer (`1.5`), where the reading through a `Value` says why.
        let through_value = (e.classify() == serde_json::error::Category::Syntax)
            .then(|| json_value(&text))
            .flatten()
            .and_then(|v| T::deserialize(ObjectsOnly::value(&v)).err());
        through_value.map_or_else(|| without_position(e), |e| e.to_string())
    })?;
    deserializer.end().map_err(without_position)?;
    Ok(value)
}

/// Writes valid JSON text to `out` with each object's members of a repeated key but the last
/// left out, at any depth (the text deserializer's view of a repeated key differs from a
/// `Value`'s, which keeps the last). Other values are copied as they are.
fn last_members_only(text: &str, out: &mut String) -> Result<(), serde_json::Error> {
    let text = text.trim_matches(JSON_SPACE);
    match text.as_bytes().first() {
        Some(b'{') => {
            let members = object_members(text, usize::MAX, &std::cell::Cell::new(false))?;
            let key = |m: &JsonMember| match &m.key {
                Ok(range) => Cow::Borrowed(text.get(range.clone()).unwrap_or_default()),
                Err(key) => Cow::Owned(key.to_string()),
            };
            // The members to keep: the last of each key, in body order.
            let mut seen = std::collections::HashSet::new();
            let mut keep = vec![false; members.len()];
            for (i, m) in members.iter().enumerate().rev() {
                keep[i] = seen.insert(key(m));
            }
            out.push('{');
            for (n, m) in members.iter().zip(keep).filter(|(_, k)| *k).map(|(m, _)| m).enumerate() {
                if n > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(&key(m))?);
                out.push(':');
                last_members_only(text.get(m.value.clone()).unwrap_or_default(), out)?;
            }
            out.push('}');
        }
        Some(b'[') => {
            let items: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)?;
            out.push('[');
            for (n, item) in items.iter().enumerate() {
                if n > 0 {
                    out.push(',');
                }
                last_members_only(item.get(), out)?;
            }
            out.push(']');
        }
        _ => out.push_str(text),
    }
    Ok(())
}

/// A `serde_json` error's message without the position that its text deserializer adds.
fn without_position(error: serde_json::Error) -> String {
    let message = error.to_string();
    let position = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&position) {
        Some(reason) => reason.to_owned(),
        None => message,
    }
}

/// A deserializer that refuses an array where a struct is expected at the top level, as
/// upstream's dataclasses and pydantic models do (serde would build a struct from the array of
/// its fields). Every other request goes unchanged to the deserializer it wraps: a `Value`, or
/// `serde_json`'s text deserializer, where `i128` and `u128` read their numbers exactly.
pub(crate) struct ObjectsOnly<D> {
    inner: D,
    /// The value's first character: `[` for an array, `n` for `null`.
    first: u8,
}

/// The first character of a value's JSON text, as [`ObjectsOnly`] needs it.
fn first_char(value: &Value) -> u8 {
    match value {
        Value::Array(_) => b'[',
        Value::Null => b'n',
        _ => 0,
    }
}

impl ObjectsOnly<Value> {
    /// An owned value, for a deserializer that must outlive the parameters it read.
    pub(crate) fn owned(value: Value) -> Self {
        ObjectsOnly { first: first_char(&value), inner: value }
    }
}

impl<'a> ObjectsOnly<&'a Value> {
    fn value(value: &'a Value) -> Self {
        ObjectsOnly { inner: value, first: first_char(value) }
    }
}

/// `Deserializer` methods of [`ObjectsOnly`] that go to the wrapped deserializer unchanged.
macro_rules! forward_to_inner {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: serde::de::Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
            self.inner.$method($($arg,)* visitor)
        }
    )*};
}

impl<'de, D: serde::Deserializer<'de>> serde::Deserializer<'de> for ObjectsOnly<D> {
    type Error = D::Error;

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        if self.first == b'[' {
            return Err(serde::de::Error::invalid_type(serde::de::Unexpected::Seq, &"a JSON object"));
        }
        self.inner.deserialize_struct(name, fields, visitor)
    }
    /// `Some` keeps the check: an `Option` of a struct refuses an array too.
    fn deserialize_option<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        if self.first == b'n' { self.inner.deserialize_option(visitor) } else { visitor.visit_some(self) }
    }
    forward_to_inner! {
        deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16(); deserialize_i32();
        deserialize_i64(); deserialize_i128(); deserialize_u8(); deserialize_u16(); deserialize_u32();
        deserialize_u64(); deserialize_u128(); deserialize_f32(); deserialize_f64(); deserialize_char();
        deserialize_str(); deserialize_string(); deserialize_bytes(); deserialize_byte_buf();
        deserialize_unit(); deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str); deserialize_seq(); deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize); deserialize_map();
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier(); deserialize_ignored_any();
    }
}

/// The value of a serde type when its parameter is absent: `Some` only for types that accept
/// absence the way `Option<T>` or `()` do. A type that merely accepts JSON `null` (such as
/// `serde_json::Value`) is still missing.
pub fn serde_when_absent<T: serde::de::DeserializeOwned>() -> Option<T> {
    T::deserialize(Absent).ok()
}

/// A deserializer for an absent parameter: it answers `deserialize_option` with `None` and
/// `deserialize_unit` with `()`, and refuses everything else.
struct Absent;

impl<'de> serde::Deserializer<'de> for Absent {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _visitor: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("missing"))
    }
    fn deserialize_option<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_none()
    }
    fn deserialize_unit<V: serde::de::Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit_struct newtype_struct seq tuple tuple_struct map struct enum identifier ignored_any
    }
}

/// An uploaded file argument: the `multipart/form-data` part with a file name whose field
/// name is the argument's name. Missing: 400; use `Option<UploadedFile>` when optional.
impl FromParam for UploadedFile {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("file")
    }
    fn from_found(found: Found<'_>) -> Result<Self, String> {
        match found {
            Found::File(f) => Ok(f.clone()),
            _ => Err("expecting an uploaded file (multipart/form-data part with a file name)".to_owned()),
        }
    }
    fn path_segment_ok(_segment: &str) -> bool {
        false
    }
}

impl FromParam for Option<UploadedFile> {
    fn type_name() -> Cow<'static, str> {
        Cow::Borrowed("optional file")
    }
    fn from_found(found: Found<'_>) -> Result<Self, String> {
        UploadedFile::from_found(found).map(Some)
    }
    fn when_absent() -> Option<Self> {
        Some(None)
    }
    fn path_segment_ok(_segment: &str) -> bool {
        false
    }
}

/// A parameter of a type you do not own, converted from its text by a function registered
/// with [`AppBuilder::cast`](crate::AppBuilder::cast) (upstream `app.cast(Type, fun)`).
///
/// Rust's orphan rule forbids implementing [`Scalar`] for a foreign type, so the argument is
/// written `Cast<T>` and the conversion lives in the app: `Cast<T>` reads the parameter's text
/// (query, form, path, or a JSON string; other JSON values as their JSON text) and calls the
/// registered function; its error message becomes the 400's detail. `Option<Cast<T>>` and
/// `#[default(…)]` work as for other arguments. A route using `Cast<T>` for a type with no
/// registered cast answers `FSA_SERVER_ERROR` and logs the cause.
///
/// For your own types, prefer [`Scalar`] or [`scalar_from_str!`](crate::scalar_from_str),
/// which need no registration.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cast<T>(pub T);

impl<T> std::ops::Deref for Cast<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> Cast<T> {
    /// The converted value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

type CastFn<T> = Box<dyn Fn(&str) -> Result<T, String> + Send + Sync>;

/// The registered conversion for `T`, kept in the app's state map under its own type.
struct Caster<T>(CastFn<T>);

impl crate::app::AppBuilder {
    /// Registers the conversion from parameter text to `T`, used by [`Cast<T>`] arguments
    /// (upstream `app.cast`).
    ///
    /// ```
    /// use fsa_runtime::App;
    /// let app = App::new()
    ///     .cast::<std::time::Duration, _>(|s| s.parse::<u64>().map(std::time::Duration::from_secs))
    ///     .build();
    /// # let _ = app;
    /// ```
    pub fn cast<T, E>(self, fun: impl Fn(&str) -> Result<T, E> + Send + Sync + 'static) -> Self
    where
        T: Send + 'static,
        E: std::fmt::Display,
    {
        let f: CastFn<T> = Box::new(move |s| fun(s).map_err(|e| e.to_string()));
        self.state(Caster(f))
    }
}

impl<T: Send + 'static> Cast<T> {
    fn convert(ctx: &crate::Context, name: &'static str) -> Result<Option<Self>, crate::Error> {
        let Some(found) = ctx.params().get(name) else { return Ok(None) };
        let text: Cow<'_, str> = match found {
            Found::Path(s) => Cow::Borrowed(s),
            Found::Text(t) => Cow::Borrowed(t.first()),
            Found::Json(Value::String(s)) => Cow::Borrowed(s),
            Found::Json(v) => Cow::Owned(v.to_string()),
            Found::JsonText(s) => Cow::Borrowed(s),
            Found::File(f) => {
                return Err(conversion_error("parameter", name, &f.filename, "unexpected file"));
            }
        };
        let caster = ctx.app().state::<Caster<T>>().ok_or_else(|| {
            crate::Error::internal(format!("no cast registered for {} (AppBuilder::cast)", std::any::type_name::<T>()))
        })?;
        (caster.0)(&text).map(|v| Some(Cast(v))).map_err(|e| conversion_error("parameter", name, &text, e))
    }
}

impl<T: Send + 'static> crate::special::Special for Cast<T> {
    const KIND: crate::route::ArgKind = crate::route::ArgKind::Request;
    async fn extract(ctx: &mut crate::Context, name: &'static str) -> Result<Self, crate::Error> {
        Self::convert(ctx, name)?.ok_or_else(|| crate::Error::bad_request(format!("parameter \"{name}\" is missing")))
    }
    async fn extract_optional(ctx: &mut crate::Context, name: &'static str) -> Result<Option<Self>, crate::Error> {
        Self::convert(ctx, name)
    }
}

/// Formats a garde validation report as one line per field.
pub fn garde_report(report: &garde::Report) -> String {
    // As many complaints as a 400 lists parameter errors; the others are counted, so that a
    // large value breaking its rules everywhere does not get a larger answer still.
    const LISTED: usize = crate::extract::ParamErrors::MAX_LISTED;
    let mut text = report
        .iter()
        .take(LISTED)
        .map(|(path, err)| {
            let p = path.to_string();
            if p.is_empty() { err.to_string() } else { format!("{p}: {err}") }
        })
        .collect::<Vec<_>>()
        .join("; ");
    let more = report.iter().count().saturating_sub(LISTED);
    if more > 0 {
        text.push_str(&format!("; and {more} more complaints"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_take_four_digit_years_from_0001() {
        let day = <time::Date as Scalar>::from_text("2024-01-31").map(|d| d.to_string());
        assert_eq!(day.as_deref(), Ok("2024-01-31"));
        assert!(<time::Date as Scalar>::from_text("0001-01-01").is_ok());
        for bad in ["+2024-01-31", "-0001-01-01", "0000-01-01", "20240-01-31", "024-01-31", "2024-1-31", ""] {
            assert!(<time::Date as Scalar>::from_text(bad).is_err(), "{bad}");
        }
        assert!(<time::PrimitiveDateTime as Scalar>::from_text("2024-01-02 03:04").is_ok());
        assert!(<time::PrimitiveDateTime as Scalar>::from_text("+2024-01-02T03:04").is_err());
        assert!(<time::PrimitiveDateTime as Scalar>::from_text("0000-01-02T03:04").is_err());
        assert!(<time::OffsetDateTime as Scalar>::from_text("2024-01-02T03:04:05+02:00").is_ok());
        assert!(<time::OffsetDateTime as Scalar>::from_text("-2024-01-02T03:04:05+02:00").is_err());
    }

    #[test]
    fn decimal_digits_of_every_script() {
        assert_eq!(decimal_digit('7'), Some(7));
        assert_eq!(decimal_digit('\u{660}'), Some(0));
        assert_eq!(decimal_digit('\u{669}'), Some(9));
        assert_eq!(decimal_digit('\u{66A}'), None, "the Arabic percent sign follows the digits");
        assert_eq!(decimal_digit('\u{FF11}'), Some(1), "full-width");
        assert_eq!(decimal_digit('\u{1D7FF}'), Some(9), "the last of five adjoining runs");
        assert_eq!(decimal_digit('\u{1FBF9}'), Some(9));
        assert_eq!(decimal_digit('\u{B2}'), None, "a superscript is not a decimal digit");
        assert_eq!(decimal_digit('\u{2160}'), None, "nor a Roman numeral");
        assert_eq!(decimal_digit('\u{65F}'), None);
        assert_eq!(decimal_digit('a'), None);
        assert_eq!(ascii_decimals("\u{663}\u{664}.5"), "34.5");
        assert_eq!(parse_int("\u{663}"), Some(3));
        assert_eq!(parse_int("\u{FF11}\u{FF12}"), Some(12));
        assert_eq!(parse_int(" -\u{663}_\u{663} "), Some(-33));
        assert_eq!(parse_int("\u{B2}"), None);
        assert_eq!(parse_float("\u{663}.\u{665}"), Some(3.5));
        assert!(<i64 as Scalar>::path_segment_ok("\u{663}\u{660}"));
        assert_eq!(<i64 as Scalar>::from_path("\u{660}\u{663}"), Ok(3), "leading zeros, as in ASCII");
        assert!(!<i64 as Scalar>::path_segment_ok("\u{B2}"));
        assert!(<f64 as Scalar>::path_segment_ok("\u{663}.\u{665}"));
        assert_eq!(<f64 as Scalar>::from_path("\u{663}.\u{665}"), Ok(3.5));
        assert!(!<f64 as Scalar>::path_segment_ok("\u{663}."));
    }

    #[test]
    fn python_int_syntax() {
        assert_eq!(parse_int("12"), Some(12));
        assert_eq!(parse_int(" -12 "), Some(-12));
        assert_eq!(parse_int("0x11"), Some(17));
        assert_eq!(parse_int("0o21"), Some(17));
        assert_eq!(parse_int("0b10001"), Some(17));
        assert_eq!(parse_int(&i128::MIN.to_string()), Some(i128::MIN));
        assert_eq!(parse_int(&i128::MAX.to_string()), Some(i128::MAX));
        assert_eq!(parse_int("170141183460469231731687303715884105728"), None, "i128::MAX + 1");
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("00"), Some(0));
        assert_eq!(parse_int("017"), None);
        assert_eq!(parse_int("1__0"), None);
        assert_eq!(parse_int("x"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("1.0"), None);
        assert_eq!(parse_int("0X1f"), Some(31));
        assert_eq!(parse_int("-0"), Some(0));
        assert_eq!(parse_int("+7"), Some(7));
        assert_eq!(parse_int("-"), None);
        assert_eq!(parse_int("+-1"), None);
        // 38 digits take the fast path, 39 the general one; both within i128 or refused.
        assert_eq!(parse_int(&"9".repeat(38)), Some(10i128.pow(38) - 1));
        assert_eq!(parse_int(&"1".repeat(39)), "1".repeat(39).parse().ok());
        assert_eq!(parse_int(&"9".repeat(40)), None);
        // A literal Python reads, but too long for the type, says so.
        assert_eq!(i64::from_text(&"9".repeat(40)).unwrap_err(), "out of range for i64");
        assert_eq!(
            i128::from_text(" -0x_ffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_f ").unwrap_err(),
            "out of range for i128"
        );
        assert_eq!(u8::from_text(&"\u{663}".repeat(40)).unwrap_err(), "out of range for u8");
        assert_eq!(i64::from_text("9x").unwrap_err(), "invalid literal for int");
        assert_eq!(i64::from_text("017").unwrap_err(), "invalid literal for int");
    }

    #[test]
    fn pairs_keep_order_decoding_and_repeats() {
        let p = Pairs::parse("a=1&b=x+y%21&a=%C3%A9&empty=&flag");
        let all: Vec<(&str, &str)> = p.iter().collect();
        assert_eq!(all, [("a", "1"), ("b", "x y!"), ("a", "\u{e9}"), ("empty", ""), ("flag", "")]);
        let mut form = Pairs::default();
        form.push("f", "v");
        let mut params = Params { query: p, form, ..Params::default() };
        let Some(Found::Text(text)) = params.get("a") else { panic!("a text parameter") };
        assert_eq!(text.iter().collect::<Vec<_>>(), ["1", "\u{e9}"]);
        assert_eq!(text.first(), "1");
        assert!(matches!(params.get("f"), Some(Found::Text(t)) if t.first() == "v"));
        assert_eq!(params.request_text("b").as_deref(), Some("x y!"));
        params.query = Pairs::default();
        assert!(matches!(params.get("f"), Some(Found::Text(t)) if t.first() == "v"));
        assert!(params.get("a").is_none());
        assert!(same_name("ab", "ab") && same_name("", "") && same_name("\u{e9}", "\u{e9}"));
        assert!(!same_name("ab", "ac") && !same_name("a", "ab") && !same_name("ab", "a"));
    }

    #[test]
    fn same_bytes_agrees_with_equality_at_every_length() {
        // Each length through each branch (bytes, two 4-byte words, two 8-byte words, memcmp),
        // with a difference at every position, the middle of the overlapping words included.
        for len in 0..=24 {
            let a: Vec<u8> = (0..len).map(|i| b'a' + i as u8).collect();
            assert!(same_bytes(&a, &a.clone()), "length {len}");
            for at in 0..len {
                let mut b = a.clone();
                b[at] ^= 0x20;
                assert!(!same_bytes(&a, &b) && !same_bytes(&b, &a), "length {len}, byte {at}");
            }
            let mut longer = a.clone();
            longer.push(b'z');
            assert!(!same_bytes(&a, &longer) && !same_bytes(&longer, &a), "length {len}");
        }
    }

    #[test]
    fn pairs_decode_as_form_urlencoded_does() {
        for input in [
            "",
            "&",
            "&&a=1&&",
            "a",
            "a=",
            "=",
            "=1",
            "a=b=c",
            "a=1&a=2",
            "%41=%42",
            "a+b=c+d",
            "a=%",
            "a=%4",
            "a=%zz",
            "%C3%A9=%e2%98%83",
            "é=☃&x=1",
            "a=1;b=2",
            "k=v&k2=%2B&k3=+",
        ] {
            let ours: Vec<(String, String)> =
                Pairs::parse(input).iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
            let theirs: Vec<(String, String)> =
                form_urlencoded::parse(input.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            assert_eq!(ours, theirs, "{input:?}");
        }
    }

    #[test]
    fn escapes_that_are_not_utf8_stay_written() {
        let pairs = |input: &str| Pairs::parse(input).iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>();
        assert_eq!(pairs("s=%E9"), ["s=%E9"]);
        assert_eq!(pairs("s=a%e9b%C3%A9&%FF%FE=x+y"), ["s=a%E9b\u{e9}", "%FF%FE=x y"]);
        assert_eq!(pairs("a=%C3é&b=%F0%9F%98&c=%F0%9F%98%80"), ["a=%C3\u{e9}", "b=%F0%9F%98", "c=\u{1F600}"]);
        assert_eq!(pairs("a=%&b=%4&c=%zz%41"), ["a=%", "b=%4", "c=%zzA"]);
    }

    #[test]
    fn python_float_syntax() {
        assert_eq!(parse_float("2"), Some(2.0));
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert!(parse_float("nan").unwrap().is_nan());
        assert_eq!(parse_float("-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("1_000.5"), Some(1000.5));
        assert_eq!(parse_float("abc"), None);
        assert_eq!(parse_float("0x10"), None);
    }

    #[test]
    fn bool_is_strict() {
        assert_eq!(bool::from_text("TRUE"), Ok(true));
        assert_eq!(bool::from_text("False"), Ok(false));
        assert!(bool::from_text("1").is_err());
        assert!(bool::from_text("yes").is_err());
    }

    #[test]
    fn json_scalars_are_type_checked() {
        assert!(i64::from_json(&Value::from("12")).is_err());
        assert!(i64::from_json(&Value::Bool(true)).is_err());
        assert!(i64::from_json(&serde_json::json!(2.0)).is_err());
        assert!(f64::from_json(&Value::from(2)).is_err());
        assert_eq!(f64::from_json(&serde_json::json!(2.0)), Ok(2.0));
        assert_eq!(f64::from_json_item(&Value::from(2)), Ok(2.0));
        assert!(f64::from_json_item(&Value::from("2")).is_err());
        assert_eq!(<f64 as Scalar>::from_json_text("1e400"), Some(f64::INFINITY));
        assert_eq!(<f64 as Scalar>::from_json_text(&format!("1{}", "0".repeat(400))), None);
        assert!(String::from_json(&Value::from(1)).is_err());
    }

    #[test]
    fn path_converters() {
        assert!(<i64 as Scalar>::path_segment_ok("12"));
        // Digits beyond the type: refused, as naming nothing (a 404), unlike other refusals.
        assert_eq!(<u8 as Scalar>::from_path("256"), Err("out of range for u8".to_owned()));
        assert!(<u8 as Scalar>::path_beyond_type("256") && <u8 as Scalar>::path_beyond_type("0256"));
        assert!(!<u8 as Scalar>::path_beyond_type("255") && !<u8 as Scalar>::path_beyond_type("x"));
        assert!(<i64 as Scalar>::path_beyond_type("9223372036854775808"));
        assert!(!<i64 as Scalar>::path_beyond_type(&format!("{}1", "0".repeat(60))));
        assert!(<i8 as Scalar>::path_beyond_type("\u{661}\u{662}\u{668}"));
        assert!(<std::num::NonZeroU8 as Scalar>::path_beyond_type("256"));
        assert!(!<std::num::NonZeroU8 as Scalar>::path_beyond_type("0"));
        assert!(<Option<u8> as FromParam>::path_beyond_type("300"));
        assert!(!<f64 as Scalar>::path_beyond_type(&"9".repeat(400)));
        assert!(!<i64 as Scalar>::path_segment_ok("-1"));
        assert!(<f64 as Scalar>::path_segment_ok("1.5"));
        assert!(!<f64 as Scalar>::path_segment_ok("1"));
        assert!(!<uuid::Uuid as Scalar>::path_segment_ok("abc"));
    }

    fn object(text: &str) -> JsonObject {
        JsonObject::parse(bytes::Bytes::copy_from_slice(text.as_bytes()), 64, usize::MAX, false).expect("a JSON object")
    }

    #[test]
    fn json_object_members_as_text_and_values() {
        let o = object(r#" {"a": 1, "b" : "x y", "c\u0041": [1, {"d": null}], "e":true} "#);
        assert_eq!(o.keys().collect::<Vec<_>>(), ["a", "b", "cA", "e"]);
        assert_eq!(o.text_of("a"), Some("1"));
        assert_eq!(o.text_of("b"), Some(r#""x y""#));
        assert_eq!(o.text_of("cA"), Some(r#"[1, {"d": null}]"#));
        assert_eq!(o.get("cA"), Some(Ok(&serde_json::json!([1, {"d": null}]))));
        assert_eq!(o.get("e"), Some(Ok(&Value::Bool(true))));
        assert_eq!(o.get("z"), None);
        // A repeated key keeps its last value, as a JSON map does.
        let o = object(r#"{"a": 1, "b": 2, "a": 3}"#);
        assert_eq!(o.keys().collect::<Vec<_>>(), ["a", "b", "a"]);
        assert_eq!(o.get("a"), Some(Ok(&Value::from(3))));
        assert_eq!(o.text_of("a"), Some("3"));
        assert_eq!(o.text_of("b"), Some("2"));
    }

    #[test]
    fn non_finite_literals_keep_their_spans() {
        assert_eq!(mask_non_finite(r#"{"a": 1}"#), None);
        assert_eq!(
            mask_non_finite(r#"{"a":NaN, "b": [Infinity,-Infinity], "c": "NaN"}"#).as_deref(),
            Some(r#"{"a":0.0, "b": [0.000000,-0.000000], "c": "NaN"}"#)
        );
        for not_literal in [r#"{"a": -NaN}"#, r#"{"a": NaN1}"#, r#"{"a": 1NaN}"#, r#"{"a": "x\" NaN"}"#, "{\"NaN\": 1}"]
        {
            assert_eq!(mask_non_finite(not_literal), None, "{not_literal}");
        }
        let o = JsonObject::parse(
            bytes::Bytes::from_static(b"\xEF\xBB\xBF{\"f\": NaN, \"l\": [1, -Infinity]}"),
            64,
            usize::MAX,
            false,
        )
        .expect("a body with a byte order mark and non-finite literals");
        assert_eq!((o.text_of("f"), o.get("f")), (Some("NaN"), Some(Err("NaN"))));
        assert_eq!(json_array_items("[1, -Infinity, \"NaN\"]"), Some(vec!["1", "-Infinity", "\"NaN\""]));
        assert!(<f64 as Scalar>::from_json_text("NaN").is_some_and(f64::is_nan));
        assert_eq!(<f64 as Scalar>::from_json_text("-Infinity"), Some(f64::NEG_INFINITY));
        assert!(JsonObject::parse(bytes::Bytes::from_static(b"{\"f\": -NaN}"), 64, usize::MAX, false).is_err());
    }

    #[test]
    fn json_object_refusals() {
        let parse =
            |t: &str, depth| JsonObject::parse(bytes::Bytes::copy_from_slice(t.as_bytes()), depth, usize::MAX, false);
        assert!(matches!(parse("[1, 2]", 64), Err(JsonBodyError::NotObject)));
        assert!(matches!(parse(" \"a\"", 64), Err(JsonBodyError::NotObject)));
        assert!(matches!(parse("{\"a\": }", 64), Err(JsonBodyError::Invalid(_))));
        assert!(matches!(parse("{\"a\": 1} x", 64), Err(JsonBodyError::Invalid(_))));
        assert!(matches!(parse("nope", 64), Err(JsonBodyError::Invalid(_))));
        assert!(matches!(
            parse(&format!("{{\"a\": {}1{}}}", "[".repeat(3), "]".repeat(3)), 3),
            Err(JsonBodyError::TooDeep)
        ));
        assert!(parse(&format!("{{\"a\": {}1{}}}", "[".repeat(2), "]".repeat(2)), 3).is_ok());
        // Brackets inside strings do not count.
        assert!(parse(r#"{"a": "[[[[\"[[[["}"#, 2).is_ok());
        assert_eq!(json_text_depth(r#"{"a": [{"b": "]]]"}, []]}"#), 3);
    }

    #[test]
    fn garde_reports_list_a_bounded_number_of_complaints() {
        let mut report = garde::Report::new();
        for i in 0..150usize {
            report.append(garde::Path::new(i), garde::Error::new("lower than 1"));
        }
        let text = garde_report(&report);
        assert!(text.starts_with("[0]: lower than 1; [1]: lower than 1; "), "{text}");
        assert!(text.ends_with("[99]: lower than 1; and 50 more complaints"), "{text}");
        report = garde::Report::new();
        report.append(garde::Path::empty(), garde::Error::new("too short"));
        assert_eq!(garde_report(&report), "too short");
    }

    #[test]
    fn whole_bodies_of_any_kind() {
        let parse = |t: &str, depth| JsonObject::parse(bytes::Bytes::copy_from_slice(t.as_bytes()), depth, 1, true);
        for text in ["[1, 2]", " \"a\"", "42", "null", "\u{FEFF}[]"] {
            let body = parse(text, 64).expect(text);
            assert!(body.members.is_empty(), "{text}");
            assert_eq!(body.text, text.trim_start_matches('\u{FEFF}'));
        }
        // An object too: its members are no parameters, and not counted as such.
        let object = parse(r#"{"a": 1, "b": 2}"#, 64).expect("an object");
        assert_eq!((object.keys().count(), object.text.as_str()), (0, r#"{"a": 1, "b": 2}"#));
        assert!(matches!(parse(r#"{"a": 1, "b": }"#, 64), Err(JsonBodyError::Invalid(_))));
        assert!(matches!(parse("[1, 2] x", 64), Err(JsonBodyError::Invalid(_))));
        assert!(matches!(parse("[NaN]", 64), Err(JsonBodyError::Invalid(_))));
        assert!(matches!(parse(&format!("{}1{}", "[".repeat(4), "]".repeat(4)), 3), Err(JsonBodyError::TooDeep)));
        assert!(parse(&format!("{}1{}", "[".repeat(3), "]".repeat(3)), 3).is_ok());
    }

    #[test]
    fn json_text_shortcuts_agree_with_values() {
        fn same<T: FromParam + PartialEq + std::fmt::Debug>(text: &str) {
            // The member's value as a request body gives it (`-0` is the integer 0 there).
            let body = format!("{{\"v\": {text}}}");
            let object = JsonObject::parse(bytes::Bytes::from(body), 64, usize::MAX, false).expect("a JSON object");
            let found = object.get("v").expect("the member").map_or_else(Found::JsonText, Found::Json);
            if let Some(fast) = T::from_json_text(text) {
                assert_eq!(Ok(fast), T::from_found(found), "{text}");
            }
        }
        for text in [
            "0",
            "-0",
            "12",
            "-12",
            "300",
            "-300",
            "123456789012345678",
            "1234567890123456789012",
            "1.5",
            "1e2",
            "\"12\"",
            "true",
            "null",
        ] {
            same::<i64>(text);
            same::<u8>(text);
            same::<i8>(text);
            same::<u64>(text);
            same::<Option<i32>>(text);
            same::<bool>(text);
            same::<Option<bool>>(text);
            same::<String>(text);
        }
        for text in [r#""abc""#, r#""a\"b""#, r#""é\u00e9""#, r#""""#] {
            same::<String>(text);
            same::<Option<String>>(text);
        }
        assert_eq!(<i64 as FromParam>::from_json_text("12"), Some(12));
        assert_eq!(<String as FromParam>::from_json_text(r#""abc""#), Some("abc".to_owned()));
        assert_eq!(<Option<i64>>::from_json_text("null"), Some(None));
        assert_eq!(<u8 as FromParam>::from_json_text("300"), None);
        // Beyond 64 bits, where the member's value is a float: exact for the wide types.
        assert_eq!(<i128 as FromParam>::from_json_text("-12345678901234567890123"), Some(-12345678901234567890123));
        assert_eq!(<u128 as FromParam>::from_json_text("12345678901234567890123"), Some(12345678901234567890123));
        assert_eq!(<i64 as FromParam>::from_json_text("12345678901234567890123"), None);
    }

    #[test]
    fn json_members_a_value_cannot_hold() {
        // Numbers beyond `f64` and lone surrogates pass the body's parse, as with `json.loads`.
        let o = object(r#"{"big": 1e400, "neg": -1e400, "list": [1, 2.5e400], "s": "\ud800", "deep": {"x": [1e999]}}"#);
        assert_eq!(o.get("big"), Some(Err("1e400")));
        assert_eq!(o.get("s"), Some(Err(r#""\ud800""#)));
        let params = Params { json: Some(o), ..Params::default() };
        let found = |name| params.get(name).expect("present");
        // A float reads such a number as an infinity, as Python's `float` does, alone or listed.
        assert_eq!(f64::from_found(found("big")), Ok(f64::INFINITY));
        assert_eq!(<Option<f64>>::from_found(found("neg")), Ok(Some(f64::NEG_INFINITY)));
        assert_eq!(<Vec<f64>>::from_found(found("list")), Ok(vec![1.0, f64::INFINITY]));
        // Other types refuse it with a 400 that says why, never as a JSON null.
        let refused = "unsupported JSON value: number out of range";
        assert_eq!(<Option<i64>>::from_found(found("big")), Err(refused.to_owned()));
        assert_eq!(<Vec<i64>>::from_found(found("list")), Err(refused.to_owned()));
        assert_eq!(<Option<Value>>::from_found(found("deep")), Err(refused.to_owned()));
        assert_eq!(serde_from_found::<Option<Value>>(found("deep")), Err(refused.to_owned()));
        let surrogate = <Option<String>>::from_found(found("s")).expect_err("a lone surrogate");
        assert_eq!(surrogate, "unsupported JSON value: lone UTF-16 surrogate in a string");
        assert_eq!(params.text("big").as_deref(), Some("1e400"));
        assert_eq!(found_repr(&found("deep")), r#"{"x": [1e999]}"#);
    }

    #[test]
    fn negative_zero_numbers_are_integers_at_any_depth() {
        let o = object(r#"{"v": [-0, -0.0, "a-0\"-0", {"k": -0}, -0e1, [ -0 ]], "w": -0, "x": -0.0}"#);
        let text = |name| o.get(name).expect("present").expect("a value").to_string();
        assert_eq!(text("v"), r#"[0,-0.0,"a-0\"-0",{"k":0},-0.0,[0]]"#);
        assert_eq!(text("w"), "0");
        assert_eq!(text("x"), "-0.0");
        assert_eq!(<Vec<i64>>::from_found(Found::Json(&json_value("[-0, 1]").unwrap())), Ok(vec![0, 1]));
        assert_eq!(json_text_depth(r#"[{"a": "[[-0"}, [-0]]"#), 2);
        // An exponent `-0` is no number of its own: `1e-0` is the float 1.0, as for `json.loads`.
        for (text, value) in [("1e-0", "1.0"), ("[2E-0, -0]", "[2.0,0]"), (r#"{"f": -1.5e-0}"#, r#"{"f":-1.5}"#)] {
            assert_eq!(json_value(text).map(|v| v.to_string()).as_deref(), Some(value), "{text}");
        }
    }

    #[test]
    fn repeated_keys_keep_their_last_value_in_text() {
        let last = |text: &str| {
            let mut out = String::new();
            last_members_only(text, &mut out).map(|()| out)
        };
        assert_eq!(
            last(r#" {"a": 1, "b": [{"c": 1, "c": 2}], "a": 100000000000000000000} "#).unwrap(),
            r#"{"b":[{"c":2}],"a":100000000000000000000}"#
        );
        assert_eq!(last(r#"{"\u0061": 1, "a": -0, "x\"": "\u00e9"}"#).unwrap(), r#"{"a":-0,"x\"":"\u00e9"}"#);
        assert_eq!(last("[1, [], {}, \"a\"]").unwrap(), r#"[1,[],{},"a"]"#);
        #[derive(Debug, serde::Deserialize, PartialEq)]
        struct Wide {
            x: i128,
            y: u128,
        }
        let wide = serde_from_json_text::<Wide>(r#"{"x": 1.5, "x": -100000000000000000000, "y": 1}"#);
        assert_eq!(wide, Ok(Wide { x: -100000000000000000000, y: 1 }));
        let map = serde_from_json_text::<std::collections::BTreeMap<String, Vec<i128>>>(
            r#"{"a": [1.5], "a": [100000000000000000000]}"#,
        );
        assert_eq!(map.map(|m| m["a"].clone()), Ok(vec![100000000000000000000]));
    }

    #[test]
    fn wide_integers_are_found_outside_strings() {
        for wide in [
            "18446744073709551616",
            "-9223372036854775809",
            "[1, 100000000000000000000]",
            r#"{"a": {"b": [-100000000000000000000]}}"#,
            r#"["x",100000000000000000000]"#,
        ] {
            assert!(holds_wide_integer(wide), "{wide}");
        }
        for narrow in [
            "18446744073709551615",
            "-9223372036854775808",
            "[1e100000000000000000000, 1.00000000000000000000, 100000000000000000000.0]",
            r#"["100000000000000000000", {"100000000000000000000": 1}]"#,
            r#"["a\"100000000000000000000", true, false, null]"#,
            "",
        ] {
            assert!(!holds_wide_integer(narrow), "{narrow}");
        }
        let lost = |text: &str| loses_integers(&json_value(text).expect("valid JSON"), text);
        assert!(lost("100000000000000000000") && lost("[1.5, 100000000000000000000]"));
        assert!(lost(" 100000000000000000000\n") && lost("-100000000000000000000"));
        assert!(!lost("1e20") && !lost("[1.5, 2]") && !lost("[100000000000000000000.0]") && !lost("\"1\""));
    }

    #[test]
    fn json_number_overflow_follows_json_grammar() {
        for (text, expected) in [
            ("1e400", Some(f64::INFINITY)),
            ("-1E+400", Some(f64::NEG_INFINITY)),
            ("12.5e999", Some(f64::INFINITY)),
            ("1e300", None),
            ("1e-400", None),
            ("01e400", None),
            ("1.e400", None),
            ("+1e400", None),
            ("1e", None),
            ("inf", None),
            ("\"1e400\"", None),
            ("12", None),
        ] {
            assert_eq!(json_number_overflow(text), expected, "{text}");
        }
        let long = format!("1{}", "0".repeat(400));
        assert_eq!(json_number_overflow(&long), Some(f64::INFINITY));
    }
}
