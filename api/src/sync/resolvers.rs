//! Queries and mutations for syncing from case-management systems: parse, guard, call, map.

use async_graphql::{Context, Object, Result};

use super::import::{self, MAX_ITEMS};
use super::service;
use super::types::{
    BulkImportInput, BulkImportPayload, CaseUpsertInput, ChildMergeInput, EpisodeUpsertInput,
};
use crate::cases::types::Case;
use crate::children::service::ExternalId;
use crate::children::types::{CareEpisode, Child};
use crate::context::ContextExt;
use crate::error::{ApiError, UserErrorCode};
use crate::payload::run;

/// Lookups by a sending system's identifier.
#[derive(Default)]
pub struct SyncQuery;

#[Object]
impl SyncQuery {
    /// The episode of care of the caller's LA that another system's identifier names; null when none.
    async fn episode_by_external_id(
        &self,
        ctx: &Context<'_>,
        system: String,
        value: String,
    ) -> Result<Option<CareEpisode>> {
        let actor = ctx.reader()?;
        let ext = ExternalId { system, value };
        let found = service::episode_by_external_id(ctx.db()?, actor, &ext).await?;
        Ok(found.map(|m| CareEpisode(ctx.seen(m))))
    }

    /// The reunification case of the caller's LA that another system's identifier names; null when none.
    async fn case_by_external_id(
        &self,
        ctx: &Context<'_>,
        system: String,
        value: String,
    ) -> Result<Option<Case>> {
        let actor = ctx.reader()?;
        let ext = ExternalId { system, value };
        let found = service::case_by_external_id(ctx.db()?, actor, &ext).await?;
        Ok(found.map(|m| Case(ctx.seen(m))))
    }
}

crate::upsert_payload!(
    /// Result of `episodeUpsert`.
    EpisodeUpsertPayload {
        /// The episode.
        episode: CareEpisode
    }
);

crate::upsert_payload!(
    /// Result of `caseUpsert`.
    CaseUpsertPayload {
        /// The case.
        case: Case
    }
);

crate::payload!(
    /// Result of `childMerge`.
    ChildMergePayload {
        /// The kept record, now holding the duplicate's episodes, cases, household and identifiers.
        child: Child
    }
);

/// Mutations for syncing from case-management systems.
#[derive(Default)]
pub struct SyncMutation;

#[Object]
impl SyncMutation {
    /// Creates or updates an episode of care by a sending system's identifier: the episode that
    /// identifier names is brought to what is sent (`UNCHANGED` when it already holds it), or
    /// created with the identifier. The SSDA903 rules for one episode apply (codes for the
    /// collection year, no start before birth, end date and reason ceased together, end not
    /// before start, placement age limits); at most one episode of a child is open.
    async fn episode_upsert(
        &self,
        ctx: &Context<'_>,
        input: EpisodeUpsertInput,
    ) -> Result<EpisodeUpsertPayload> {
        run(async {
            let (cmd, expected) = input.into_cmd()?;
            let (episode, result) =
                service::upsert_episode(ctx.db()?, ctx.writer()?, cmd, expected).await?;
            Ok(EpisodeUpsertPayload::done(CareEpisode(episode), result))
        })
        .await
    }

    /// Opens a reunification case by a sending system's identifier, or brings its allocation
    /// (worker, team) to what is sent. A case cannot move to another child or episode.
    async fn case_upsert(
        &self,
        ctx: &Context<'_>,
        input: CaseUpsertInput,
    ) -> Result<CaseUpsertPayload> {
        run(async {
            let (cmd, expected) = input.into_cmd()?;
            let (case, result) =
                service::upsert_case(ctx.db()?, ctx.writer()?, cmd, expected).await?;
            Ok(CaseUpsertPayload::done(Case(case), result))
        })
        .await
    }

    /// Merges two records found to be the same child: the duplicate's household members,
    /// episodes, cases and external identifiers move to the kept record, which also takes the
    /// NHS number and UPN it lacks and any legal hold; the duplicate is removed. Refused while
    /// both have an open episode or an active case. Audited as `MERGE`.
    async fn child_merge(
        &self,
        ctx: &Context<'_>,
        input: ChildMergeInput,
    ) -> Result<ChildMergePayload> {
        run(async {
            let cmd = input.into_cmd()?;
            let kept = service::merge_children(ctx.db()?, ctx.writer()?, cmd).await?;
            Ok(ChildMergePayload::ok(Child(kept)))
        })
        .await
    }

    /// Imports up to 500 children, episodes and cases, each as its upsert mutation takes it,
    /// applied in order and each on its own: an item is written whole or, when it breaks a rule,
    /// not at all (`REJECTED` with its reasons) while the others go ahead. For initial loads of
    /// tens of thousands, `POST /imports` takes the same records as JSON Lines.
    async fn bulk_import(
        &self,
        ctx: &Context<'_>,
        input: BulkImportInput,
    ) -> Result<BulkImportPayload> {
        run(async {
            let (db, actor) = (ctx.db()?, ctx.writer()?);
            if input.items.len() > MAX_ITEMS {
                return Err(ApiError::user(
                    UserErrorCode::Invalid,
                    &["items"],
                    format!(
                        "at most {MAX_ITEMS} items at once, not {}; send the rest in another \
                         request or use POST /imports",
                        input.items.len()
                    ),
                ));
            }
            let mut payload = BulkImportPayload::default();
            for (i, item) in input.items.into_iter().enumerate() {
                let prefix = import::mutation_prefix(i, &item);
                let result = import::apply(db, actor, i, item, &prefix).await?;
                payload.count(result.result);
                payload.items.push(result);
            }
            Ok(payload)
        })
        .await
    }
}
