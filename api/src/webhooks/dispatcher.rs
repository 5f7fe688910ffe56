//! Sends queued deliveries. Every instance runs one dispatcher; a delivery is leased before it is
//! sent, so two instances do not send it at once. Within a webhook, a case's deliveries go one at
//! a time in event order: a failing one holds back the later ones of its case until it is
//! delivered or given up.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use entities::{case_event, local_authority, webhook, webhook_delivery as delivery};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde_json::json;
use tokio::sync::{broadcast, watch};

use super::service::{self, Attempt, DeliveryStatus, Policy};
use crate::db;
use crate::error::ApiResult;
use crate::ids::{CaseId, ChildId};
use crate::live::bus::Bus;

/// How long a claimed delivery is reserved for the instance sending it.
const LEASE: Duration = Duration::from_secs(60);
/// How long an endpoint has to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Pending deliveries looked at per LA per round.
const WINDOW: u64 = 500;

/// The webhook sender of one instance.
pub struct Dispatcher {
    /// The pool.
    pub db: DatabaseConnection,
    /// Per-transaction statement timeout.
    pub statement_timeout: Duration,
    /// Where deliveries may go.
    pub policy: Policy,
    /// First retry delay.
    pub retry_base: Duration,
    /// The server's metrics (deliveries by outcome).
    pub metrics: Arc<crate::metrics::Metrics>,
}

