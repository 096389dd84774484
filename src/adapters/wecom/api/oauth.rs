//! WeCom's web sign-in (OAuth2, `snsapi_base`): `auth/getuserinfo` turns the one-time `code`
//! WeCom handed the browser into the member's userid, with the same token policy and errcodes
//! as every other call of the client. The code is a credential: it never reaches a log (the
//! client logs paths without their query).

use super::{ApiError, Payload, WeComClient};

/// WeCom's errcode for a code that is unknown, expired or already used.
pub const INVALID_CODE: i64 = 40029;

impl WeComClient {
    /// The userid of the member who signed in with `code`; `None` when the code is not
    /// (or no longer) valid, or names someone outside the company (an `openid`, no `userid`).
    pub async fn user_of_code(&self, code: &str) -> Result<Option<String>, ApiError> {
        let answer = self
            .call_with_token(
                "/cgi-bin/auth/getuserinfo",
                &[("code", code)],
                Payload::None,
            )
            .await;
        match answer {
            Ok(answer) => Ok(answer
                .json
                .get("userid")
                .or_else(|| answer.json.get("UserId"))
                .and_then(|u| u.as_str())
                .filter(|u| !u.is_empty())
                .map(str::to_owned)),
            Err(ApiError::Refused { errcode, .. }) if errcode == INVALID_CODE => Ok(None),
            Err(e) => Err(e),
        }
    }
}
