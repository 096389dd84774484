//! `bot.toml` `[evidence]` (optional): images and files received in chat are kept as evidence
//! of a case. The size cap and the allowed types have defaults; the messages (a refusal for a
//! file too large or of a type not allowed, and the answer to a file nothing asked for) must be
//! written. Without the table, images and files are not downloaded at all.

use serde::Deserialize;
use toml::Spanned;

use super::compile::Compiler;
use super::tpl;
use crate::base::diagnostics::Source;

/// The default cap, in MB.
const DEFAULT_MAX_MB: u32 = 10;
/// The default allowed types (file name extensions).
const DEFAULT_TYPES: &[&str] = &[
    "jpg", "jpeg", "png", "gif", "webp", "pdf", "doc", "docx", "xls", "xlsx", "txt",
];

/// `[evidence]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvidence {
    #[serde(default)]
    pub max_mb: Option<Spanned<u32>>,
    #[serde(default)]
    pub types: Option<Spanned<Vec<String>>>,
    /// A file larger than the cap (`size_mb`, `max_mb`).
    pub too_large: Spanned<String>,
    /// A file of a type not allowed (`ext`, `types`).
    pub wrong_type: Spanned<String>,
    /// A file nothing asked for.
    pub unused: Spanned<String>,
}

/// What the bot accepts as evidence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceSettings {
    pub max_bytes: u64,
    /// Allowed extensions, lower case, without the dot.
    pub types: Vec<String>,
}

impl Compiler {
    /// `[evidence]`: a cap of at least 1 MB, types without dots, every message and no other.
    pub(super) fn evidence(
        &mut self,
        src: &Source,
        raw: &Spanned<RawEvidence>,
    ) -> EvidenceSettings {
        let table = raw.get_ref();
        let max_mb = match &table.max_mb {
            Some(v) if *v.get_ref() == 0 => {
                self.d
                    .error(src.at(v.span(), "[evidence] max_mb must be at least 1"));
                DEFAULT_MAX_MB
            }
            Some(v) => *v.get_ref(),
            None => DEFAULT_MAX_MB,
        };
        let types = match &table.types {
            Some(v) => {
                let types: Vec<String> = v
                    .get_ref()
                    .iter()
                    .map(|t| t.trim().trim_start_matches('.').to_ascii_lowercase())
                    .collect();
                if types.is_empty() || types.iter().any(|t| t.is_empty() || t.contains('.')) {
                    let msg = "[evidence] types must be file extensions such as \"jpg\"";
                    self.d.error(src.at(v.span(), msg));
                }
                types
            }
            None => DEFAULT_TYPES.iter().map(|t| (*t).to_owned()).collect(),
        };
        self.template(src, tpl::evidence("too_large"), &table.too_large);
        self.template(src, tpl::evidence("wrong_type"), &table.wrong_type);
        self.template(src, tpl::evidence("unused"), &table.unused);
        EvidenceSettings {
            max_bytes: u64::from(max_mb) * 1024 * 1024,
            types,
        }
    }
}
