//! Webhook administration and the delivery log (LA administrators): parse, guard, call, map.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::service::{self, DeliveryStatus, NewWebhook, Policy};
use super::types::{Webhook, WebhookDelivery};
use crate::context::ContextExt;
use crate::domain::EventType;
use crate::ids::{WebhookDeliveryId, WebhookId};
use crate::pagination::{Conn, Page, connection};
use crate::payload::run;

/// Webhook queries.
#[derive(Default)]
pub struct WebhooksQuery;

#[Object]
impl WebhooksQuery {
    /// The LA's webhooks, oldest first (LA administrators only).
    async fn webhooks(&self, ctx: &Context<'_>) -> Result<Vec<Webhook>> {
        let actor = ctx.admin()?;
        Ok(service::list(ctx.db()?, actor)
            .await?
            .into_iter()
            .map(Webhook)
            .collect())
    }

    /// A webhook's delivery log, newest first, optionally of one status (LA administrators only).
    #[graphql(complexity = "crate::pagination::cost(first, last, child_complexity)")]
    #[allow(
        clippy::too_many_arguments,
        reason = "a GraphQL field's arguments: the context, the webhook, a filter and four paging ones"
    )]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
        status: Option<DeliveryStatus>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<WebhookDelivery>> {
        let actor = ctx.admin()?;
        let page = Page::new(first, after, last, before)?;
        let id = WebhookId::parse(&webhook_id).unwrap_or(WebhookId(0));
        let (rows, total, more) = service::deliveries(ctx.db()?, actor, id, status, &page).await?;
        Ok(connection(
            rows,
            total,
            more,
            &page,
            |d| d.id.to_string(),
            WebhookDelivery,
        ))
    }
}

/// Webhook mutations.
#[derive(Default)]
pub struct WebhooksMutation;

/// Input of `webhookRegister`.
#[derive(InputObject)]
pub struct WebhookRegisterInput {
    /// The endpoint (https; in production never a private, loopback or link-local address).
    pub url: String,
    /// The signing secret, 16 to 200 characters, shared with the receiver.
    pub secret: String,
    /// Event types to deliver; all when omitted or empty.
    pub event_types: Option<Vec<EventType>>,
}

/// Input of `webhookDisable`.
#[derive(InputObject)]
pub struct WebhookDisableInput {
    /// The webhook.
    pub webhook_id: ID,
    /// The version of the webhook the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

/// Input of `webhookDeliveryReplay`.
#[derive(InputObject)]
pub struct WebhookDeliveryReplayInput {
    /// The delivery.
    pub delivery_id: ID,
}

crate::payload!(
    /// Result of `webhookRegister` and `webhookDisable`.
    WebhookPayload {
        /// The webhook.
        webhook: Webhook
    }
);

crate::payload!(
    /// Result of `webhookDeliveryReplay`.
    WebhookDeliveryReplayPayload {
        /// The delivery, pending again.
        delivery: WebhookDelivery
    }
);

#[Object]
impl WebhooksMutation {
    /// Registers an endpoint to receive the LA's events (LA administrators only).
    async fn webhook_register(
        &self,
        ctx: &Context<'_>,
        input: WebhookRegisterInput,
    ) -> Result<WebhookPayload> {
        run(async {
            let policy = *ctx.data::<Policy>().map_err(|e| {
                crate::error::ApiError::internal(format!("no webhook policy: {}", e.message))
            })?;
            let cmd = NewWebhook {
                url: input.url,
                secret: input.secret,
                event_types: input.event_types.unwrap_or_default(),
            };
            let hook = service::register(ctx.db()?, ctx.admin()?, cmd, policy).await?;
            Ok(WebhookPayload::ok(Webhook(hook)))
        })
        .await
    }

    /// Stops deliveries to a webhook (LA administrators only).
    async fn webhook_disable(
        &self,
        ctx: &Context<'_>,
        input: WebhookDisableInput,
    ) -> Result<WebhookPayload> {
        run(async {
            let id = WebhookId::from_input(&input.webhook_id, &["webhookId"])?;
            let hook =
                service::disable(ctx.db()?, ctx.admin()?, id, input.expected_version).await?;
            Ok(WebhookPayload::ok(Webhook(hook)))
        })
        .await
    }

    /// Sends a delivery again, with a fresh 24 hours of retries (LA administrators only).
    async fn webhook_delivery_replay(
        &self,
        ctx: &Context<'_>,
        input: WebhookDeliveryReplayInput,
    ) -> Result<WebhookDeliveryReplayPayload> {
        run(async {
            let id = WebhookDeliveryId::from_input(&input.delivery_id, &["deliveryId"])?;
            let d = service::replay(ctx.db()?, ctx.admin()?, id).await?;
            Ok(WebhookDeliveryReplayPayload::ok(WebhookDelivery(d)))
        })
        .await
    }
}
