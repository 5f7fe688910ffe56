//! Bulk import: records applied one by one, each whole or not at all, with a result per record.
//! Shared by the `bulkImport` mutation (up to [`MAX_ITEMS`]) and the JSON Lines upload
//! (`POST /imports`, any number, committed in batches of [`BATCH`]).

use async_graphql::InputType as _;
use sea_orm::DatabaseTransaction;

use super::types::{ImportItem, ImportItemResult, ImportKind, ImportResult};
use super::{records, service};
use crate::audit::acting::Acting;
use crate::children::service::{UpsertResult, upsert_child};
use crate::children::types::{ExternalIdentifier, ExternalIdentifierInput};
use crate::error::{ApiError, ApiResult, UserError, UserErrorCode};
use crate::ids::{
    AgreementPartyId, CaseId, ChildId, EpisodeId, HouseholdMemberId, ReviewId, ServiceId, VisitId,
};

/// Most items one `bulkImport` takes.
pub const MAX_ITEMS: usize = 500;
/// Items of an upload committed together.
pub const BATCH: usize = 250;

/// Applies one item in `txn`, under `prefix` (the path of the item in the request, after `input`).
/// A rejected item leaves nothing behind: its writes are in a savepoint rolled back, and the
/// events it caused are forgotten. Only a fault (not a rule) is an `Err`.
pub async fn apply(
    txn: &DatabaseTransaction,
    actor: &Acting,
    index: usize,
    item: ImportItem,
    prefix: &[String],
) -> ApiResult<ImportItemResult> {
    let (kind, external_id) = describe(&item);
    let mark = actor.trail.mark();
    // The record kinds' futures are boxed: held inline, the largest sizes every item's.
    let outcome = match item {
        ImportItem::Child(input) => {
            let expected = input.expected_version;
            let cmd = input.child.with([input.external_id]);
            Box::pin(upsert_child(txn, actor, cmd, expected))
                .await
                .map(|(m, r)| (ChildId(m.id).to_global(), m.version, r))
        }
        ImportItem::Episode(input) => match input.into_cmd() {
            Ok((cmd, expected)) => Box::pin(service::upsert_episode(txn, actor, cmd, expected))
                .await
                .map(|(m, r)| (EpisodeId(m.id).to_global(), m.version, r)),
            Err(e) => Err(e),
        },
        ImportItem::Case(input) => match input.into_cmd() {
            Ok((cmd, expected)) => Box::pin(service::upsert_case(txn, actor, cmd, expected))
                .await
                .map(|(m, r)| (CaseId(m.id).to_global(), m.version, r)),
            Err(e) => Err(e),
        },
        ImportItem::HouseholdMember(input) => match input.into_parts() {
            Ok((ext, child, member, expected)) => Box::pin(records::upsert_member(
                txn, actor, &ext, child, member, expected,
            ))
            .await
            .map(|(m, r)| (HouseholdMemberId(m.id).to_global(), m.version, r)),
            Err(e) => Err(e),
        },
        ImportItem::SupportService(input) => match input.into_parts() {
            Ok((ext, case, service, expected)) => Box::pin(records::upsert_service(
                txn, actor, &ext, case, service, expected,
            ))
            .await
            .map(|(m, r)| (ServiceId(m.id).to_global(), m.version, r)),
            Err(e) => Err(e),
        },
        ImportItem::Visit(input) => match input.into_parts() {
            Ok((ext, case, visit, expected)) => Box::pin(records::upsert_visit(
                txn, actor, &ext, case, visit, expected,
            ))
            .await
            .map(|(m, r)| (VisitId(m.id).to_global(), m.version, r)),
            Err(e) => Err(e),
        },
        ImportItem::Review(input) => match input.into_parts() {
            Ok((ext, case, review, expected)) => Box::pin(records::upsert_review(
                txn, actor, &ext, case, review, expected,
            ))
            .await
            .map(|(m, r)| (ReviewId(m.id).to_global(), m.version, r)),
            Err(e) => Err(e),
        },
        ImportItem::AgreementParty(input) => match input.into_parts() {
            Ok((ext, case, member, sent, expected)) => Box::pin(records::upsert_party(
                txn, actor, &ext, case, member, sent, expected,
            ))
            .await
            .map(|(m, r)| (AgreementPartyId(m.id).to_global(), m.version, r)),
            Err(e) => Err(e),
        },
    };
    let mut result = ImportItemResult {
        index: index as i32,
        kind: Some(kind),
        external_id: Some(external_id),
        result: ImportResult::Rejected,
        id: None,
        version: None,
        user_errors: Vec::new(),
    };
    match outcome {
        Ok((id, version, done)) => {
            result.result = match done {
                UpsertResult::Created => ImportResult::Created,
                UpsertResult::Updated => ImportResult::Updated,
                UpsertResult::Unchanged => ImportResult::Unchanged,
            };
            result.id = Some(id);
            result.version = Some(version);
        }
        Err(ApiError::User(errors)) => {
            actor.trail.rollback(mark);
            result.user_errors = errors.into_iter().map(|e| under(e, prefix)).collect();
        }
        Err(fault) => return Err(fault),
    }
    Ok(result)
}

