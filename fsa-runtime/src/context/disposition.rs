//! The `name` and `filename` of a multipart part, read from its `Content-Disposition` header
//! the way Werkzeug's `parse_options_header` reads them, so that an upload's file name is the
//! one a FlaskSimpleAuth application would see:
//!
//! - a quoted value loses its quotes and backslash escapes, and `%22` becomes `"` (the HTML
//!   standard's escape, which browsers and Python's `requests` write for a quote);
//! - `filename*=UTF-8''na%C3%AFve.txt` (RFC 2231 / RFC 5987) is percent-decoded when its
//!   charset is ASCII, UTF-8 or ISO-8859-1, and left as written otherwise;
//! - `filename*0=…; filename*1=…` continuations are joined, in the order they come;
//! - a later parameter of the same name replaces an earlier one.
//!
//! multer, which splits the parts, reads only the plain quoted or token forms and keeps `%22`
//! as it is, hence this small reader. It runs once per part, never on other requests.

use std::collections::HashMap;

/// The `name` and `filename` parameters of a `Content-Disposition` value (either may be
/// missing).
pub(crate) fn form_data_names(value: &str) -> (Option<String>, Option<String>) {
    let mut options = options(value);
    (options.remove("name"), options.remove("filename"))
}

/// A token character of RFC 9110 (ASCII letters, digits and `!#$%&'*+-.^_`|~`).
fn is_token(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// The parameters after the first `;`, as (lower-case key, raw value) pairs; a part that
/// does not parse is skipped, and an unterminated quoted value ends the list.
fn raw_parts(value: &str) -> Vec<(String, &str)> {
    let Some((kind, rest)) = value.split_once(';') else { return Vec::new() };
    let rest = rest.trim_matches([' ', '\t']);
    if kind.trim_matches([' ', '\t']).is_empty() {
        return Vec::new();
    }
    let b = rest.as_bytes();
    let mut parts = Vec::new();
    let mut pos = 0;
    while pos < b.len() {
        let key_end = pos + b[pos..].iter().take_while(|&&c| is_token(c)).count();
        if key_end > pos && b.get(key_end) == Some(&b'=') {
            let key = rest[pos..key_end].to_ascii_lowercase();
            pos = key_end + 1;
            let token_end = pos + b[pos..].iter().take_while(|&&c| is_token(c)).count();
            if token_end > pos {
                parts.push((key, &rest[pos..token_end]));
                pos = token_end;
            } else if b.get(pos) == Some(&b'"') {
                let mut q = pos + 1;
                loop {
                    match b.get(q) {
                        None => return parts,
                        Some(b'\\') if matches!(b.get(q + 1), Some(b'\\' | b'"')) => q += 2,
                        Some(b'"') => break,
                        Some(_) => q += 1,
                    }
                }
                parts.push((key, &rest[pos..=q]));
                pos = q + 1;
            }
        }
        match rest[pos..].find(';') {
            Some(d) => pos += d + 1 + b[pos + d + 1..].iter().take_while(|&&c| c == b' ' || c == b'\t').count(),
            None => break,
        }
    }
    parts
}

/// Splits RFC 2231's marks off a key: `key*N` is a continuation, a trailing `*` announces a
/// charset. Returns (key, continuation, charset).
fn split_marks(key: &str) -> (&str, bool, bool) {
    let (key, charset) = key.strip_suffix('*').map_or((key, false), |k| (k, true));
    let digits = key.len() - key.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    match key[..key.len() - digits].strip_suffix('*') {
        Some(base) if digits > 0 => (base, true, charset),
        _ => (key, false, charset),
    }
}

/// `charset'language'value`, as (lower-case charset, value).
fn charset_value(v: &str) -> Option<(String, &str)> {
    let attr = |s: &str| s.bytes().all(|c| c != b'\'' && is_token(c));
    let (charset, rest) = v.split_once('\'')?;
    let (language, value) = rest.split_once('\'')?;
    (attr(charset) && attr(language) && !value.is_empty() && value.bytes().all(is_token))
        .then(|| (charset.to_ascii_lowercase(), value))
}

/// Percent-decodes `value` and reads the bytes in `charset` (one of the three Werkzeug
/// accepts), bytes that do not fit becoming U+FFFD; `None` for any other charset.
fn decode(value: &str, charset: &str) -> Option<String> {
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(value).collect();
    match charset {
        "utf-8" => Some(String::from_utf8_lossy(&bytes).into_owned()),
        "ascii" | "us-ascii" => {
            Some(bytes.iter().map(|&c| if c.is_ascii() { c as char } else { '\u{FFFD}' }).collect())
        }
        "iso-8859-1" => Some(bytes.iter().map(|&c| c as char).collect()),
        _ => None,
    }
}

/// A quoted value without its quotes and backslash escapes (any escaped character but a line
/// break stands for itself), then `%22` as `"`.
fn unquote(v: &str) -> String {
    let unslashed = match v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) {
        Some(inner) if v.len() >= 2 => {
            let mut out = String::with_capacity(inner.len());
            let mut chars = inner.chars();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.clone().next() {
                        Some(n) if n != '\n' => {
                            out.push(n);
                            chars.next();
                        }
                        _ => out.push(c),
                    },
                    _ => out.push(c),
                }
            }
            out
        }
        _ => v.to_owned(),
    };
    unslashed.replace("%22", "\"")
}

