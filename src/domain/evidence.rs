//! Evidence files received in chat (screenshots, documents): the reference a case keeps, what
//! the bot accepts (a size cap and the allowed types of bot.toml `[evidence]`) and the key a
//! file is kept under. Pure: the worker downloads and stores, this only decides.

use serde::{Deserialize, Serialize};

use crate::base::scripts::EvidenceSettings;

/// What WeCom sent: an image message or a file message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    File,
}

/// A file kept as evidence: its key in the evidence store and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceRef {
    #[serde(rename = "k")]
    pub key: String,
    #[serde(rename = "m")]
    pub kind: MediaKind,
    #[serde(rename = "n")]
    pub name: String,
    #[serde(rename = "s")]
    pub size: u64,
}

/// What became of a received image or file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fetched {
    Kept(EvidenceRef),
    Refused(Refusal),
}

/// Why a file was not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// Larger than the cap (bytes).
    TooLarge { size: u64, max: u64 },
    /// Its type (extension) is not allowed.
    Type { ext: String },
}

/// The lower-case extension of `name`, else the one of `content_type`; empty when unknown.
pub fn extension(name: Option<&str>, content_type: &str) -> String {
    let from_name = name
        .and_then(|n| n.rsplit_once('.'))
        .map(|(_, ext)| ext.trim().to_ascii_lowercase())
        .filter(|ext| {
            !ext.is_empty() && ext.len() <= 8 && ext.chars().all(|c| c.is_ascii_alphanumeric())
        });
    if let Some(ext) = from_name {
        return ext;
    }
    let mime = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    match mime.as_str() {
        "image/jpeg" | "image/jpg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "application/pdf" => "pdf",
        _ => "",
    }
    .to_owned()
}

/// Whether a file of this extension may be kept.
pub fn check_type(settings: &EvidenceSettings, ext: &str) -> Result<(), Refusal> {
    if settings.types.iter().any(|t| t == ext) {
        Ok(())
    } else {
        Err(Refusal::Type {
            ext: ext.to_owned(),
        })
    }
}

/// Whether a file of `size` bytes may be kept.
pub fn check_size(settings: &EvidenceSettings, size: u64) -> Result<(), Refusal> {
    if size <= settings.max_bytes {
        Ok(())
    } else {
        Err(Refusal::TooLarge {
            size,
            max: settings.max_bytes,
        })
    }
}

/// The key a received file is kept under: one per message, so a download that is retried
/// writes the same object again.
pub fn key(msg_id: &str, ext: &str) -> String {
    let id: String = msg_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        .take(64)
        .collect();
    if ext.is_empty() {
        format!("evidence/{id}")
    } else {
        format!("evidence/{id}.{ext}")
    }
}

/// The name a file is shown and forwarded under: its own, else `<kind>-<message>.<ext>`.
pub fn name(kind: MediaKind, file_name: Option<&str>, msg_id: &str, ext: &str) -> String {
    if let Some(name) = file_name.map(str::trim).filter(|n| !n.is_empty()) {
        return name.to_owned();
    }
    let stem = match kind {
        MediaKind::Image => "image",
        MediaKind::File => "file",
    };
    let id: String = msg_id
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(24)
        .collect();
    if ext.is_empty() {
        format!("{stem}-{id}")
    } else {
        format!("{stem}-{id}.{ext}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> EvidenceSettings {
        EvidenceSettings {
            max_bytes: 1000,
            types: vec!["jpg".into(), "png".into(), "pdf".into()],
        }
    }

    #[test]
    fn the_extension_comes_from_the_name_else_the_content_type() {
        assert_eq!(
            extension(Some("截图.PNG"), "application/octet-stream"),
            "png"
        );
        assert_eq!(extension(None, "image/jpeg"), "jpg");
        assert_eq!(extension(Some("noext"), "text/plain"), "");
        assert_eq!(extension(Some("a.p/df"), "application/pdf"), "pdf");
    }

    #[test]
    fn size_and_type_are_checked() {
        assert_eq!(check_size(&settings(), 1000), Ok(()));
        assert_eq!(
            check_size(&settings(), 1001),
            Err(Refusal::TooLarge {
                size: 1001,
                max: 1000
            })
        );
        assert_eq!(check_type(&settings(), "pdf"), Ok(()));
        assert_eq!(
            check_type(&settings(), "exe"),
            Err(Refusal::Type { ext: "exe".into() })
        );
    }

    #[test]
    fn keys_are_one_per_message_and_safe() {
        assert_eq!(key("123/../x", "jpg"), "evidence/123x.jpg");
        assert_eq!(key("42", ""), "evidence/42");
        assert_eq!(name(MediaKind::Image, None, "42", "jpg"), "image-42.jpg");
        assert_eq!(
            name(MediaKind::File, Some(" 通报.pdf "), "42", "pdf"),
            "通报.pdf"
        );
    }
}
