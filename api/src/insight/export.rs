//! Exports for data teams, streamed a page at a time (nothing holds the whole file):
//! - the LA's reunification cases as CSV, one row per case with its episode of care in the
//!   SSDA903 column names and codes (dates DD/MM/YYYY) followed by Reunify's outcome columns;
//! - the aggregates as JSON Lines, one line per group of each aggregate.

use std::collections::HashMap;

use axum::body::Bytes;
use chrono::NaiveDate;
use entities::{care_episode, case_fact, child, reunification_case as case};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt as _};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;

use super::aggregates::{self as agg, Presentation, Query};
use crate::auth::{Actor, Role};
use crate::error::{ApiError, ApiResult};
use crate::ids::CaseId;

/// Cases per page read and written.
pub const PAGE: u64 = 500;

/// The columns of the episodes export: SSDA903 names (header and episodes files) first, then
/// Reunify's own.
pub const EPISODE_COLUMNS: &[&str] = &[
    "CHILD",
    "SEX",
    "DOB",
    "ETHNIC",
    "UPN",
    "DECOM",
    "LS",
    "CIN",
    "PLACE",
    "DEC",
    "REC",
    "REUNIFY_CASE_ID",
    "ATTEMPT",
    "TEAM",
    "STAGE",
    "STATUS",
    "CASE_OPENED",
    "RISK_LEVEL",
    "RETURN_DATE",
    "RETURN_TYPE",
    "REENTRY_DATE",
    "CLOSURE_REASON",
    "CASE_CLOSED",
];

/// Who may export child-level records: a reader who manages cases or the LA (team manager,
/// nominated officer, LA admin).
pub fn may_export_records(actor: &Actor) -> ApiResult<()> {
    actor.require_read()?;
    if [Role::TeamManager, Role::NominatedOfficer, Role::LaAdmin]
        .iter()
        .any(|r| actor.has_role(*r))
    {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "exports of child-level records are for team managers, nominated officers and LA admins"
                .into(),
        ))
    }
}

/// SSDA903 dates: DD/MM/YYYY.
pub fn ssda_date(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(ssda_date).unwrap_or_default()
}

/// Free text a spreadsheet would run as a formula is written with a leading apostrophe.
fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

pub(super) fn io(e: impl std::fmt::Debug) -> std::io::Error {
    tracing::error!(error.detail = ?e, "an export stopped");
    std::io::Error::other("the export stopped")
}

/// The LA's cases as CSV, read in pages of `page` cases in the given (tenant, read-only)
/// transaction, which the stream owns and ends.
pub fn episodes_csv(
    txn: DatabaseTransaction,
    la: i64,
    page: u64,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let header = stream::once(async { csv_line(EPISODE_COLUMNS.iter().copied()) });
    let pages = stream::try_unfold((Some(txn), 0_i64), move |(txn, after)| async move {
        let Some(txn) = txn else { return Ok(None) };
        let (bytes, last) = episodes_page(&txn, la, after, page).await.map_err(io)?;
        match last {
            Some(last) => Ok(Some((bytes, (Some(txn), last)))),
            None => {
                txn.commit().await.map_err(io)?;
                Ok(None)
            }
        }
    });
    header.chain(pages)
}

pub(super) fn csv_line<'a>(
    fields: impl IntoIterator<Item = &'a str>,
) -> Result<Bytes, std::io::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(fields).map_err(io)?;
    w.into_inner().map(Bytes::from).map_err(io)
}

/// One page of rows after case `after`; the last case id, or `None` when there are no more.
async fn episodes_page(
    txn: &DatabaseTransaction,
    la: i64,
    after: i64,
    page: u64,
) -> ApiResult<(Bytes, Option<i64>)> {
    let cases = case::Entity::find()
        .filter(case::Column::LaId.eq(la))
        .filter(case::Column::Id.gt(after))
        .order_by_asc(case::Column::Id)
        .limit(page)
        .all(txn)
        .await?;
    let Some(last) = cases.last().map(|c| c.id) else {
        return Ok((Bytes::new(), None));
    };
    // The page's rows of `$table` whose `$column` is one of `$ids`, by that column.
    macro_rules! rows_by {
        ($table:ident, $column:ident, $field:ident, $ids:expr) => {
            $table::Entity::find()
                .filter($table::Column::LaId.eq(la))
                .filter($table::Column::$column.is_in($ids))
                .all(txn)
                .await?
                .into_iter()
                .map(|r| (r.$field, r))
                .collect::<HashMap<i64, $table::Model>>()
        };
    }
    let children = rows_by!(child, Id, id, cases.iter().map(|c| c.child_id));
    let episodes = rows_by!(care_episode, Id, id, cases.iter().map(|c| c.episode_id));
    let facts = rows_by!(case_fact, CaseId, case_id, cases.iter().map(|c| c.id));
    let mut w = csv::Writer::from_writer(Vec::with_capacity(cases.len() * 160));
    for c in &cases {
        let (Some(ch), Some(ep)) = (children.get(&c.child_id), episodes.get(&c.episode_id)) else {
            return Err(ApiError::internal("a case's child or episode is missing"));
        };
        let fact = facts
            .get(&c.id)
            .map(|f| super::facts::CaseFacts::read(&f.body))
            .transpose()?;
        let fact = fact.as_ref();
        let row = [
            cell(&ch.la_child_id),
            ch.sex.clone(),
            ssda_date(ch.date_of_birth),
            ch.ethnicity.clone(),
            ch.upn.clone().unwrap_or_default(),
            ssda_date(ep.started_on),
            ep.legal_status.clone(),
            ep.category_of_need.clone(),
            ep.placement_type.clone(),
            opt_date(ep.ended_on),
            ep.reason_ceased.clone().unwrap_or_default(),
            CaseId(c.id).to_global().0,
            c.attempt_number.to_string(),
            cell(c.team.as_deref().unwrap_or_default()),
            c.stage.as_str().to_owned(),
            c.status.as_str().to_owned(),
            ssda_date(c.opened_on),
            c.risk_level.map(|l| l.to_string()).unwrap_or_default(),
            opt_date(fact.and_then(|f| f.return_on)),
            c.return_type
                .map(|t| t.as_str().to_owned())
                .unwrap_or_default(),
            opt_date(fact.and_then(|f| f.reentered_on)),
            fact.and_then(|f| f.closure_reason.map(|r| r.as_str().to_owned()))
                .unwrap_or_default(),
            opt_date(c.closed_on),
        ];
        w.write_record(&row)
            .map_err(|e| ApiError::internal(format!("csv: {e}")))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::internal(format!("csv: {e}")))?;
    Ok((Bytes::from(bytes), Some(last)))
}

