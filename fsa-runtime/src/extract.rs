//! Argument extraction used by generated code, through autoref-based dispatch.
//!
//! For an argument of type `T` the route macro emits `(&&&&&&Arg::<T>::NEW).via()`, once, in a
//! function returning `impl` [`ArgVia<T>`], and calls `extract`, `nature` and `path_ok` on
//! what it returns. Method resolution picks the first tier that applies to `T`, in this order:
//! 0. a whole JSON body ([`JsonBody<T>`](crate::JsonBody)) or a struct of parameters
//!    ([`Fields<T>`](crate::Fields)), also in an `Option` or an `fsa::Result`, whose `T` has
//!    garde rules ([`BodyRules`]): [`ViaValidBody`], which reads it as a special and
//!    validates it;
//! 1. [`Special`] types (current user, headers, state, your own, and registered casts
//!    [`Cast<T>`](crate::params::Cast)): [`ViaSpecial`];
//! 2. [`FromParam`] types (scalars, `Option`, `Vec`): [`ViaParam`];
//! 3. `serde::Deserialize` + `garde::Validate` types: [`ViaValidate`];
//! 4. any other `serde::Deserialize` type: [`ViaSerde`];
//! 5. any other type: [`ViaUnsupported`], whose tier asks for [`HandlerArgument`], which no
//!    type has, so that such an argument is one error saying what an argument can be.
//!
//! This is what lets a plain `#[derive(Deserialize)]` struct be an argument without any extra
//! derive, while scalars keep FlaskSimpleAuth's text conversion rules.

use std::future::{Future, ready};
use std::marker::PhantomData;

use serde::de::DeserializeOwned;

use crate::context::Context;
use crate::error::Error;
use crate::fields::Fields;
use crate::params::{
    Found, FromParam, conversion_error, found_repr, garde_report, quoted, serde_from_found, serde_when_absent,
};
use crate::route::{ArgKind, ArgNature};
use crate::special::{JsonBody, Special};

/// Type carrier for autoref dispatch.
pub struct Arg<T>(PhantomData<fn() -> T>);

impl<T> Arg<T> {
    /// The only value.
    pub const NEW: Self = Arg(PhantomData);
}

fn missing(name: &str) -> Error {
    Error::bad_request(format!("parameter \"{name}\" is missing"))
}

/// The 404 of a path segment whose value the parameter's type cannot hold.
#[cold]
fn beyond_type(name: &str, segment: &str, detail: String) -> Error {
    Error::not_found(format!("parameter \"{name}\" names nothing: {}: {detail}", quoted(segment)))
}

/// Whether an argument's error is a 404, such as [`beyond_type`]'s: it comes after the other
/// arguments' errors.
fn names_nothing(e: &Error) -> bool {
    e.status() == http::StatusCode::NOT_FOUND
}

/// For the types whose every path segment converts or is refused as a 400.
fn never_beyond(_segment: &str) -> bool {
    false
}