fn describe(item: &ImportItem) -> (ImportKind, ExternalIdentifier) {
    let (kind, ext): (_, &ExternalIdentifierInput) = match item {
        ImportItem::Child(i) => (ImportKind::Child, &i.external_id),
        ImportItem::Episode(i) => (ImportKind::Episode, &i.external_id),
        ImportItem::Case(i) => (ImportKind::Case, &i.external_id),
        ImportItem::HouseholdMember(i) => (ImportKind::HouseholdMember, &i.external_id),
        ImportItem::SupportService(i) => (ImportKind::SupportService, &i.external_id),
        ImportItem::Visit(i) => (ImportKind::Visit, &i.external_id),
        ImportItem::Review(i) => (ImportKind::Review, &i.external_id),
        ImportItem::AgreementParty(i) => (ImportKind::AgreementParty, &i.external_id),
    };
    let ext = ExternalIdentifier {
        system: ext.system.clone(),
        value: ext.value.clone(),
    };
    (kind, ext)
}

/// The error with its field path moved under `prefix` (after the leading `input`).
fn under(mut e: UserError, prefix: &[String]) -> UserError {
    if let Some(field) = &mut e.field {
        let rest = field.split_off(1.min(field.len()));
        field.extend(prefix.iter().cloned());
        field.extend(rest);
    }
    e
}

/// Where an item of `bulkImport` sits: `items.<index>.<kind>`.
pub fn mutation_prefix(index: usize, item: &ImportItem) -> Vec<String> {
    vec![
        "items".to_owned(),
        index.to_string(),
        kind_name(item).to_owned(),
    ]
}

fn kind_name(item: &ImportItem) -> &'static str {
    match item {
        ImportItem::Child(_) => "child",
        ImportItem::Episode(_) => "episode",
        ImportItem::Case(_) => "case",
        ImportItem::HouseholdMember(_) => "householdMember",
        ImportItem::SupportService(_) => "supportService",
        ImportItem::Visit(_) => "visit",
        ImportItem::Review(_) => "review",
        ImportItem::AgreementParty(_) => "agreementParty",
    }
}

/// Parses one line of a JSON Lines upload: a JSON object holding exactly one record kind
/// (`child`, `episode`, `case`, `householdMember`, …), as the matching upsert mutation takes it.
/// Text holding a control character is refused as the GraphQL endpoint refuses it, naming the
/// field.
pub fn parse_line(line: &[u8]) -> Result<ImportItem, UserError> {
    let invalid = |field: Option<Vec<String>>, message: String| UserError {
        field,
        message,
        code: UserErrorCode::Invalid,
    };
    let json: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| invalid(None, format!("not valid JSON: {e}")))?;
    let value = async_graphql::Value::from_json(json)
        .map_err(|e| invalid(None, format!("not a JSON object: {e}")))?;
    let mut path = Vec::new();
    if let Some(c) = crate::inputs::find_control_char(&value, &mut path) {
        let message = crate::inputs::control_char_message(&path, c);
        // Under `input`, as an applied item's errors are (the answer shows the path after it).
        let field = std::iter::once("input".to_owned()).chain(path).collect();
        return Err(invalid(Some(field), message));
    }
    ImportItem::parse(Some(value)).map_err(|e| {
        let message = e.into_server_error(Default::default()).message;
        invalid(
            None,
            format!(
                "not an import record (one of child, episode, case, householdMember, \
                 supportService, visit, review, agreementParty: {{…}}): {message}"
            ),
        )
    })
}