/// Reads the aggregate export's parameters (dates `YYYY-MM-DD`, dimensions by their GraphQL
/// names); the message names what is wrong.
pub fn parse_query(
    from: Option<&str>,
    to: Option<&str>,
    as_of: Option<&str>,
    group_by: Option<&str>,
) -> Result<Query, String> {
    let date = |name: &str, v: Option<&str>| {
        v.map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map_err(|_| format!("{name} must be a date, YYYY-MM-DD"))
        })
        .transpose()
    };
    let from = date("from", from)?;
    let to = date("to", to)?;
    if let (Some(f), Some(t)) = (from, to)
        && f > t
    {
        return Err("the period ends before it starts".to_owned());
    }
    let mut dims = Vec::new();
    for name in group_by
        .unwrap_or_default()
        .split(',')
        .filter(|s| !s.is_empty())
    {
        let dim = <agg::Dimension as async_graphql::InputType>::parse(Some(
            async_graphql::Value::Enum(async_graphql::Name::new(name.trim())),
        ))
        .map_err(|_| format!("{name} is not a dimension"))?;
        if !dims.contains(&dim) {
            dims.push(dim);
        }
    }
    Ok(Query {
        from,
        to,
        only: Vec::new(),
        group_by: dims,
        as_of: date("asOf", as_of)?.unwrap_or_else(crate::cases::service::today),
    })
}

/// The aggregates, in the order of the `Insight` type.
pub const AGGREGATES: &[&str] = &[
    "cases",
    "stageTimes",
    "decisionTimes",
    "decisions",
    "riskLevels",
    "riskMovement",
    "goals",
    "services",
    "supportDuration",
    "returns",
    "stillHome",
    "reentries",
    "frameworkUse",
];

/// One aggregate's groups, each as a JSON object naming the aggregate.
fn lines<T: Serialize>(name: &str, rows: ApiResult<Vec<T>>) -> ApiResult<Bytes> {
    let mut out = Vec::new();
    for row in rows? {
        let mut value =
            serde_json::to_value(row).map_err(|e| ApiError::internal(format!("jsonl: {e}")))?;
        if let Some(map) = value.as_object_mut() {
            map.insert("aggregate".to_owned(), name.into());
        }
        serde_json::to_writer(&mut out, &value)
            .map_err(|e| ApiError::internal(format!("jsonl: {e}")))?;
        out.push(b'\n');
    }
    Ok(Bytes::from(out))
}

/// Every aggregate over the facts as JSON Lines: the aggregates are computed off the async
/// threads, as many at once as there are cores, and written in the order of `AGGREGATES`.
pub fn insight_jsonl(
    facts: Vec<super::facts::CaseFacts>,
    q: Query,
    p: Presentation,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let shared = std::sync::Arc::new((facts, q));
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    stream::iter(AGGREGATES.iter().copied())
        .map(move |name| {
            let shared = shared.clone();
            async move {
                tokio::task::spawn_blocking(move || aggregate(name, &shared.1, p, &shared.0))
                    .await
                    .map_err(io)?
                    .map_err(io)
            }
        })
        .buffered(workers)
}

/// One aggregate's JSON Lines.
fn aggregate(
    name: &str,
    q: &Query,
    p: Presentation,
    f: &[super::facts::CaseFacts],
) -> ApiResult<Bytes> {
    match name {
        "cases" => lines(name, Ok(agg::cases(q, p, f))),
        "stageTimes" => lines(name, agg::stage_times(q, p, f)),
        "decisionTimes" => lines(name, agg::decision_times(q, p, f)),
        "decisions" => lines(name, agg::decisions(q, p, f)),
        "riskLevels" => lines(name, agg::risk_levels(q, p, f)),
        "riskMovement" => lines(name, agg::risk_movement(q, p, f)),
        "goals" => lines(name, agg::goals(q, p, f)),
        "services" => lines(name, agg::services(q, p, f)),
        "supportDuration" => lines(name, agg::support_duration(q, p, f)),
        "returns" => lines(name, Ok(agg::returns(q, p, f))),
        "stillHome" => lines(name, Ok(agg::still_home(q, p, f))),
        "reentries" => lines(name, Ok(agg::reentries(q, p, f))),
        _ => lines(name, agg::framework_use(q, p, f)),
    }
}
