//! [`Fields<T>`]: a struct of request parameters, one per field, as axum's `Query<T>` or
//! FastAPI's parameter models give them.
//!
//! Each field is the request parameter of its (serde) name, looked up and converted as an
//! argument of the field's type would be: HTTP text with FlaskSimpleAuth's rules (`0x10` is an
//! int, `True` a bool, `null` an absent optional value, a repeated parameter a `Vec`), JSON
//! members type-checked, structured fields (structs, maps, tuples, enums with data) from JSON
//! text; a field whose type says nothing of what it wants (`serde_json::Value`, an untagged
//! enum, a flattened map's values) takes HTTP text as a string, where an argument of such a
//! type reads it as JSON when it is JSON. The field names are the route's
//! parameters for the unexpected-parameter check, read from the type's `Deserialize` impl when
//! the route is built (a struct with a `#[serde(flatten)]` field has no fixed list: the route
//! then takes any parameter, as with [`Kwargs`](crate::Kwargs), which then also collects the
//! struct's own fields). A type that is no struct with named fields is refused by
//! [`build`](crate::AppBuilder::build). `Option<Fields<T>>` is `None` when the request has
//! none of the fields.
//!
//! serde was chosen over a derive of our own: the field names, renames, defaults and nested
//! types users already write for their JSON models work here unchanged.

use std::cell::Cell;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::context::Context;
use crate::error::Error;
use crate::params::{Found, ObjectsOnly, Params, Scalar, found_repr, json_value, quoted};
use crate::route::{ArgKind, FieldNames};
use crate::special::Special;

/// Request parameters gathered in a struct: `paging: Fields<Paging>` reads `?page=2&size=10`
/// into `struct Paging { page: u32, size: Option<u32> }`, each field being the parameter of
/// its name (query string, form or JSON member), converted with the rules of an argument of
/// its type. A field without a value is refused as `parameter "page" is missing`, unless it
/// is an `Option` or has a `#[serde(default)]`; a value that does not convert is
/// `parameter "page" cast error on x: …` (every such field is named, one per line); a parameter
/// that is neither a field nor another argument is unexpected, as usual; when `T` has garde
/// rules, they are checked (`invalid parameters: page: lower than 1`). See the
/// [module docs](crate::fields) for the details.
///
/// ```
/// use fsa_runtime::Fields;
/// #[derive(serde::Deserialize)]
/// struct Paging {
///     #[serde(default)]
///     page: u32,
///     size: Option<u32>,
/// }
/// fn first(paging: Fields<Paging>) -> u32 {
///     paging.page * paging.size.unwrap_or(20) // `Fields<T>` derefs to `T`
/// }
/// # let _ = first;
/// ```
#[doc(alias = "Query")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields<T>(pub T);

crate::special::value_wrapper!(Fields);

impl<T: DeserializeOwned + Send> Special for Fields<T> {
    const KIND: ArgKind = ArgKind::Fields;
    fn field_names() -> FieldNames {
        let mut found = FieldNames::NotAStruct;
        let _ = T::deserialize(NameProbe(&mut found));
        found
    }
    async fn extract(ctx: &mut Context, _name: &'static str) -> Result<Self, Error> {
        Self::read(ctx).0
    }
    /// `None` when the request has none of the fields; a value that does not convert is still
    /// an error, as for an optional argument.
    async fn extract_optional(ctx: &mut Context, _name: &'static str) -> Result<Option<Self>, Error> {
        match Self::read(ctx) {
            (_, false) => Ok(None),
            (value, true) => value.map(Some),
        }
    }
}

impl<T: DeserializeOwned> Fields<T> {
    /// The most fields a 400 names: every bad one costs one more deserialization.
    const MAX_REPORTED: usize = 100;

    /// The value, and whether the request had any of the fields (a struct with a flattened
    /// field, which takes any name, is said to have them).
    ///
    /// serde stops at the first field that fails; so that a 400 names every bad field, as it
    /// names every bad argument, the struct is read again without each field that failed
    /// (which then reads as absent), until it reads or a field is missing. A field that is
    /// missing is reported unless it is one left out.
    fn read(ctx: &Context) -> (Result<Self, Error>, bool) {
        let seen = Cell::new(false);
        let auth_params = &ctx.app().inner.auth_params;
        let mut skipped: Vec<String> = Vec::new();
        let mut messages = Vec::new();
        loop {
            let request = Request { params: ctx.params(), auth_params, seen: &seen, skipped: &skipped };
            match T::deserialize(request) {
                Ok(value) if messages.is_empty() => return (Ok(Fields(value)), seen.get()),
                Ok(_) => break,
                Err(FieldError { message, cast_of: Some(name), .. }) => {
                    messages.push(message);
                    skipped.push(name);
                    if skipped.len() == Self::MAX_REPORTED {
                        break;
                    }
                }
                Err(FieldError { missing: Some(name), .. }) if skipped.iter().any(|s| s == name) => break,
                Err(FieldError { message, .. }) => {
                    messages.push(message);
                    break;
                }
            }
        }
        (Err(Error::bad_request(messages.join("\n"))), seen.get())
    }
}