/// `beyond` tells a path segment that names nothing the type can hold (see
/// [`FromParam::path_beyond_type`]): its refusal is a 404, the others' a 400.
fn lookup<T>(
    ctx: &Context,
    name: &'static str,
    default: Option<impl FnOnce() -> T>,
    absent: impl FnOnce() -> Option<T>,
    convert: impl FnOnce(Found<'_>) -> Result<T, String>,
    repr: impl FnOnce(&Found<'_>) -> String,
    beyond: fn(&str) -> bool,
) -> Result<T, Error> {
    match ctx.params().get(name) {
        Some(found) => convert(found).map_err(|detail| match found {
            Found::Path(segment) if beyond(segment) => beyond_type(name, segment, detail),
            _ => conversion_error("parameter", name, &repr(&found), detail),
        }),
        None => match default {
            Some(d) => Ok(d()),
            None => absent().ok_or_else(|| missing(name)),
        },
    }
}

/// What an argument's tier does: where the value comes from, and its extraction.
///
/// Generated code asks for the tier once per argument, in a function returning
/// `impl ArgVia<T>` (`(&&&&&&Arg::<T>::NEW).via()`), and calls these methods on that: a type that
/// no tier accepts is then one compile error, on the argument's type.
pub trait ArgVia<T>: Copy {
    /// Extracts the argument.
    fn extract<'a, D: FnOnce() -> T + Send + 'a>(
        self,
        ctx: &'a mut Context,
        name: &'static str,
        default: Option<D>,
    ) -> impl Future<Output = Result<T, Error>> + Send;
    /// Where the argument's value comes from, and the state it needs.
    fn nature(self) -> ArgNature;
    /// Path segment check.
    fn path_ok(self, segment: &str) -> bool;
}

/// A tier's type and the trait whose `via` answers it.
macro_rules! tier_type {
    ($(#[$doc:meta])* $tier:ident, $via:ident) => {
        $(#[$doc])*
        pub struct $tier<T>(PhantomData<fn() -> T>);

        impl<T> Clone for $tier<T> {
            fn clone(&self) -> Self {
                *self
            }
        }

        impl<T> Copy for $tier<T> {}

        $(#[$doc])*
        pub trait $via<T> {
            /// This tier.
            fn via(&self) -> $tier<T>;
        }
    };
}

/// A tier for every `T` with these bounds.
macro_rules! tier {
    ($(#[$doc:meta])* $tier:ident, $via:ident, $arg:ty, $($bounds:tt)*) => {
        tier_type!($(#[$doc])* $tier, $via);

        impl<T> $via<T> for $arg
        where
            $($bounds)*
        {
            fn via(&self) -> $tier<T> {
                $tier(PhantomData)
            }
        }
    };
}

tier!(
    /// Tier 1: special arguments.
    SpecialTier, ViaSpecial, &&&&Arg<T>, T: Special + 'static
);
tier!(
    /// Tier 2: [`FromParam`] arguments.
    ParamTier, ViaParam, &&&Arg<T>, T: FromParam
);
tier!(
    /// Tier 3: serde types validated with garde.
    ValidateTier, ViaValidate, &&Arg<T>, T: DeserializeOwned + garde::Validate + Send, T::Context: Default
);
tier!(
    /// Tier 4: any other serde type.
    SerdeTier, ViaSerde, &Arg<T>, T: DeserializeOwned + Send
);
tier!(
    /// Tier 5: any other type, which no argument can have (see [`HandlerArgument`]).
    UnsupportedTier, ViaUnsupported, Arg<T>,
);

/// The value of a text default, `#[default("…")]`, for the argument types that hold text
/// (each one an argument type: a type no tier takes would be of no use here).
#[diagnostic::on_unimplemented(
    message = "a text default does not fit `{Self}`",
    label = "a string literal",
    note = "`#[default(\"…\")]` is for text arguments (`String`, `Box<str>`, `Cow<'static, str>`, `PathBuf`, `serde_json::Value`, or an `Option` of one); for another type, give a value of that type, e.g. `#[default(10)]`"
)]
pub trait TextDefault {
    /// The argument's value.
    fn from_text(text: &'static str) -> Self;
}

macro_rules! text_defaults {
    ($($ty:ty),*) => {$(
        impl TextDefault for $ty {
            fn from_text(text: &'static str) -> Self {
                <$ty>::from(text)
            }
        }

        impl TextDefault for Option<$ty> {
            fn from_text(text: &'static str) -> Self {
                Some(<$ty>::from(text))
            }
        }
    )*};
}

text_defaults!(String, Box<str>, std::borrow::Cow<'static, str>, std::path::PathBuf, serde_json::Value);

/// What no type is: the bound of the last tier, so that an argument of a type that no other
/// tier accepts is one error, in these words, on its type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a route handler argument",
    label = "neither a request parameter nor a type the framework fills",
    note = "a request parameter has a `FromParam` type (text, numbers, bool, dates, UUIDs, …, or an `Option` or a `Vec` of one) or a `serde::Deserialize + Send` type (read from a JSON member)",
    note = "a type the framework fills implements `fsa::Special` (`CurrentUser`, `Header<T>`, `Cookie<T>`, `RequestHead`, …); `State<T>` needs `T: Send + Sync + 'static`, `JsonBody<T>` and `Fields<T>` a `serde::Deserialize` `T`"
)]
// `Send`, as every argument must be, so that the unreachable `extract` below is `Send`.
pub trait HandlerArgument: Send {
    /// Never called: no type implements the trait.
    fn never() -> std::convert::Infallible;
}

// Its bodies cannot run, as no `T` exists: each matches on the `Infallible` it cannot get.
#[allow(unreachable_code)]
impl<T: HandlerArgument> ArgVia<T> for UnsupportedTier<T> {
    #[allow(clippy::manual_async_fn)]
    fn extract<'a, D: FnOnce() -> T + Send + 'a>(
        self,
        _ctx: &'a mut Context,
        _name: &'static str,
        _default: Option<D>,
    ) -> impl Future<Output = Result<T, Error>> + Send {
        ready(match T::never() {})
    }
    fn nature(self) -> ArgNature {
        match T::never() {}
    }
    fn path_ok(self, _segment: &str) -> bool {
        match T::never() {}
    }
}

tier_type!(
    /// Tier 0: a whole JSON body or a struct of parameters whose type has garde rules,
    /// validated once read.
    ValidBodyTier, ViaValidBody
);

// One impl per shape rather than one for every `T: BodyRules`: a type that no tier accepts
// then gets a compile error that does not list this tier's bounds.
macro_rules! valid_body_shapes {
    ($($shape:ty),*) => {$(
        impl<T> ViaValidBody<$shape> for &&&&&Arg<$shape>
        where
            T: DeserializeOwned + garde::Validate + Send + 'static,
            T::Context: Default,
        {
            fn via(&self) -> ValidBodyTier<$shape> {
                ValidBodyTier(PhantomData)
            }
        }
    )*};
}

valid_body_shapes!(
    JsonBody<T>,
    Option<JsonBody<T>>,
    Result<JsonBody<T>, Error>,
    Fields<T>,
    Option<Fields<T>>,
    Result<Fields<T>, Error>
);

/// A whole body or a struct of parameters with garde rules, as an argument takes it:
/// `JsonBody<T>` or `Fields<T>` where `T` has rules (with a context that has a default),
/// optional (`Option<…>`) or with its error handed over (`fsa::Result<…>`).
pub trait BodyRules: Sized {
    /// The value if it keeps its rules, else the 400 listing garde's complaints; the error of
    /// an `fsa::Result<…>` argument is its `Err`.
    fn checked(self) -> Result<Self, Error>;
}

impl<T: garde::Validate<Context: Default>> BodyRules for JsonBody<T> {
    /// Worded as a body that does not deserialize.
    fn checked(self) -> Result<Self, Error> {
        keeps_rules(&self.0, "invalid JSON body").map(|()| self)
    }
}

impl<T: garde::Validate<Context: Default>> BodyRules for Fields<T> {
    fn checked(self) -> Result<Self, Error> {
        keeps_rules(&self.0, "invalid parameters").map(|()| self)
    }
}

/// garde's check of a value; the 400 listing its complaints after `what`.
fn keeps_rules<T: garde::Validate<Context: Default>>(value: &T, what: &str) -> Result<(), Error> {
    value.validate().map_err(|report| Error::bad_request(format!("{what}: {}", garde_report(&report))))
}

impl<T: BodyRules> BodyRules for Option<T> {
    fn checked(self) -> Result<Self, Error> {
        self.map(T::checked).transpose()
    }
}

impl<T: BodyRules> BodyRules for Result<T, Error> {
    fn checked(self) -> Result<Self, Error> {
        Ok(self.and_then(T::checked))
    }
}

/// Read as a special (tier 1), then checked.
impl<T: Special + BodyRules + 'static> ArgVia<T> for ValidBodyTier<T> {
    #[allow(clippy::manual_async_fn)]
    fn extract<'a, D: FnOnce() -> T + Send + 'a>(
        self,
        ctx: &'a mut Context,
        name: &'static str,
        default: Option<D>,
    ) -> impl Future<Output = Result<T, Error>> + Send {
        async move {
            // A default is the handler's own value, not validated (as for any parameter).
            let mut defaulted = false;
            let default = default.map(|d| {
                || {
                    defaulted = true;
                    d()
                }
            });
            let value = SpecialTier(PhantomData).extract(ctx, name, default).await?;
            if defaulted { Ok(value) } else { value.checked() }
        }
    }
    fn nature(self) -> ArgNature {
        SpecialTier::<T>(PhantomData).nature()
    }
    fn path_ok(self, segment: &str) -> bool {
        SpecialTier::<T>(PhantomData).path_ok(segment)
    }
}

impl<T: Special + 'static> ArgVia<T> for SpecialTier<T> {
    // An `async fn` in a trait impl would not say that its future is `Send`.
    #[allow(clippy::manual_async_fn)]
    fn extract<'a, D: FnOnce() -> T + Send + 'a>(
        self,
        ctx: &'a mut Context,
        name: &'static str,
        default: Option<D>,
    ) -> impl Future<Output = Result<T, Error>> + Send {
        async move {
            match default {
                Some(d) => Ok(T::extract_optional(ctx, name).await?.unwrap_or_else(d)),
                None => T::extract(ctx, name).await,
            }
        }
    }
    fn nature(self) -> ArgNature {
        ArgNature { kind: T::KIND, state: T::STATE, fields: T::field_names, authenticates: T::AUTHENTICATES }
    }
    fn path_ok(self, _segment: &str) -> bool {
        // Specials never come from the path, except request-kind ones such as `Cast<T>`.
        T::KIND == ArgKind::Request
    }
}

impl<T: FromParam> ArgVia<T> for ParamTier<T> {
    fn extract<'a, D: FnOnce() -> T + Send + 'a>(
        self,
        ctx: &'a mut Context,
        name: &'static str,
        default: Option<D>,
    ) -> impl Future<Output = Result<T, Error>> + Send {
        // A JSON member of a common type converts straight from its text.
        if let Some(value) = ctx.params().json_text(name).and_then(T::from_json_text) {
            return ready(Ok(value));
        }
        ready(lookup(ctx, name, default, T::when_absent, T::from_found, T::value_repr, T::path_beyond_type))
    }
    fn nature(self) -> ArgNature {
        ArgNature::REQUEST
    }
    fn path_ok(self, segment: &str) -> bool {
        T::path_segment_ok(segment)
    }
}

impl<T> ArgVia<T> for ValidateTier<T>
where
    T: DeserializeOwned + garde::Validate + Send,
    T::Context: Default,
{
    fn extract<'a, D: FnOnce() -> T + Send + 'a>(
        self,
        ctx: &'a mut Context,
        name: &'static str,
        default: Option<D>,
    ) -> impl Future<Output = Result<T, Error>> + Send {
        // Validation failures read like other conversion errors, the detail listing every
        // field: `parameter "p" cast error on {…}: age: lower than 18; login: …`. Defaults are
        // the handler's own values and are not validated.
        let convert = |found: Found<'_>| {
            serde_from_found::<T>(found).and_then(|v| v.validate().map(|()| v).map_err(|report| garde_report(&report)))
        };
        ready(lookup(ctx, name, default, serde_when_absent::<T>, convert, found_repr, never_beyond))
    }
    fn nature(self) -> ArgNature {
        ArgNature::REQUEST
    }
    fn path_ok(self, _segment: &str) -> bool {
        true
    }
}

impl<T: DeserializeOwned + Send> ArgVia<T> for SerdeTier<T> {
    fn extract<'a, D: FnOnce() -> T + Send + 'a>(
        self,
        ctx: &'a mut Context,
        name: &'static str,
        default: Option<D>,
    ) -> impl Future<Output = Result<T, Error>> + Send {
        ready(lookup(ctx, name, default, serde_when_absent::<T>, serde_from_found::<T>, found_repr, never_beyond))
    }
    fn nature(self) -> ArgNature {
        ArgNature::REQUEST
    }
    fn path_ok(self, _segment: &str) -> bool {
        true
    }
}

/// Collects the parameter errors of one request so that all are reported in one 400.
#[derive(Debug, Default)]
pub struct ParamErrors {
    messages: Vec<String>,
    /// Boxed: the collector lives in every handler's future, across each argument's extraction.
    other: Option<Box<Error>>,
    /// Where the unexpected-name messages start and how many unexpected names there are:
    /// their messages are found before any argument is extracted, in one block, and listed
    /// last, after the arguments' errors, as upstream lists them. Names beyond the most a 400
    /// lists are counted but get no message: a body of a million unknown names must not cost
    /// a million messages.
    unexpected: (u32, u32),
}

impl ParamErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a 400 message (a path segment also sent in the request, a hook's own check);
    /// unexpected names come through `set_unexpected`.
    pub fn push(&mut self, message: String) {
        self.messages.push(message);
    }

    /// Records the request's unexpected parameters, once, before any argument is extracted:
    /// the messages of the first ones, of which at most [`MAX_LISTED`](Self::MAX_LISTED) are
    /// kept, and how many there are in all. They are listed after the arguments' errors.
    pub(crate) fn set_unexpected(&mut self, mut messages: Vec<String>, total: usize) {
        messages.truncate(Self::MAX_LISTED);
        let start = u32::try_from(self.messages.len()).unwrap_or(u32::MAX);
        self.unexpected = (start, u32::try_from(total).unwrap_or(u32::MAX));
        self.messages.extend(messages);
    }

    /// Keeps the value, or records its error and returns `None`.
    pub fn take<T>(&mut self, r: Result<T, Error>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) if e.status() == http::StatusCode::BAD_REQUEST => {
                self.messages.push(e.message().to_owned());
                None
            }
            Err(e) => {
                // The first such error, but a 404 (a value that names nothing) gives way to any
                // other, as it gives way to the 400s in `into_error`.
                if self.other.as_deref().is_none_or(|o| names_nothing(o) && !names_nothing(&e)) {
                    self.other = Some(Box::new(e));
                }
                None
            }
        }
    }

    /// Whether no error was recorded.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.other.is_none()
    }

    /// The most messages a 400 lists; the rest are counted on a last line, so that a request
    /// with a huge number of bad parameters does not get a larger answer still.
    pub const MAX_LISTED: usize = 100;

    /// The error to answer: a non-400 error first (e.g. 401 from a special argument), else one
    /// 400 listing every message, one per line (at most [`MAX_LISTED`](Self::MAX_LISTED), then
    /// `and N more parameter errors`). A 404 (a path id beyond its type, which names nothing)
    /// comes after the 400s, as FlaskSimpleAuth checks every parameter before an object
    /// permission finds nothing.
    pub fn into_error(self) -> Error {
        if let Some(e) = self.other
            && (!names_nothing(&e) || self.messages.is_empty())
        {
            return *e;
        }
        if self.messages.is_empty() {
            return Error::internal("parameter extraction failed without a message");
        }
        let mut messages = self.messages;
        let start = (self.unexpected.0 as usize).min(messages.len());
        // The unexpected names with a message (the first `MAX_LISTED`).
        let count = (self.unexpected.1 as usize).min(Self::MAX_LISTED).min(messages.len() - start);
        messages[start..].rotate_left(count);
        let unlisted = self.unexpected.1 as usize - count;
        let listed = messages.len().min(Self::MAX_LISTED);
        let more = messages.len() - listed + unlisted;
        let mut text = messages[..listed].join("\n");
        if more > 0 {
            text.push_str(&format!("\nand {more} more parameter errors"));
        }
        Error::bad_request(text)
    }

    /// `Err` when any error was recorded.
    pub fn check(self) -> Result<(), Error> {
        if self.is_empty() { Ok(()) } else { Err(self.into_error()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(errors: ParamErrors) -> u16 {
        errors.into_error().status().as_u16()
    }

    /// A 404 (a path id beyond its type) gives way to the 400s of the other parameters and to
    /// any other error (a 401 of an on-demand login), whichever comes first.
    #[test]
    fn a_not_found_parameter_comes_after_the_others() {
        let not_found = || Err::<(), _>(Error::not_found("names nothing"));
        let mut alone = ParamErrors::new();
        alone.take(not_found());
        assert_eq!(status(alone), 404);
        let mut with_400 = ParamErrors::new();
        with_400.take(not_found());
        with_400.take(Err::<(), _>(Error::bad_request("parameter \"n\" is missing")));
        let e = with_400.into_error();
        assert_eq!((e.status().as_u16(), e.message()), (400, "parameter \"n\" is missing"));
        let mut with_401 = ParamErrors::new();
        with_401.take(not_found());
        with_401.take(Err::<(), _>(Error::new(http::StatusCode::UNAUTHORIZED, "no login")));
        with_401.take(not_found());
        assert_eq!(status(with_401), 401);
        let mut first_stays = ParamErrors::new();
        first_stays.take(Err::<(), _>(Error::new(http::StatusCode::FORBIDDEN, "no")));
        first_stays.take(Err::<(), _>(Error::new(http::StatusCode::UNAUTHORIZED, "no login")));
        assert_eq!(status(first_stays), 403);
    }
}
