//! hyper's own answers to a request head it cannot read, given a body in the app's error
//! format.
//!
//! hyper's HTTP/1 server answers a head it cannot parse by itself, before the app sees any
//! request: 400 (a malformed request line or header), 414 (a request target longer than it
//! reads) or 431 (a head larger than `FSA_SERVER_MAX_HEADER_SIZE`), each with
//! `connection: close`, `content-length: 0` and `date`, then it closes the connection. The
//! connection's socket ([`Watched`](super::connection::Watched)) recognizes such an answer as
//! hyper writes it, a write of exactly that form when no handler has answered since the
//! previous write, and writes in its place the same head with a body: the message in
//! `FSA_ERROR_RESPONSE`'s format, as the app's own 4xx answers have it. The error hook
//! (`AppBuilder::error_response`) is not called: there is no request to give it.
//!
//! hyper has no setting for these answers; reading the head before hyper does would cost
//! every request a second parse, where this costs the writes of a connection one comparison.

use crate::error::ErrorFormat;

/// The message of each answer hyper writes for a head it cannot read.
fn message(status: &[u8]) -> Option<&'static str> {
    match status {
        b"400" => Some("malformed request head"),
        b"414" => Some("request target too long"),
        b"431" => Some("request head too large"),
        _ => None,
    }
}

/// Whether a write that no handler's answer preceded may be one of hyper's answers: the
/// quick test made before [`rewrite`], which a response body's piece fails at once.
#[inline]
pub(crate) fn may_be(written: &[u8]) -> bool {
    written.starts_with(b"HTTP/1.1 4")
}

/// The answer to write in place of `written`, if `written` is exactly one of hyper's answers
/// to a head it cannot read: its status line and headers, a content type and the message in
/// `format`.
pub(crate) fn rewrite(written: &[u8], format: &ErrorFormat) -> Option<Vec<u8>> {
    let head = written.strip_suffix(b"\r\n\r\n")?;
    let mut lines = head.split(|&b| b == b'\n').map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let status_line = lines.next()?;
    let msg = message(status_line.strip_prefix(b"HTTP/1.1 ")?.get(..3)?)?;
    let (mut close, mut empty, mut date) = (false, false, None);
    for line in lines {
        match line {
            b"connection: close" if !close => close = true,
            b"content-length: 0" if !empty => empty = true,
            _ if date.is_none() && line.starts_with(b"date: ") => date = Some(line),
            // Any other header: not one of these answers.
            _ => return None,
        }
    }
    if !(close && empty) {
        return None;
    }
    let (content_type, body) = format.render(msg);
    let mut out = Vec::with_capacity(written.len() + content_type.len() + body.len() + 48);
    out.extend_from_slice(status_line);
    out.extend_from_slice(b"\r\nconnection: close\r\ncontent-type: ");
    out.extend_from_slice(content_type.as_bytes());
    out.extend_from_slice(b"\r\ncontent-length: ");
    out.extend_from_slice(body.len().to_string().as_bytes());
    if let Some(date) = date {
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(date);
    }
    out.extend_from_slice(b"\r\n\r\n");
    out.extend_from_slice(body.as_bytes());
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DATE: &str = "date: Wed, 02 Dec 2026 18:56:33 GMT";

    fn hyper_answer(status: &str) -> Vec<u8> {
        format!("HTTP/1.1 {status}\r\nconnection: close\r\ncontent-length: 0\r\n{DATE}\r\n\r\n").into_bytes()
    }

    fn text(bytes: Option<Vec<u8>>) -> String {
        String::from_utf8(bytes.expect("rewritten")).unwrap()
    }

    #[test]
    fn the_three_answers_get_a_body_in_the_format() {
        let plain = text(rewrite(&hyper_answer("431 Request Header Fields Too Large"), &ErrorFormat::Plain));
        assert_eq!(
            plain,
            format!(
                "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\n\
                 content-type: text/plain; charset=utf-8\r\ncontent-length: 22\r\n{DATE}\r\n\r\n\
                 request head too large"
            )
        );
        let json = text(rewrite(&hyper_answer("400 Bad Request"), &ErrorFormat::JsonKey("error".into())));
        assert!(json.starts_with("HTTP/1.1 400 Bad Request\r\n"), "{json}");
        assert!(json.contains("content-type: application/json\r\ncontent-length: 35\r\n"), "{json}");
        assert!(json.ends_with("\r\n\r\n{\"error\": \"malformed request head\"}"), "{json}");
        let json = text(rewrite(&hyper_answer("414 URI Too Long"), &ErrorFormat::Json));
        assert!(json.ends_with("\r\n\r\n\"request target too long\""), "{json}");
        assert!(may_be(&hyper_answer("414 URI Too Long")));
    }

    #[test]
    fn anything_else_is_written_as_it_is() {
        let others = [
            // Another status, another version, a body, another header, a missing header.
            hyper_answer("404 Not Found"),
            b"HTTP/1.0 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n".to_vec(),
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\nx".to_vec(),
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\nx-a: b\r\n\r\n".to_vec(),
            b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n".to_vec(),
            b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\nconnection: close\r\ncontent-length: 0\r\n\r\n".to_vec(),
            b"HTTP/1.1 4".to_vec(),
            b"{\"data\": 1}".to_vec(),
        ];
        for other in others {
            assert!(rewrite(&other, &ErrorFormat::Plain).is_none(), "{}", String::from_utf8_lossy(&other));
        }
        // Without a date header (hyper's dates turned off) the answer is still rewritten.
        let bare = b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        assert!(text(rewrite(bare, &ErrorFormat::Plain)).ends_with("content-length: 22\r\n\r\nmalformed request head"));
    }
}