/// The message of a 400, complete (`parameter "x" …`), and the field it is about.
#[derive(Debug)]
struct FieldError {
    message: String,
    /// The field whose value does not convert.
    cast_of: Option<String>,
    /// The field that is missing.
    missing: Option<&'static str>,
}

impl FieldError {
    fn new(message: String) -> Self {
        FieldError { message, cast_of: None, missing: None }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FieldError {}

impl de::Error for FieldError {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        FieldError::new(msg.to_string())
    }
    fn missing_field(field: &'static str) -> Self {
        FieldError { missing: Some(field), ..FieldError::new(format!("parameter \"{field}\" is missing")) }
    }
}

/// Tells the field names and stops.
struct NameProbe<'a>(&'a mut FieldNames);

impl<'de> de::Deserializer<'de> for NameProbe<'_> {
    type Error = FieldError;
    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, FieldError> {
        Err(de::Error::custom("no struct"))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, FieldError> {
        *self.0 = FieldNames::Fixed(fields);
        Err(de::Error::custom("probed"))
    }
    /// A struct with a flattened field asks for a map (and a map type too: it takes any name).
    fn deserialize_map<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, FieldError> {
        *self.0 = FieldNames::Any;
        Err(de::Error::custom("probed"))
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier
        ignored_any
    }
}

/// The request's parameters as a struct.
struct Request<'a> {
    params: &'a Params,
    /// The authentication parameters, never a struct's.
    auth_params: &'a [String],
    /// Set when the request has one of the fields.
    seen: &'a Cell<bool>,
    /// Fields read as absent: their value failed an earlier reading.
    skipped: &'a [String],
}

impl Request<'_> {
    fn keeps(&self, name: &str) -> bool {
        !self.skipped.iter().any(|s| s == name)
    }
}

impl<'de> de::Deserializer<'de> for Request<'de> {
    type Error = FieldError;
    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, FieldError> {
        Err(de::Error::custom("Fields<T> takes a struct with named fields"))
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, FieldError> {
        let present =
            fields.iter().copied().filter(|f| self.keeps(f)).filter_map(|f| self.params.get(f).map(|found| (f, found)));
        visitor.visit_map(Members { params: self.params, present, current: None, seen: self.seen })
    }
    /// A struct with a flattened field asks for every parameter: each name once (a set, so
    /// that a request of many names costs linear time), but the authentication parameters.
    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, FieldError> {
        self.seen.set(true);
        let mut once = HashSet::new();
        let names = self.params.all_request_names().filter(|n| once.insert(*n));
        let present = names
            .filter(|n| !self.auth_params.iter().any(|a| a == n) && self.keeps(n))
            .filter_map(|n| self.params.get(n).map(|found| (n, found)));
        visitor.visit_map(Members { params: self.params, present, current: None, seen: self.seen })
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct enum identifier
        ignored_any
    }
}

/// The fields that have a value, each with it.
struct Members<'a, I> {
    params: &'a Params,
    present: I,
    current: Option<(&'a str, Found<'a>)>,
    /// Set at the first field.
    seen: &'a Cell<bool>,
}

impl<'de, I: Iterator<Item = (&'de str, Found<'de>)>> MapAccess<'de> for Members<'de, I> {
    type Error = FieldError;
    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, FieldError> {
        match self.present.next() {
            Some((name, found)) => {
                self.seen.set(true);
                self.current = Some((name, found));
                seed.deserialize(name.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, FieldError> {
        let Some((name, found)) = self.current.take() else {
            return Err(de::Error::custom("a value without its field"));
        };
        let json_text = self.params.json_text(name);
        seed.deserialize(FieldValue { found, json_text }).map_err(|detail| FieldError {
            cast_of: Some(name.to_owned()),
            ..FieldError::new(format!("parameter \"{name}\" cast error on {}: {detail}", quoted(&found_repr(&found))))
        })
    }
}

/// Why a field's value does not convert (a nested field that is missing reads as serde says).
#[derive(Debug)]
struct Detail(String);

impl fmt::Display for Detail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Detail {}

impl de::Error for Detail {
    fn custom<M: fmt::Display>(msg: M) -> Self {
        Detail(msg.to_string())
    }
}

/// One field's value.
struct FieldValue<'a> {
    found: Found<'a>,
    /// A JSON member's text, which integers beyond 64 bits are read from exactly.
    json_text: Option<&'a str>,
}

impl<'a> FieldValue<'a> {
    /// A value without JSON text of its own (an item of a repeated parameter).
    fn of(found: Found<'a>) -> Self {
        FieldValue { found, json_text: None }
    }
}

/// A parameter's value read as JSON: the member itself, or HTTP text that is JSON, else the
/// text as a JSON string (a structured field given in the query string).
fn as_json(found: &Found<'_>) -> Result<Value, Detail> {
    match found {
        Found::Json(v) => Ok((*v).clone()),
        Found::JsonText(text) => json_value(text).ok_or_else(|| Detail("a value out of reach".to_owned())),
        Found::Path(s) => Ok(json_value(s).unwrap_or_else(|| Value::String((*s).to_owned()))),
        Found::Text(t) => Ok(json_value(t.first()).unwrap_or_else(|| Value::String(t.first().to_owned()))),
        Found::File(_) => Err(Detail("unexpected file".to_owned())),
    }
}

/// Hands the value, read as JSON, to serde's own deserializer of JSON values.
macro_rules! through_json {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Detail> {
            let value = as_json(&self.found)?;
            ObjectsOnly::owned(value).$method($($arg,)* visitor).map_err(|e| Detail(e.to_string()))
        }
    )*};
}

