//! Keeping what members send: before an image or file message is dispatched, the worker
//! downloads it from WeCom (`media/get`, through the one API client), checks it against bot.toml
//! `[evidence]` (allowed types, size cap) and keeps it in the evidence store; the event then
//! carries a reference ([`Fetched`]) and the processes only record it. A download that fails
//! fails the event, which is handed out again after its lease (the same key is written again).

use async_trait::async_trait;
use std::sync::Arc;

use crate::adapters::evidence::EvidenceStore;
use crate::adapters::store::{Commit, OutboxItem, VersionedState};
use crate::adapters::wecom::api::WeComClient;
use crate::adapters::wecom::message::{InboundKind, MediaMessage};
use crate::base::scripts::EvidenceSettings;
use crate::dispatch::DispatchError;
use crate::dispatch::event::Event;
use crate::domain::evidence::{self, EvidenceRef, Fetched};
use crate::runtime::worker::Handle;

/// A [`Handle`] that keeps received media before the inner one (the dispatcher) sees it.
pub struct Keeping {
    pub inner: Arc<dyn Handle>,
    pub client: WeComClient,
    pub store: EvidenceStore,
    pub settings: EvidenceSettings,
}

#[async_trait]
impl Handle for Keeping {
    async fn handle(
        &self,
        conversation: &str,
        state: Option<VersionedState>,
        event: &Event,
        now_ms: i64,
    ) -> Result<Commit, DispatchError> {
        let Event::WeCom(inbound) = event else {
            return self.inner.handle(conversation, state, event, now_ms).await;
        };
        let InboundKind::Media(media) = &inbound.kind else {
            return self.inner.handle(conversation, state, event, now_ms).await;
        };
        if media.fetched.is_some() {
            return self.inner.handle(conversation, state, event, now_ms).await;
        }
        let fetched = self.keep(media).await?;
        let mut inbound = inbound.clone();
        inbound.kind = InboundKind::Media(MediaMessage {
            fetched: Some(fetched),
            ..media.clone()
        });
        let event = Event::WeCom(inbound);
        self.inner.handle(conversation, state, &event, now_ms).await
    }

    fn delay_notice(&self, event: &Event) -> Vec<OutboxItem> {
        self.inner.delay_notice(event)
    }
}

impl Keeping {
    /// Downloads and keeps `media`, or says why not.
    async fn keep(&self, media: &MediaMessage) -> Result<Fetched, DispatchError> {
        let failed = |e: String| DispatchError::Evidence(e);
        let name_ext = evidence::extension(media.file_name.as_deref(), "");
        if !name_ext.is_empty()
            && let Err(refusal) = evidence::check_type(&self.settings, &name_ext)
        {
            return Ok(Fetched::Refused(refusal));
        }
        let downloaded = self
            .client
            .download_media(&media.media_id, self.settings.max_bytes)
            .await
            .map_err(|e| failed(e.to_string()))?;
        let file_name = media
            .file_name
            .as_deref()
            .or(downloaded.file_name.as_deref());
        let ext = evidence::extension(file_name, &downloaded.content_type);
        if let Err(refusal) = evidence::check_type(&self.settings, &ext) {
            return Ok(Fetched::Refused(refusal));
        }
        let Some(bytes) = downloaded.bytes else {
            return Ok(Fetched::Refused(evidence::Refusal::TooLarge {
                size: downloaded.size,
                max: self.settings.max_bytes,
            }));
        };
        if let Err(refusal) = evidence::check_size(&self.settings, bytes.len() as u64) {
            return Ok(Fetched::Refused(refusal));
        }
        let key = evidence::key(&media.msg_id, &ext);
        let size = bytes.len() as u64;
        self.store
            .put(&key, bytes)
            .await
            .map_err(|e| failed(e.to_string()))?;
        tracing::info!(%key, size, "evidence kept");
        Ok(Fetched::Kept(EvidenceRef {
            key,
            kind: media.kind,
            name: evidence::name(media.kind, file_name, &media.msg_id, &ext),
            size,
        }))
    }
}