impl Dispatcher {
    /// Runs until shutdown: on each notice of committed events (and every second while an LA has
    /// deliveries pending, every 30 s otherwise) it sends what is due.
    pub fn spawn(self: Arc<Self>, bus: &Bus, mut shutdown: watch::Receiver<bool>) {
        let mut notices = bus.subscribe();
        tokio::spawn(async move {
            let mut work: HashSet<i64> = HashSet::new();
            let mut everyone = true;
            loop {
                if everyone {
                    everyone = false;
                    match self.all_las().await {
                        Ok(las) => work.extend(las),
                        Err(e) => tracing::warn!(error = ?e, "webhook dispatcher cannot list LAs"),
                    }
                }
                let round: Vec<i64> = work.iter().copied().collect();
                for la in round {
                    match self.run_la(la).await {
                        Ok(true) => {}
                        Ok(false) => {
                            work.remove(&la);
                        }
                        Err(e) => tracing::warn!(error = ?e, la.id = la, "webhook round failed"),
                    }
                }
                let pause = if work.is_empty() {
                    Duration::from_secs(30)
                } else {
                    Duration::from_secs(1)
                };
                tokio::select! {
                    notice = notices.recv() => match notice {
                        Ok(n) if n.la_id == 0 => everyone = true,
                        Ok(n) => {
                            work.insert(n.la_id);
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => everyone = true,
                        Err(broadcast::error::RecvError::Closed) => return,
                    },
                    _ = tokio::time::sleep(pause) => {
                        if work.is_empty() {
                            everyone = true;
                        }
                    }
                    _ = shutdown.changed() => return,
                }
            }
        });
    }

    async fn all_las(&self) -> ApiResult<Vec<i64>> {
        Ok(local_authority::Entity::find()
            .select_only()
            .column(local_authority::Column::Id)
            .into_tuple()
            .all(&self.db)
            .await?)
    }

    /// Sends the LA's due deliveries; whether any remain pending.
    async fn run_la(&self, la: i64) -> ApiResult<bool> {
        let now = Utc::now();
        let txn = db::begin_tenant(&self.db, la, self.statement_timeout).await?;
        let pending = delivery::Entity::find()
            .filter(delivery::Column::LaId.eq(la))
            .filter(delivery::Column::Status.eq(DeliveryStatus::Pending))
            .order_by_asc(delivery::Column::Id)
            .limit(WINDOW)
            .all(&txn)
            .await?;
        if pending.is_empty() {
            txn.commit().await?;
            return Ok(false);
        }
        // The first pending delivery of each webhook and case may go, if due and not leased.
        let mut heads = HashSet::new();
        let due: Vec<delivery::Model> = pending
            .into_iter()
            .filter(|d| heads.insert((d.webhook_id, d.ordering_key)))
            .filter(|d| d.next_attempt_at <= now && d.leased_until.is_none_or(|l| l < now))
            .collect();
        if due.is_empty() {
            txn.commit().await?;
            return Ok(true);
        }
        let ids: Vec<i64> = due.iter().map(|d| d.id).collect();
        let lease = now + chrono::Duration::from_std(LEASE).unwrap_or_default();
        let leased = delivery::Entity::update_many()
            .col_expr(delivery::Column::LeasedUntil, lease.into())
            .filter(delivery::Column::LaId.eq(la))
            .filter(delivery::Column::Id.is_in(ids.clone()))
            .filter(
                sea_orm::Condition::any()
                    .add(delivery::Column::LeasedUntil.is_null())
                    .add(delivery::Column::LeasedUntil.lt(now)),
            )
            .exec(&txn)
            .await?;
        if leased.rows_affected != ids.len() as u64 {
            // Another instance took some of them: leave this round to it.
            txn.rollback().await?;
            return Ok(true);
        }
        let hooks: HashMap<i64, webhook::Model> = webhook::Entity::find()
            .filter(webhook::Column::LaId.eq(la))
            .all(&txn)
            .await?
            .into_iter()
            .map(|w| (w.id, w))
            .collect();
        let events: HashMap<i64, case_event::Model> = case_event::Entity::find()
            .filter(case_event::Column::LaId.eq(la))
            .filter(case_event::Column::Id.is_in(due.iter().map(|d| d.event_id)))
            .all(&txn)
            .await?
            .into_iter()
            .map(|e| (e.id, e))
            .collect();
        let code = local_authority::Entity::find_by_id(la)
            .one(&txn)
            .await?
            .map(|l| l.dfe_code)
            .unwrap_or_default();
        txn.commit().await?;

        for d in due {
            let attempt = match (hooks.get(&d.webhook_id), events.get(&d.event_id)) {
                (Some(hook), Some(event)) if hook.active => self.send(hook, event, &code).await,
                (Some(_), Some(_)) => Attempt {
                    status: None,
                    error: Some("the webhook is disabled".to_owned()),
                },
                _ => Attempt {
                    status: None,
                    error: Some("the webhook or event is gone".to_owned()),
                },
            };
            let txn = db::begin_tenant(&self.db, la, self.statement_timeout).await?;
            let outcome =
                service::record_attempt(&txn, d, attempt, self.retry_base, Utc::now()).await?;
            txn.commit().await?;
            self.metrics.delivery(outcome);
        }
        Ok(true)
    }

    /// One attempt: resolve the host, refuse forbidden addresses, POST the signed event to the
    /// address checked (no redirects).
    async fn send(&self, hook: &webhook::Model, event: &case_event::Model, la: &str) -> Attempt {
        let fail = |e: &str| Attempt {
            status: None,
            error: Some(e.to_owned()),
        };
        let Ok(url) = reqwest::Url::parse(&hook.url) else {
            return fail("the URL does not parse");
        };
        let (host, addrs) = match super::resolve(&url, self.policy.allow_private).await {
            Ok(resolved) => resolved,
            Err(super::Unreachable::NoHost) => return fail("the URL has no host"),
            Err(super::Unreachable::DoesNotResolve) => return fail("the host does not resolve"),
            Err(super::Unreachable::Forbidden) => {
                return fail("the destination address is not allowed");
            }
        };
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .resolve_to_addrs(&host, &addrs)
            .build()
        {
            Ok(c) => c,
            Err(_) => return fail("cannot build the HTTP client"),
        };
        let body = json!({
            "id": event.id.to_string(),
            "type": event.event_type,
            "occurredAt": event.occurred_at,
            "localAuthority": la,
            "caseId": event.case_id.map(|c| CaseId(c).to_global().0),
            "childId": event.child_id.map(|c| ChildId(c).to_global().0),
            "recordType": event.record_type,
            "recordId": crate::ids::global_of_row(&event.record_type, event.record_id).0,
            "fields": event.fields.as_deref().map(|f| f.split(',').collect::<Vec<_>>()).unwrap_or_default(),
            "operation": event.operation,
        })
        .to_string()
        .into_bytes();
        let timestamp = Utc::now().timestamp();
        let signature = super::signature(&hook.secret, timestamp, &body);
        let sent = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::USER_AGENT, "Reunify-Webhooks/1")
            .header("Reunify-Event-Id", event.id.to_string())
            .header("Reunify-Timestamp", timestamp.to_string())
            .header("Reunify-Signature", signature)
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) => {
                let status = r.status();
                Attempt {
                    status: Some(status.as_u16()),
                    error: (!status.is_success()).then(|| format!("answered {}", status.as_u16())),
                }
            }
            Err(e) if e.is_timeout() => fail("timed out"),
            Err(e) if e.is_connect() => fail("cannot connect"),
            Err(_) => fail("the request failed"),
        }
    }
}
