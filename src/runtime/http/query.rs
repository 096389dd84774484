//! The callback's query string, decoded exactly once. A hand-written decoder on purpose: form
//! decoders turn `+` into a space, which corrupts base64 `echostr` values sent unencoded.

/// The four callback parameters; `echostr` only on URL verification.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct CallbackQuery {
    pub msg_signature: Option<String>,
    pub timestamp: Option<String>,
    pub nonce: Option<String>,
    pub echostr: Option<String>,
}

impl CallbackQuery {
    pub fn parse(raw: Option<&str>) -> Self {
        let mut q = Self::default();
        for pair in raw.unwrap_or("").split('&') {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let slot = match name {
                "msg_signature" => &mut q.msg_signature,
                "timestamp" => &mut q.timestamp,
                "nonce" => &mut q.nonce,
                "echostr" => &mut q.echostr,
                _ => continue,
            };
            *slot = Some(percent_decode(value));
        }
        q
    }
}

/// Decodes `%XX` escapes; anything else (including `+` and malformed escapes) is kept as is.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2]))
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_parameter_once() {
        let q = CallbackQuery::parse(Some(
            "msg_signature=5c45&timestamp=1409659589&nonce=263014780&echostr=P9n%2FqY%2B4R%3D%3D&extra=1",
        ));
        assert_eq!(q.echostr.as_deref(), Some("P9n/qY+4R=="));
        assert_eq!(q.timestamp.as_deref(), Some("1409659589"));
        assert_eq!(q.msg_signature.as_deref(), Some("5c45"));
    }

    #[test]
    fn keeps_plus_and_double_encoding_literal() {
        let q = CallbackQuery::parse(Some("echostr=a+b%252F"));
        assert_eq!(q.echostr.as_deref(), Some("a+b%2F"));
    }

    #[test]
    fn malformed_escapes_are_kept() {
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%G1%4"), "%G1%4");
    }

    #[test]
    fn missing_parameters_stay_none() {
        let q = CallbackQuery::parse(None);
        assert_eq!(q, CallbackQuery::default());
    }
}
