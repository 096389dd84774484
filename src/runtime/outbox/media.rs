//! Deliveries built at delivery time: an exported spreadsheet ([`Outbound::File`]) built from
//! the store, and forwarded evidence ([`Outbound::Evidence`]) read from the evidence store; each
//! uploaded to WeCom's media and sent by its `media_id`. A retry builds and uploads again, so
//! these stay at-least-once (a new `media_id` is a new message to WeCom's duplicate check).

use crate::adapters::store::StoreError;
use crate::adapters::wecom::api::{ApiError, MessageBody, Outbound, Receipt};
use crate::domain::evidence::{EvidenceRef, MediaKind};
use crate::domain::records::export::Export;
use crate::runtime::exports;

use super::OutboxSender;

impl OutboxSender {
    /// A spreadsheet for `to_user`: built from the store as it is now (the queued item names
    /// the export, never holds the file), uploaded, then sent as a file message.
    pub(super) async fn deliver_file(
        &self,
        to_user: &str,
        export: &Export,
    ) -> Result<Receipt, ApiError> {
        let Some(scripts) = &self.scripts else {
            return Err(ApiError::Invalid(
                "this sender cannot build files (no bot-scripts given)".into(),
            ));
        };
        let (name, bytes) = exports::xlsx_file(self.store.as_ref(), scripts, export)
            .await
            .map_err(|e| match e.downcast_ref::<StoreError>() {
                Some(store) => ApiError::Store(store.to_string()),
                None => ApiError::Invalid(format!("{e:#}")),
            })?;
        let media_id = self.client.upload_file(&name, &bytes).await?;
        tracing::info!(to = %to_user, file = %name, bytes = bytes.len(), "export uploaded");
        let message = Outbound::Send {
            to_user: to_user.to_owned(),
            body: MessageBody::File { media_id },
        };
        self.client.deliver_with_receipt(&message).await
    }

    /// An evidence file for `to_user`: read from the evidence store, uploaded as the app's
    /// media (an image as an image) and sent.
    pub(super) async fn deliver_evidence(
        &self,
        to_user: &str,
        evidence: &EvidenceRef,
    ) -> Result<Receipt, ApiError> {
        let Some(store) = &self.evidence else {
            return Err(ApiError::Invalid(
                "this sender cannot forward evidence (no evidence store given)".into(),
            ));
        };
        let bytes = store
            .get(&evidence.key)
            .await
            .map_err(|e| ApiError::Store(e.to_string()))?;
        let media_id = self
            .client
            .upload_media(evidence.kind, &evidence.name, &bytes)
            .await?;
        let body = match evidence.kind {
            MediaKind::Image => MessageBody::Image { media_id },
            MediaKind::File => MessageBody::File { media_id },
        };
        let message = Outbound::Send {
            to_user: to_user.to_owned(),
            body,
        };
        self.client.deliver_with_receipt(&message).await
    }
}
