//! Legal hold, recording a death, and the subject-access export: parse, guard, call, map.

use async_graphql::{Context, ID, InputObject, Json, Object, Result};

use super::service;
use crate::children::types::Child;
use crate::context::ContextExt;
use crate::ids::ChildId;
use crate::payload::run;
use crate::scalars::Date;

/// The subject-access export.
#[derive(Default)]
pub struct RetentionQuery;

#[Object]
impl RetentionQuery {
    /// Everything held about one child of the caller's LA, as one JSON document in the format
    /// reunify-subject-access/1 (the child, identifiers, household, episodes, cases and every
    /// record in them keyed by table, and the audit trail of who read or changed any of it), for
    /// answering a subject access request. LA administrators only; the export is itself recorded
    /// in the audit trail. Null when the LA has no such child.
    async fn subject_access_export(
        &self,
        ctx: &Context<'_>,
        child_id: ID,
    ) -> Result<Option<Json<serde_json::Value>>> {
        let actor = ctx.admin()?;
        let Some(id) = ChildId::parse(&child_id) else {
            return Ok(None);
        };
        let doc = service::export(ctx.db()?, actor, id).await?;
        if doc.is_none() {
            ctx.missed("child", id.0);
        }
        Ok(doc.map(Json))
    }
}

/// Legal hold and death.
#[derive(Default)]
pub struct RetentionMutation;

/// Input of `childLegalHoldSet`.
#[derive(InputObject)]
pub struct ChildLegalHoldSetInput {
    /// The child.
    pub child_id: ID,
    /// True to keep the record past its retention date (litigation, inquiry); false to lift it.
    pub hold: bool,
    /// The child's current version, to refuse the change if someone changed it meanwhile.
    pub expected_version: Option<i32>,
}

/// Input of `childDeathRecord`.
#[derive(InputObject)]
pub struct ChildDeathRecordInput {
    /// The child.
    pub child_id: ID,
    /// Date of death (not in the future, not before birth).
    pub died_on: Date,
    /// The child's current version.
    pub expected_version: Option<i32>,
}

crate::payload!(
    /// Result of `childLegalHoldSet` and `childDeathRecord`.
    ChildRetentionPayload {
        /// The child, with its retention date and hold.
        child: Child
    }
);

#[Object]
impl RetentionMutation {
    /// Places a child's record on legal hold, or lifts the hold (LA administrators only). A held
    /// record is never purged.
    async fn child_legal_hold_set(
        &self,
        ctx: &Context<'_>,
        input: ChildLegalHoldSetInput,
    ) -> Result<ChildRetentionPayload> {
        run(async {
            let id = ChildId::from_input(&input.child_id, &["childId"])?;
            let child = service::set_legal_hold(
                ctx.db()?,
                ctx.admin()?,
                id,
                input.hold,
                input.expected_version,
            )
            .await?;
            Ok(ChildRetentionPayload::ok(Child(child)))
        })
        .await
    }

    /// Records a child's death: a child who died before 18 has their record kept for 15 years
    /// after death instead of until their 75th birthday.
    async fn child_death_record(
        &self,
        ctx: &Context<'_>,
        input: ChildDeathRecordInput,
    ) -> Result<ChildRetentionPayload> {
        run(async {
            let id = ChildId::from_input(&input.child_id, &["childId"])?;
            let child = service::record_death(
                ctx.db()?,
                ctx.writer()?,
                id,
                input.died_on.0,
                input.expected_version,
            )
            .await?;
            Ok(ChildRetentionPayload::ok(Child(child)))
        })
        .await
    }
}
