//! WeCom's JSON answers and what their errcodes mean for the caller. Pure: no I/O.

use serde::Deserialize;
use serde_json::Value;

use super::ApiError;

/// The fields of a WeCom answer that flowbot reads. Unknown fields are ignored.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiResponse {
    /// Required: an answer without it is not WeCom's (a proxy page, a misconfigured base URL).
    pub errcode: Option<i64>,
    #[serde(default)]
    pub errmsg: String,
    pub access_token: Option<String>,
    pub expires_in: Option<i64>,
    #[serde(default, deserialize_with = "opaque_string")]
    pub msgid: Option<String>,
    #[serde(default, deserialize_with = "opaque_string")]
    pub response_code: Option<String>,
    /// `media/upload`: the uploaded file's id.
    #[serde(default, deserialize_with = "opaque_string")]
    pub media_id: Option<String>,
    /// `"a|b"` or `["a","b"]`: WeCom has used both.
    #[serde(default, deserialize_with = "string_or_list")]
    pub invaliduser: Vec<String>,
    #[serde(default, deserialize_with = "string_or_list")]
    pub invalidparty: Vec<String>,
    #[serde(default, deserialize_with = "string_or_list")]
    pub invalidtag: Vec<String>,
    #[serde(default, deserialize_with = "string_or_list")]
    pub unlicenseduser: Vec<String>,
    /// The whole answer, for calls that read more than these fields (the contacts calls).
    #[serde(skip)]
    pub json: Value,
}

/// errcodes that mean "this access_token is not (or no longer) valid": refresh once and retry.
pub(crate) fn is_token_error(errcode: i64) -> bool {
    matches!(errcode, 40014 | 42001 | 41001)
}

/// Turns a non-zero errcode into the caller's decision. Token errcodes are handled before this
/// (by a refresh); if one still reaches here, the refresh did not help and a later retry may.
pub(crate) fn classify(errcode: i64, errmsg: &str) -> ApiError {
    let config = |hint: &str| ApiError::Config {
        errcode: Some(errcode),
        hint: hint.to_owned(),
    };
    match errcode {
        40001 => config(
            "the app secret is invalid (wrong WECOM_SECRET for this agent, secret reset, or app \
             disabled); 40001 is not a token error, and repeating it can lock this IP out for an \
             hour",
        ),
        40013 => config("the corp id is invalid: check WECOM_CORP_ID"),
        40091 => config("the secret is not valid for this corp: check WECOM_SECRET"),
        60020 => config(
            "the server's IP is not in the app's 企业可信IP list (admin console, app settings; \
             takes about a minute to apply)",
        ),
        45009 | 45033 | 130101 | -1 => ApiError::RateLimited { errcode },
        code if is_token_error(code) => ApiError::Transport(format!(
            "access token rejected after a refresh (errcode {code})"
        )),
        _ => ApiError::Refused {
            errcode,
            errmsg: errmsg.to_owned(),
        },
    }
}

fn string_or_list<'de, D>(deserializer: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Value::deserialize(deserializer)?;
    Ok(match value {
        Value::String(s) => s
            .split('|')
            .filter(|part| !part.is_empty())
            .map(str::to_owned)
            .collect(),
        Value::Array(items) => items.iter().filter_map(scalar_to_string).collect(),
        other => scalar_to_string(&other).into_iter().collect(),
    })
}

fn opaque_string<'de, D>(deserializer: D) -> Result<Option<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let value = Option::<Value>::deserialize(deserializer)?;
    Ok(value
        .as_ref()
        .and_then(scalar_to_string)
        .filter(|s| !s.is_empty()))
}

fn scalar_to_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_lists_accept_strings_and_arrays() {
        let a: ApiResponse =
            serde_json::from_str(r#"{"errcode":0,"invaliduser":"a|b","invalidparty":[2,3]}"#)
                .unwrap();
        assert_eq!(a.invaliduser, ["a", "b"]);
        assert_eq!(a.invalidparty, ["2", "3"]);
        let b: ApiResponse =
            serde_json::from_str(r#"{"errcode":42017,"invaliduser":[],"invalidtag":""}"#).unwrap();
        assert!(b.invaliduser.is_empty() && b.invalidtag.is_empty());
    }

    #[test]
    fn errcodes_map_to_decisions() {
        assert!(matches!(classify(40001, ""), ApiError::Config { .. }));
        assert!(matches!(classify(60020, ""), ApiError::Config { .. }));
        assert!(classify(45009, "").is_retryable());
        assert!(classify(-1, "").is_retryable());
        assert!(!classify(81013, "").is_retryable());
    }
}
