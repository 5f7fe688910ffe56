//! GraphQL types of webhooks and their delivery log.

use async_graphql::{ID, Object, Result};
use entities::{webhook, webhook_delivery as delivery};

use super::service::DeliveryStatus;
use crate::domain::EventType;
use crate::error::ApiError;
use crate::ids::{WebhookDeliveryId, WebhookId};

/// An endpoint of a vendor system that receives the LA's events, signed with its secret.
pub struct Webhook(pub webhook::Model);

/// An endpoint of a vendor system that receives the LA's events, signed with its secret.
#[Object]
impl Webhook {
    /// Global ID.
    async fn id(&self) -> ID {
        WebhookId(self.0.id).to_global()
    }
    /// Record version; pass it as `expectedVersion` to `webhookDisable`.
    async fn version(&self) -> i32 {
        self.0.version
    }
    /// Where events are POSTed.
    async fn url(&self) -> &str {
        &self.0.url
    }
    /// The event types delivered; empty means all.
    async fn event_types(&self) -> Result<Vec<EventType>> {
        Ok(self
            .0
            .event_types
            .split(',')
            .filter(|t| !t.is_empty())
            .map(|t| {
                EventType::parse(t)
                    .ok_or_else(|| ApiError::internal("unknown event type in a webhook"))
            })
            .collect::<Result<_, ApiError>>()?)
    }
    /// Whether deliveries are made.
    async fn active(&self) -> bool {
        self.0.active
    }
    /// When it was registered.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
}

/// One event sent (or to be sent) to one webhook: the delivery log.
pub struct WebhookDelivery(pub delivery::Model);

/// One event sent (or to be sent) to one webhook: the delivery log.
#[Object]
impl WebhookDelivery {
    /// Global ID (replay it with `webhookDeliveryReplay`).
    async fn id(&self) -> ID {
        WebhookDeliveryId(self.0.id).to_global()
    }
    /// The event's position (also sent as `Reunify-Event-Id`).
    async fn event_position(&self) -> ID {
        ID(self.0.event_id.to_string())
    }
    /// Where it stands.
    async fn status(&self) -> Result<DeliveryStatus> {
        Ok(self.0.status)
    }
    /// Attempts made.
    async fn attempts(&self) -> i32 {
        self.0.attempts
    }
    /// When the next attempt is due (while pending).
    async fn next_attempt_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.next_attempt_at
    }
    /// The HTTP status of the last attempt, when the endpoint answered.
    async fn last_status(&self) -> Option<i32> {
        self.0.last_status
    }
    /// What went wrong with the last attempt.
    async fn last_error(&self) -> Option<&str> {
        self.0.last_error.as_deref()
    }
    /// When the endpoint accepted it.
    async fn delivered_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.0.delivered_at
    }
    /// When it was queued.
    async fn created_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.0.created_at
    }
}
