//! The subscriptions. Each wake-up of a subscription runs its root field once, in a fresh tenant
//! transaction, with the subscription's [`Cursor`]: the field yields what is new since the last
//! wake-up and ends; the WebSocket session keeps the subscription open and wakes it again when
//! events commit. So every item is authorised and read exactly as a query would be.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, Result, Subscription};
use futures_util::stream::{self, Stream};

use super::feed::Feed;
use super::service::{self, Cursor, EventFilter};
use crate::cases::types::Case;
use crate::context::ContextExt;
use crate::domain::EventType;
use crate::error::ApiError;
use crate::events::types::CaseEvent;
use crate::ids::CaseId;

/// The subscription root.
#[derive(Default)]
pub struct LiveSubscription;

/// Which events to deliver; every given condition must hold.
#[derive(InputObject, Default)]
pub struct CaseEventFilter {
    /// Only events of these cases.
    pub case_ids: Option<Vec<ID>>,
    /// Only these kinds of event.
    pub types: Option<Vec<EventType>>,
    /// Only events of cases allocated to these teams.
    pub teams: Option<Vec<String>>,
}

fn cursor<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Cursor>> {
    ctx.data_opt::<Arc<Cursor>>().ok_or_else(|| {
        ApiError::BadInput("subscriptions are served over WebSocket (graphql-transport-ws)".into())
            .into()
    })
}

fn feed<'a>(ctx: &Context<'a>) -> Result<&'a Feed> {
    Ok(&ctx.data::<crate::context::AppData>()?.feed)
}

#[Subscription(name = "Subscription")]
impl LiveSubscription {
    /// Every event the caller may see, oldest first, as it is committed: optionally only some
    /// cases, kinds of event or teams. With `after` (an event's `position`) it first replays every
    /// event after that position, then goes live, with no gap and no duplicate; without it, it
    /// starts from now. Reconnect with the last position received to resume.
    async fn case_events(
        &self,
        ctx: &Context<'_>,
        filter: Option<CaseEventFilter>,
        after: Option<ID>,
    ) -> Result<impl Stream<Item = CaseEvent>> {
        let actor = ctx.reader()?;
        let cursor = cursor(ctx)?;
        let feed = feed(ctx)?;
        let filter = filter.unwrap_or_default();
        let mut case_ids = Vec::new();
        for (i, id) in filter.case_ids.unwrap_or_default().iter().enumerate() {
            // A malformed or foreign ID simply matches nothing of the caller's LA.
            case_ids.push(CaseId::parse(id).map_or(-1 - i as i64, |c| c.0));
        }
        let filter = EventFilter {
            case_ids,
            types: filter.types.unwrap_or_default(),
            teams: filter.teams.unwrap_or_default(),
        };
        if cursor.is_new() {
            let start = match &after {
                Some(p) => p
                    .parse::<i64>()
                    .ok()
                    .filter(|p| *p >= 0)
                    .ok_or_else(|| ApiError::BadInput("`after` is an event position".into()))?,
                None => feed.latest(actor.la_id).await?,
            };
            cursor.start(start);
        }
        let rows = service::next_events(feed, actor, &filter, cursor).await?;
        Ok(stream::iter(
            rows.into_iter().map(|e| CaseEvent(e.as_ref().clone())),
        ))
    }

    /// One case, sent at once and again, re-read, after each change to it. Ends with `NOT_FOUND`
    /// if the caller's LA has no such case.
    async fn case_updated(&self, ctx: &Context<'_>, id: ID) -> Result<impl Stream<Item = Case>> {
        let actor = ctx.reader()?;
        let cursor = cursor(ctx)?;
        let feed = feed(ctx)?;
        let Some(case_id) = CaseId::parse(&id) else {
            return Err(ApiError::NotFound.into());
        };
        // The first wake-up sends the case as it stands; later ones only when it changed.
        let first = cursor.is_new();
        if first {
            cursor.start(feed.latest(actor.la_id).await?);
        }
        let changed = service::case_changed(feed, actor, case_id.0, cursor).await?;
        if !first && !changed {
            return Ok(stream::iter(Vec::new()));
        }
        match crate::cases::service::get_case(ctx.db()?, actor, case_id).await? {
            Some(found) => Ok(stream::iter(vec![Case(ctx.seen(found))])),
            None => {
                ctx.missed("reunification_case", case_id.0);
                Err(ApiError::NotFound.into())
            }
        }
    }
}
