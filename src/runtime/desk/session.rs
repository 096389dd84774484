//! The desk's signed cookies: a value, its expiry and an HMAC-SHA256 (`ring`) over both and
//! the cookie's purpose, so that a session cookie never passes for a sign-in state and a
//! tampered or expired one is refused. The key is derived from the app's secret: every replica
//! signs alike, and a new secret signs everybody out.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

/// The session cookie (the signed-in userid).
pub const SESSION: &str = "flowbot_desk";
/// The sign-in state cookie (the OAuth2 `state` and the page to return to).
pub const STATE: &str = "flowbot_desk_state";
/// How long a session lasts.
pub const SESSION_MS: i64 = 8 * 3600 * 1000;
/// How long a sign-in may take between the redirect and WeCom's answer.
pub const STATE_MS: i64 = 10 * 60 * 1000;

/// Signs and checks the desk's cookies.
pub struct Signer {
    key: hmac::Key,
}

impl Signer {
    /// A signer whose key is derived from `secret` (the app's secret).
    pub fn from_secret(secret: &str) -> Signer {
        let root = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
        let derived = hmac::sign(&root, b"flowbot desk cookies v1");
        Signer {
            key: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        }
    }

    fn message(purpose: &str, value: &str, expires_ms: i64) -> Vec<u8> {
        format!("{purpose}\n{expires_ms}\n{value}").into_bytes()
    }

    /// `value` signed for `purpose` until `expires_ms`: `<value>.<expiry>.<mac>`, base64url.
    pub fn sign(&self, purpose: &str, value: &str, expires_ms: i64) -> String {
        let tag = hmac::sign(&self.key, &Self::message(purpose, value, expires_ms));
        format!(
            "{}.{expires_ms}.{}",
            URL_SAFE_NO_PAD.encode(value),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    /// The value of a cookie signed for `purpose` that has not expired at `now_ms`.
    pub fn verify(&self, purpose: &str, cookie: &str, now_ms: i64) -> Option<String> {
        let mut parts = cookie.split('.');
        let (value, expires, tag) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let value = String::from_utf8(URL_SAFE_NO_PAD.decode(value).ok()?).ok()?;
        let expires_ms: i64 = expires.parse().ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let message = Self::message(purpose, &value, expires_ms);
        hmac::verify(&self.key, &message, &tag).ok()?;
        (now_ms < expires_ms).then_some(value)
    }
}

/// The value of cookie `name` in a request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, path `/desk`, `Secure` over https; a
/// `max_age_s` of 0 clears it.
pub fn set_cookie(name: &str, value: &str, max_age_s: i64, https: bool) -> String {
    let secure = if https { "; Secure" } else { "" };
    format!("{name}={value}; Path=/desk; Max-Age={max_age_s}; HttpOnly; SameSite=Lax{secure}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_value_is_read_back_until_it_expires() {
        let s = Signer::from_secret("secret");
        let c = s.sign(SESSION, "zhangsan", 1_000);
        assert_eq!(s.verify(SESSION, &c, 999).as_deref(), Some("zhangsan"));
        assert_eq!(s.verify(SESSION, &c, 1_000), None);
    }

    #[test]
    fn tampering_another_purpose_or_another_key_is_refused() {
        let s = Signer::from_secret("secret");
        let c = s.sign(SESSION, "zhangsan", 1_000);
        assert_eq!(s.verify(STATE, &c, 0), None);
        assert_eq!(Signer::from_secret("other").verify(SESSION, &c, 0), None);
        let (_, rest) = c.split_once('.').unwrap();
        let forged = format!("{}.{rest}", URL_SAFE_NO_PAD.encode("lina"));
        assert_eq!(s.verify(SESSION, &forged, 0), None);
        let longer = c.replace(".1000.", ".9999.");
        assert_eq!(s.verify(SESSION, &longer, 0), None);
        assert_eq!(s.verify(SESSION, "garbage", 0), None);
        assert_eq!(s.verify(SESSION, "", 0), None);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut h = axum::http::HeaderMap::new();
        h.insert("cookie", "a=1; flowbot_desk=x.y.z; b=2".parse().unwrap());
        assert_eq!(cookie(&h, SESSION), Some("x.y.z"));
        assert_eq!(cookie(&h, STATE), None);
        assert!(set_cookie(SESSION, "v", 60, true).ends_with("SameSite=Lax; Secure"));
        assert!(!set_cookie(SESSION, "v", 60, false).contains("Secure"));
    }
}