/// The parameters of a header value with their charsets and continuations resolved.
fn options(value: &str) -> HashMap<String, String> {
    let mut options: HashMap<String, String> = HashMap::new();
    let mut continued: HashMap<String, Vec<String>> = HashMap::new();
    let mut continued_charset: HashMap<String, String> = HashMap::new();
    for (raw_key, raw) in raw_parts(value) {
        let (key, continuation, has_charset) = split_marks(&raw_key);
        let mut charset = None;
        let value = if has_charset {
            let mut text = raw;
            if let Some((cs, v)) = charset_value(raw) {
                charset = Some(cs);
                text = v;
            }
            if charset.as_deref().unwrap_or("").is_empty() && continuation {
                charset = continued_charset.get(key).cloned();
            }
            charset.as_deref().and_then(|cs| decode(text, cs)).unwrap_or_else(|| text.to_owned())
        } else {
            unquote(raw)
        };
        if continuation {
            options.remove(key);
            continued.entry(key.to_owned()).or_default().push(value);
            if let Some(cs) = charset.filter(|cs| !cs.is_empty()) {
                continued_charset.insert(key.to_owned(), cs);
            }
        } else {
            continued.remove(key);
            continued_charset.remove(key);
            options.insert(key.to_owned(), value);
        }
    }
    options.extend(continued.into_iter().map(|(k, v)| (k, v.concat())));
    options
}

#[cfg(test)]
mod tests {
    use super::form_data_names;

    fn names(v: &str) -> (Option<String>, Option<String>) {
        form_data_names(v)
    }

    fn some(name: &str, file: &str) -> (Option<String>, Option<String>) {
        (Some(name.into()), Some(file.into()))
    }

    #[test]
    fn plain_and_quoted_values() {
        assert_eq!(names(r#"form-data; name="doc"; filename="a b.txt""#), some("doc", "a b.txt"));
        assert_eq!(names("form-data; name=doc; filename=a.txt"), some("doc", "a.txt"));
        assert_eq!(names(r#"form-data; name="label""#), (Some("label".into()), None));
        assert_eq!(names(r#"form-data; NAME="doc"; FileName="x""#), some("doc", "x"), "keys are case-insensitive");
        assert_eq!(names(r#"form-data; name="doc"; filename="""#), some("doc", ""));
        assert_eq!(names(r#"form-data; name="doc"; filename="naïve.txt""#), some("doc", "naïve.txt"));
        assert_eq!(names(r#"form-data; name="doc";filename="a";  filename="b""#), some("doc", "b"), "the last wins");
    }

    #[test]
    fn escaped_quotes() {
        assert_eq!(names(r#"form-data; name="doc"; filename="my %22doc%22.txt""#), some("doc", r#"my "doc".txt"#));
        assert_eq!(names(r#"form-data; name="doc"; filename="a\"b\\c\d.txt""#), some("doc", r#"a"b\cd.txt"#));
        assert_eq!(names(r#"form-data; name="doc"; filename="a;b.txt""#), some("doc", "a;b.txt"));
    }

    #[test]
    fn charsets_and_continuations() {
        assert_eq!(names("form-data; name=doc; filename*=UTF-8''na%C3%AFve%20file.txt"), some("doc", "naïve file.txt"));
        assert_eq!(names("form-data; name=doc; filename*=iso-8859-1'en'caf%E9.txt"), some("doc", "café.txt"));
        assert_eq!(names("form-data; name=doc; filename*=us-ascii''%E9"), some("doc", "\u{FFFD}"));
        assert_eq!(
            names("form-data; name=doc; filename*=koi8-r''%E9"),
            some("doc", "%E9"),
            "other charsets stay as written"
        );
        assert_eq!(
            names(r#"form-data; name=doc; filename="plain.txt"; filename*=UTF-8''%E2%82%AC.txt"#),
            some("doc", "€.txt")
        );
        assert_eq!(
            names("form-data; name=doc; filename*0=\"long\"; filename*1=\"-name.txt\""),
            some("doc", "long-name.txt")
        );
        assert_eq!(
            names("form-data; name=doc; filename*0*=UTF-8''%E2%82%AC; filename*1*=%E2%82%AC"),
            some("doc", "€€")
        );
    }

    #[test]
    fn broken_values() {
        assert_eq!(names("form-data"), (None, None));
        assert_eq!(names("; name=doc"), (None, None), "no disposition type");
        assert_eq!(names(r#"form-data; name="doc"; filename="unterminated"#), (Some("doc".into()), None));
        assert_eq!(names(r#"form-data; junk; name="doc"; =x; filename="f""#), some("doc", "f"));
    }
}
