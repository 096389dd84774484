//! Media calls: `media/get` (download what a member sent, within a size cap) and `media/upload`
//! of an image or a file (to forward evidence or send an export).

use super::{ApiError, Payload, WeComClient, errcode, succeeded};
use crate::adapters::wecom::message::MediaKind;

/// A downloaded media file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// The size WeCom announced, or the bytes read.
    pub size: u64,
    /// `None` when the file is larger than the cap (its bytes were not read).
    pub bytes: Option<Vec<u8>>,
    pub content_type: String,
    /// The file name of `Content-Disposition`, if any.
    pub file_name: Option<String>,
}

const GET: &str = "/cgi-bin/media/get";
const UPLOAD: &str = "/cgi-bin/media/upload";

impl WeComClient {
    /// Downloads `media_id` (`media/get`); a file over `max_bytes` is not read (`bytes: None`).
    /// WeCom answers JSON for an error; a rejected token is refreshed once.
    pub async fn download_media(&self, media_id: &str, max_bytes: u64) -> Result<Media, ApiError> {
        let token = self.access_token().await?;
        match self.get_media(&token, media_id, max_bytes).await? {
            Ok(media) => Ok(media),
            Err(answer) if answer.errcode.is_some_and(errcode::is_token_error) => {
                tracing::info!(path = GET, "token rejected, refreshing once");
                self.invalidate(&token).await?;
                let token = self.access_token().await?;
                match self.get_media(&token, media_id, max_bytes).await? {
                    Ok(media) => Ok(media),
                    Err(answer) => Err(refused(answer)),
                }
            }
            Err(answer) => Err(refused(answer)),
        }
    }

    /// One `media/get`: the media, or WeCom's JSON answer.
    async fn get_media(
        &self,
        token: &str,
        media_id: &str,
        max_bytes: u64,
    ) -> Result<Result<Media, errcode::ApiResponse>, ApiError> {
        let transport =
            |e: reqwest::Error| ApiError::Transport(format!("{GET}: {}", e.without_url()));
        let url = format!("{}{GET}", self.base);
        let query = [("access_token", token), ("media_id", media_id)];
        let mut response = self
            .http
            .get(url)
            .query(&query)
            .send()
            .await
            .map_err(transport)?;
        if !response.status().is_success() {
            return Err(ApiError::Transport(format!(
                "{GET}: HTTP {}",
                response.status()
            )));
        }
        let header = |name: reqwest::header::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        let content_type = header(reqwest::header::CONTENT_TYPE);
        let disposition = header(reqwest::header::CONTENT_DISPOSITION);
        if content_type.starts_with("application/json") || content_type.starts_with("text/plain") {
            let bytes = response.bytes().await.map_err(transport)?;
            let answer: errcode::ApiResponse = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::Transport(format!("{GET}: answer is not WeCom's JSON: {e}"))
            })?;
            return Ok(Err(answer));
        }
        let file_name = file_name(&disposition);
        if let Some(size) = response.content_length().filter(|s| *s > max_bytes) {
            return Ok(Ok(Media {
                size,
                bytes: None,
                content_type,
                file_name,
            }));
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            bytes.extend_from_slice(&chunk);
            if bytes.len() as u64 > max_bytes {
                let size = bytes.len() as u64;
                return Ok(Ok(Media {
                    size,
                    bytes: None,
                    content_type,
                    file_name,
                }));
            }
        }
        Ok(Ok(Media {
            size: bytes.len() as u64,
            bytes: Some(bytes),
            content_type,
            file_name,
        }))
    }

    /// Uploads a file (`media/upload?type=file`) and returns its `media_id`, which a
    /// [`super::MessageBody::File`] sends (WeCom keeps it three days).
    pub async fn upload_file(&self, name: &str, bytes: &[u8]) -> Result<String, ApiError> {
        self.upload_media(MediaKind::File, name, bytes).await
    }

    /// Uploads an image or a file as the app's media and returns its `media_id`.
    pub async fn upload_media(
        &self,
        kind: MediaKind,
        name: &str,
        bytes: &[u8],
    ) -> Result<String, ApiError> {
        let kind = match kind {
            MediaKind::Image => "image",
            MediaKind::File => "file",
        };
        let answer = self
            .call_with_token(UPLOAD, &[("type", kind)], Payload::File { name, bytes })
            .await?;
        answer
            .media_id
            .filter(|id| !id.is_empty())
            .ok_or_else(|| ApiError::Invalid(format!("{UPLOAD}: answer without media_id")))
    }
}

/// A JSON answer of `media/get`: its errcode's error (an errcode 0 without media is invalid).
fn refused(answer: errcode::ApiResponse) -> ApiError {
    match succeeded(GET, answer) {
        Ok(_) => ApiError::Invalid(format!("{GET}: an answer without the media")),
        Err(e) => e,
    }
}

/// `filename="a.jpg"` (or `filename*=UTF-8''…`, undecoded) of a `Content-Disposition`.
fn file_name(disposition: &str) -> Option<String> {
    let (_, rest) = disposition.split_once("filename=")?;
    let name = rest.split(';').next()?.trim().trim_matches('"').trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_file_name_is_read_from_the_disposition() {
        assert_eq!(
            super::file_name("attachment; filename=\"shot.jpg\""),
            Some("shot.jpg".into())
        );
        assert_eq!(super::file_name("attachment"), None);
    }
}
