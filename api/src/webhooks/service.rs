//! Registering webhooks, queueing deliveries with their events, the delivery log and replay.

use chrono::{DateTime, Utc};
use entities::{case_event, webhook, webhook_delivery as delivery};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::GIVE_UP_AFTER;
use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::db::Db;
use crate::domain::EventType;
use crate::error::{ApiError, ApiResult, OptionExt as _, UserErrorCode};
use crate::ids::{WebhookDeliveryId, WebhookId};
use crate::pagination::{Page, page_by_id};
use crate::stamp::Stamped as _;

pub use entities::vocabulary::DeliveryStatus;

/// The longest endpoint URL stored.
const MAX_URL: usize = 2048;

/// Who may send webhooks where.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Private, loopback and link-local destinations allowed.
    pub allow_private: bool,
    /// Plain `http://` allowed (development only).
    pub allow_http: bool,
}

/// A webhook to register.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    /// The endpoint.
    pub url: String,
    /// The signing secret (16 to 200 characters).
    pub secret: String,
    /// The event types to deliver; all when empty.
    pub event_types: Vec<EventType>,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::user(UserErrorCode::Invalid, &[field], message)
}

/// Checks an endpoint URL against the policy: http(s), a host, and (unless allowed) not a literal
/// private address or `localhost`. Names are checked again, resolved, at each delivery.
pub fn check_url(url: &str, policy: Policy) -> ApiResult<reqwest::Url> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|_| invalid("url", "not a URL"))?;
    if parsed.as_str().len() > MAX_URL {
        return Err(invalid(
            "url",
            format!("give a URL of at most {MAX_URL} characters"),
        ));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        _ => return Err(invalid("url", "the endpoint must use https")),
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "url",
            "credentials do not belong in the URL; use the secret",
        ));
    }
    let host = parsed
        .host_str()
        .ok_or_else(|| invalid("url", "the URL has no host"))?;
    if !policy.allow_private {
        let literal = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>();
        if host.eq_ignore_ascii_case("localhost")
            || host.to_ascii_lowercase().ends_with(".localhost")
            || literal.is_ok_and(super::forbidden)
        {
            return Err(invalid(
                "url",
                "private, loopback and link-local addresses are not allowed",
            ));
        }
    }
    Ok(parsed)
}

/// Resolves the endpoint's host name (unless private addresses are allowed) and refuses it when
/// it does not resolve or any address it resolves to is private, loopback or link-local — as a
/// literal address is refused — rather than accepting it and failing every delivery for a day.
/// Each delivery resolves and checks the name again (a name may change where it points).
pub async fn check_destination(url: &reqwest::Url, policy: Policy) -> ApiResult<()> {
    if policy.allow_private {
        return Ok(());
    }
    let host = url.host_str().unwrap_or_default();
    match super::resolve(url, false).await {
        Ok(_) => Ok(()),
        Err(super::Unreachable::NoHost) => Err(invalid("url", "the URL has no host")),
        Err(super::Unreachable::DoesNotResolve) => Err(invalid(
            "url",
            format!("the host {host} does not resolve; register the webhook once it does"),
        )),
        Err(super::Unreachable::Forbidden) => Err(invalid(
            "url",
            format!(
                "the host {host} resolves to a private, loopback or link-local address, which \
                 is not allowed"
            ),
        )),
    }
}

/// Registers a webhook for the caller's LA.
pub async fn register(
    db: &impl Db,
    actor: &Acting,
    cmd: NewWebhook,
    policy: Policy,
) -> ApiResult<webhook::Model> {
    let url = check_url(&cmd.url, policy)?;
    let secret = cmd.secret.trim();
    if !(16..=200).contains(&secret.chars().count()) {
        return Err(invalid("secret", "give a secret of 16 to 200 characters"));
    }
    check_destination(&url, policy).await?;
    let types: Vec<&str> = cmd.event_types.iter().map(|t| t.as_str()).collect();
    webhook::ActiveModel {
        la_id: Set(actor.la_id),
        url: Set(url.to_string()),
        secret: Set(secret.to_owned()),
        event_types: Set(types.join(",")),
        active: Set(true),
        ..Default::default()
    }
    .created(actor)
    .insert_by(db, actor, None)
    .await
}

/// Stops deliveries to a webhook (pending ones are not sent).
pub async fn disable(
    db: &impl Db,
    actor: &Acting,
    id: WebhookId,
    expected_version: Option<i32>,
) -> ApiResult<webhook::Model> {
    let found = crate::db::find_in_la::<webhook::Entity>(db, actor.la_id, id.0)
        .await?
        .ok_or_else(|| {
            ApiError::user(UserErrorCode::NotFound, &["webhookId"], "no such webhook")
        })?;
    ApiError::check_version(expected_version, found.version)?;
    let version = found.version;
    let mut am: webhook::ActiveModel = found.into();
    am.active = Set(false);
    am.changed(actor, version).update_by(db, actor, None).await
}

/// The LA's webhooks, oldest first.
pub async fn list(db: &impl Db, actor: &Acting) -> ApiResult<Vec<webhook::Model>> {
    Ok(webhook::Entity::find()
        .filter(webhook::Column::LaId.eq(actor.la_id))
        .order_by_asc(webhook::Column::Id)
        .all(db)
        .await?)
}