/// A scalar read with the rules of an argument of its type: HTTP text through
/// [`Scalar::from_text`], a JSON member through [`Scalar::from_json`].
macro_rules! scalar {
    ($($method:ident $t:ty => $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Detail> {
            let from_text = self.json_text.and_then(<$t as Scalar>::from_json_text);
            let value = match (&self.found, from_text) {
                (_, Some(value)) => Ok(value),
                (Found::Path(s), None) => <$t as Scalar>::from_text(s),
                (Found::Text(t), None) => <$t as Scalar>::from_text(t.first()),
                (Found::Json(v), None) => <$t as Scalar>::from_json(v),
                // A member a `Value` cannot hold, whose text the type did not read either.
                _ => return self.deserialize_any(visitor),
            };
            visitor.$visit(value.map_err(Detail)?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for FieldValue<'de> {
    type Error = Detail;

    scalar! {
        deserialize_bool bool => visit_bool;
        deserialize_i8 i8 => visit_i8;
        deserialize_i16 i16 => visit_i16;
        deserialize_i32 i32 => visit_i32;
        deserialize_i64 i64 => visit_i64;
        deserialize_i128 i128 => visit_i128;
        deserialize_u8 u8 => visit_u8;
        deserialize_u16 u16 => visit_u16;
        deserialize_u32 u32 => visit_u32;
        deserialize_u64 u64 => visit_u64;
        deserialize_u128 u128 => visit_u128;
        deserialize_f32 f32 => visit_f32;
        deserialize_f64 f64 => visit_f64;
        deserialize_char char => visit_char;
    }

    through_json! {
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    /// A type that says nothing of what it wants (a flattened map's values, `Value`): HTTP
    /// text is a string, a JSON member itself.
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Detail> {
        match self.found {
            Found::Path(s) => visitor.visit_borrowed_str(s),
            Found::Text(t) => visitor.visit_borrowed_str(t.first()),
            found => {
                let value = as_json(&found)?;
                ObjectsOnly::owned(value).deserialize_any(visitor).map_err(|e| Detail(e.to_string()))
            }
        }
    }
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Detail> {
        match self.found {
            Found::Path(s) => visitor.visit_borrowed_str(s),
            Found::Text(t) => visitor.visit_borrowed_str(t.first()),
            Found::Json(v) => match v {
                Value::String(s) => visitor.visit_borrowed_str(s),
                other => Err(de::Error::invalid_type(unexpected(other), &visitor)),
            },
            Found::JsonText(_) | Found::File(_) => self.deserialize_any(visitor),
        }
    }
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Detail> {
        self.deserialize_str(visitor)
    }
    /// Present is `Some`, but the text `null` (as for an optional argument) or JSON `null`.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Detail> {
        match &self.found {
            Found::Text(t) if t.first() == "null" => visitor.visit_none(),
            Found::Json(Value::Null) => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _name: &'static str, visitor: V) -> Result<V::Value, Detail> {
        visitor.visit_newtype_struct(self)
    }
    /// Every value of a repeated HTTP parameter, or a JSON array (also as the text of one
    /// HTTP parameter, `[1, 2]`).
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Detail> {
        match self.found {
            Found::Text(t) if !t.is_repeated() && t.first().trim_start().starts_with('[') => {
                let value = as_json(&self.found)?;
                ObjectsOnly::owned(value).deserialize_seq(visitor).map_err(|e| Detail(e.to_string()))
            }
            Found::Text(t) => visitor.visit_seq(Repeated { values: t.iter() }),
            found => FieldValue::of(found).deserialize_any(visitor),
        }
    }
}

/// The kind of a JSON value, for type errors.
fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(_) => de::Unexpected::Other("number"),
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

/// The values of a repeated HTTP parameter, each converted as the item type wants.
struct Repeated<I> {
    values: I,
}

impl<'de, I: Iterator<Item = &'de str>> SeqAccess<'de> for Repeated<I> {
    type Error = Detail;
    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Detail> {
        match self.values.next() {
            Some(text) => seed.deserialize(FieldValue::of(Found::Path(text))).map(Some),
            None => Ok(None),
        }
    }
}