/// A line the upload could not parse: rejected without touching the database.
pub fn unparsed(index: usize, error: UserError) -> ImportItemResult {
    ImportItemResult {
        index: index as i32,
        kind: None,
        external_id: None,
        result: ImportResult::Rejected,
        id: None,
        version: None,
        user_errors: vec![error],
    }
}

/// The prefix of an upload line's errors: its kind (so `child.dateOfBirth`).
pub fn line_prefix(item: &ImportItem) -> Vec<String> {
    vec![kind_name(item).to_owned()]
}

/// An upload that stopped on a fault: the lines before `committed_lines` are stored.
#[derive(Debug)]
pub struct Stopped {
    /// The fault.
    pub error: ApiError,
    /// Lines committed before it (every batch before the failing one).
    pub committed_lines: usize,
}

/// Applies a JSON Lines upload: every non-blank line one record, committed in batches of
/// [`BATCH`] lines (each batch a unit of work of its own, with its audit rows and events, told
/// to `outlets` when it commits). Returns one result per non-blank line,
/// `index` being its line number from 0.
pub async fn upload(
    pool: &sea_orm::DatabaseConnection,
    actor: &Acting,
    statement_timeout: std::time::Duration,
    body: &[u8],
    outlets: &crate::unit::Outlets,
) -> Result<Vec<ImportItemResult>, Stopped> {
    let lines: Vec<(usize, &[u8])> = body
        .split(|b| *b == b'\n')
        .enumerate()
        .filter(|(_, l)| !l.trim_ascii().is_empty())
        .collect();
    let mut results = Vec::with_capacity(lines.len());
    let mut done = 0;
    for batch in lines.chunks(BATCH) {
        let stored = async {
            let unit = crate::unit::Unit::begin(pool, actor.la_id, statement_timeout).await?;
            let mut out = Vec::with_capacity(batch.len());
            for (n, line) in batch {
                out.push(match parse_line(line) {
                    Ok(item) => {
                        let prefix = line_prefix(&item);
                        Box::pin(apply(unit.tx(), actor, *n, item, &prefix)).await?
                    }
                    Err(error) => unparsed(*n, error),
                });
            }
            unit.finish(actor, outlets).await?;
            Ok::<_, ApiError>(out)
        }
        .await;
        match stored {
            Ok(out) => {
                results.extend(out);
                done = batch.last().map_or(done, |(n, _)| n + 1);
            }
            Err(error) => {
                return Err(Stopped {
                    error,
                    committed_lines: done,
                });
            }
        }
    }
    Ok(results)
}

/// One line of an upload's answer.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Line<'a> {
    line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<ImportKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    external_id: Option<&'a ExternalIdentifier>,
    result: ImportResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i32>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<LineError<'a>>,
}

#[derive(serde::Serialize)]
struct LineError<'a> {
    field: Option<&'a [String]>,
    message: &'a str,
    code: String,
}

/// The answer to an upload as JSON Lines: one line per record (`line` numbered from 1, errors'
/// fields from the record's kind, e.g. `["child", "dateOfBirth"]`), then a `summary` line.
pub fn render(results: &[ImportItemResult]) -> String {
    let mut totals = super::types::BulkImportPayload::default();
    let mut out = String::new();
    for r in results {
        totals.count(r.result);
        let line = Line {
            line: r.index as usize + 1,
            kind: r.kind,
            external_id: r.external_id.as_ref(),
            result: r.result,
            id: r.id.as_ref().map(|id| id.as_str()),
            version: r.version,
            errors: r
                .user_errors
                .iter()
                .map(|e| LineError {
                    field: e.field.as_deref().map(|f| f.get(1..).unwrap_or_default()),
                    message: &e.message,
                    code: async_graphql::InputType::to_value(&e.code).to_string(),
                })
                .collect(),
        };
        push_json(&mut out, &line);
    }
    let summary = serde_json::json!({ "summary": {
        "lines": results.len(),
        "created": totals.created,
        "updated": totals.updated,
        "unchanged": totals.unchanged,
        "rejected": totals.rejected,
    }});
    push_json(&mut out, &summary);
    out
}

fn push_json(out: &mut String, value: &impl serde::Serialize) {
    // Serialising these plain structs cannot fail; an empty line would show if it ever did.
    out.push_str(&serde_json::to_string(value).unwrap_or_default());
    out.push('\n');
}