/// A page of a webhook's deliveries, newest first; `(rows, total, more)`.
pub async fn deliveries(
    db: &impl Db,
    actor: &Acting,
    webhook: WebhookId,
    status: Option<DeliveryStatus>,
    page: &Page,
) -> ApiResult<(Vec<delivery::Model>, i64, bool)> {
    let mut query = delivery::Entity::find()
        .filter(delivery::Column::LaId.eq(actor.la_id))
        .filter(delivery::Column::WebhookId.eq(webhook.0));
    if let Some(s) = status {
        query = query.filter(delivery::Column::Status.eq(s.as_str()));
    }
    let total = query.clone().count(db).await? as i64;
    let (rows, more) = page_by_id(db, query, delivery::Column::Id, page, true).await?;
    Ok((rows, total, more))
}

/// Sends a delivery again (after it failed, or to re-send one delivered): pending now, with a
/// fresh 24 hours of retries.
pub async fn replay(
    db: &impl Db,
    actor: &Acting,
    id: WebhookDeliveryId,
) -> ApiResult<delivery::Model> {
    let found = crate::db::find_in_la::<delivery::Entity>(db, actor.la_id, id.0)
        .await?
        .ok_or_else(|| {
            ApiError::user(UserErrorCode::NotFound, &["deliveryId"], "no such delivery")
        })?;
    if found.status == DeliveryStatus::Pending {
        return Err(ApiError::user(
            UserErrorCode::Conflict,
            &["deliveryId"],
            "the delivery is still pending",
        ));
    }
    let now = Utc::now();
    let mut am: delivery::ActiveModel = found.into();
    am.status = Set(DeliveryStatus::Pending);
    am.next_attempt_at = Set(now);
    am.give_up_at = Set(now + GIVE_UP_AFTER);
    am.leased_until = Set(None);
    let saved = am.update_by(db, actor, None).await?;
    // No event comes of it: wake the dispatcher ourselves.
    actor.trail.nudge();
    Ok(saved)
}

/// The webhook queue, kept in step with the events of every unit of work.
pub struct QueueProjection;

#[async_trait::async_trait]
impl crate::unit::Projection for QueueProjection {
    async fn after(
        &self,
        tx: &sea_orm::DatabaseTransaction,
        la_id: i64,
        written: &[case_event::Model],
    ) -> ApiResult<()> {
        enqueue(tx, la_id, written).await
    }
}

/// Queues a delivery of each event to each active webhook of the LA that wants its type, in the
/// events' transaction.
pub async fn enqueue(
    db: &impl ConnectionTrait,
    la_id: i64,
    events: &[case_event::Model],
) -> ApiResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    let hooks = webhook::Entity::find()
        .filter(webhook::Column::LaId.eq(la_id))
        .filter(webhook::Column::Active.eq(true))
        .all(db)
        .await?;
    if hooks.is_empty() {
        return Ok(());
    }
    let now = Utc::now();
    let mut rows = Vec::new();
    for hook in &hooks {
        let wanted: Vec<&str> = hook
            .event_types
            .split(',')
            .filter(|t| !t.is_empty())
            .collect();
        for e in events {
            if !wanted.is_empty() && !wanted.contains(&e.event_type.as_str()) {
                continue;
            }
            rows.push(delivery::ActiveModel {
                la_id: Set(la_id),
                webhook_id: Set(hook.id),
                event_id: Set(e.id),
                ordering_key: Set(e.case_id.or(e.child_id.map(|c| -c)).unwrap_or(0)),
                status: Set(DeliveryStatus::Pending),
                attempts: Set(0),
                next_attempt_at: Set(now),
                give_up_at: Set(now + GIVE_UP_AFTER),
                created_at: Set(now),
                ..Default::default()
            });
        }
    }
    for chunk in rows.chunks(500) {
        delivery::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

/// The outcome of one attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The HTTP status, when the endpoint answered.
    pub status: Option<u16>,
    /// What went wrong, when it did (no personal data: a status or a transport error kind).
    pub error: Option<String>,
}

/// Records an attempt: delivered on 2xx; otherwise pending again after the back-off, or failed
/// once its 24 hours are over. Returns which: `delivered`, `retry` or `failed`.
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    found: delivery::Model,
    attempt: Attempt,
    retry_base: std::time::Duration,
    now: DateTime<Utc>,
) -> ApiResult<&'static str> {
    let attempts = found.attempts + 1;
    let ok = attempt.status.is_some_and(|s| (200..300).contains(&s));
    let give_up_at = found.give_up_at;
    let mut am: delivery::ActiveModel = found.into();
    am.attempts = Set(attempts);
    am.leased_until = Set(None);
    am.last_status = Set(attempt.status.map(i32::from));
    am.last_error = Set(attempt.error.map(|e| e.chars().take(200).collect()));
    let outcome = if ok {
        am.status = Set(DeliveryStatus::Delivered);
        am.delivered_at = Set(Some(now));
        "delivered"
    } else {
        let next = now
            + chrono::Duration::from_std(super::backoff(retry_base, attempts))
                .unwrap_or_else(|_| chrono::Duration::hours(1));
        if next > give_up_at {
            am.status = Set(DeliveryStatus::Failed);
            "failed"
        } else {
            am.next_attempt_at = Set(next);
            "retry"
        }
    };
    delivery::Entity::update(am).exec(db).await?;
    Ok(outcome)
}

/// A webhook of the caller's LA (for the delivery log's parent).
pub async fn get(db: &impl Db, actor: &Acting, id: WebhookId) -> ApiResult<webhook::Model> {
    crate::db::find_in_la::<webhook::Entity>(db, actor.la_id, id.0)
        .await?
        .or_not_found()
}
