//! Queries and mutations for syncing from case-management systems: parse, guard, call, map.

use async_graphql::{Context, Object, Result};

use super::import::{self, MAX_ITEMS};
use super::types::{
    AgreementPartyUpsertInput, BulkImportInput, BulkImportPayload, CaseUpsertInput,
    ChildMergeInput, EpisodeUpsertInput, HouseholdMemberUpsertInput, ReviewUpsertInput,
    SupportServiceUpsertInput, VisitUpsertInput,
};
use super::{records, service};
use crate::cases::types::Case;
use crate::children::service::ExternalId;
use crate::children::types::HouseholdMember;
use crate::children::types::{CareEpisode, Child};
use crate::context::ContextExt;
use crate::error::{ApiError, UserErrorCode};
use crate::goals::types::AgreementParty;
use crate::payload::run;
use crate::support_plans::types::SupportService;
use crate::visits::types::{Review, Visit};
use entities::{agreement_party, household_member, review, support_service, visit};

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

    /// The household member of the caller's LA that another system's identifier names; null when none.
    async fn household_member_by_external_id(
        &self,
        ctx: &Context<'_>,
        system: String,
        value: String,
    ) -> Result<Option<HouseholdMember>> {
        let ext = ExternalId { system, value };
        let found = records::by_external_id::<household_member::Entity>(
            ctx.db()?,
            ctx.reader()?,
            records::MEMBER_OWNER,
            &ext,
        )
        .await?;
        Ok(found.map(|m| HouseholdMember(ctx.seen(m))))
    }

    /// The support service of the caller's LA that another system's identifier names; null when none.
    async fn support_service_by_external_id(
        &self,
        ctx: &Context<'_>,
        system: String,
        value: String,
    ) -> Result<Option<SupportService>> {
        let ext = ExternalId { system, value };
        let found = records::by_external_id::<support_service::Entity>(
            ctx.db()?,
            ctx.reader()?,
            records::SERVICE_OWNER,
            &ext,
        )
        .await?;
        Ok(found.map(|m| SupportService(ctx.seen(m))))
    }

    /// The visit of the caller's LA that another system's identifier names; null when none.
    async fn visit_by_external_id(
        &self,
        ctx: &Context<'_>,
        system: String,
        value: String,
    ) -> Result<Option<Visit>> {
        let ext = ExternalId { system, value };
        let found = records::by_external_id::<visit::Entity>(
            ctx.db()?,
            ctx.reader()?,
            records::VISIT_OWNER,
            &ext,
        )
        .await?;
        Ok(found.map(|m| Visit(ctx.seen(m))))
    }

    /// The review of the caller's LA that another system's identifier names; null when none.
    async fn review_by_external_id(
        &self,
        ctx: &Context<'_>,
        system: String,
        value: String,
    ) -> Result<Option<Review>> {
        let ext = ExternalId { system, value };
        let found = records::by_external_id::<review::Entity>(
            ctx.db()?,
            ctx.reader()?,
            records::REVIEW_OWNER,
            &ext,
        )
        .await?;
        Ok(found.map(|m| Review(ctx.seen(m))))
    }

    /// The agreement party of the caller's LA that another system's identifier names (on the
    /// newest version that carries it); null when none.
    async fn agreement_party_by_external_id(
        &self,
        ctx: &Context<'_>,
        system: String,
        value: String,
    ) -> Result<Option<AgreementParty>> {
        let ext = ExternalId { system, value };
        let found = records::by_external_id::<agreement_party::Entity>(
            ctx.db()?,
            ctx.reader()?,
            records::PARTY_OWNER,
            &ext,
        )
        .await?;
        Ok(found.map(|m| AgreementParty(ctx.seen(m))))
    }
}

crate::upsert_payload!(
    /// Result of `householdMemberUpsert`.
    HouseholdMemberUpsertPayload {
        /// The household member.
        household_member: HouseholdMember
    }
);

crate::upsert_payload!(
    /// Result of `supportServiceUpsert`.
    SupportServiceUpsertPayload {
        /// The service.
        service: SupportService
    }
);

crate::upsert_payload!(
    /// Result of `visitUpsert`.
    VisitUpsertPayload {
        /// The visit.
        visit: Visit
    }
);

crate::upsert_payload!(
    /// Result of `reviewUpsert`.
    ReviewUpsertPayload {
        /// The review.
        review: Review
    }
);

crate::upsert_payload!(
    /// Result of `agreementPartyUpsert`.
    AgreementPartyUpsertPayload {
        /// The party (on the version it is now part of).
        party: AgreementParty
    }
);

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

    /// Creates or updates a parent, household member or member of the family network by a
    /// sending system's identifier, as `householdMemberAdd` records them. A person never moves
    /// to another child's record.
    async fn household_member_upsert(
        &self,
        ctx: &Context<'_>,
        input: HouseholdMemberUpsertInput,
    ) -> Result<HouseholdMemberUpsertPayload> {
        run(async {
            let (ext, child, member, expected) = input.into_parts()?;
            let (m, result) =
                records::upsert_member(ctx.db()?, ctx.writer()?, &ext, child, member, expected)
                    .await?;
            Ok(HouseholdMemberUpsertPayload::done(
                HouseholdMember(m),
                result,
            ))
        })
        .await
    }

    /// Creates or updates a service commissioned for the child or family by a sending system's
    /// identifier, as `serviceAdd` records it (on an active case; never moved to another case).
    async fn support_service_upsert(
        &self,
        ctx: &Context<'_>,
        input: SupportServiceUpsertInput,
    ) -> Result<SupportServiceUpsertPayload> {
        run(async {
            let (ext, case, service, expected) = input.into_parts()?;
            let (m, result) =
                records::upsert_service(ctx.db()?, ctx.writer()?, &ext, case, service, expected)
                    .await?;
            Ok(SupportServiceUpsertPayload::done(SupportService(m), result))
        })
        .await
    }

    /// Creates or updates a statutory visit by a sending system's identifier, as `visitRecord`
    /// records it ("child seen alone" included; on an active case, within its dates).
    async fn visit_upsert(
        &self,
        ctx: &Context<'_>,
        input: VisitUpsertInput,
    ) -> Result<VisitUpsertPayload> {
        run(async {
            let (ext, case, visit, expected) = input.into_parts()?;
            let (m, result) =
                records::upsert_visit(ctx.db()?, ctx.writer()?, &ext, case, visit, expected)
                    .await?;
            Ok(VisitUpsertPayload::done(Visit(m), result))
        })
        .await
    }

    /// Creates or updates a plan, agreement or looked-after review by a sending system's
    /// identifier, as `reviewRecord` records it (its next review date becomes the case's).
    async fn review_upsert(
        &self,
        ctx: &Context<'_>,
        input: ReviewUpsertInput,
    ) -> Result<ReviewUpsertPayload> {
        run(async {
            let (ext, case, review, expected) = input.into_parts()?;
            let (m, result) =
                records::upsert_review(ctx.db()?, ctx.writer()?, &ext, case, review, expected)
                    .await?;
            Ok(ReviewUpsertPayload::done(Review(m), result))
        })
        .await
    }

    /// Creates or updates a parent's or carer's part in the case's parental agreement by a
    /// sending system's identifier: on the open draft (named or added); on the version in force
    /// when it already names them as sent (a signature is recorded as `agreementPartyAccept`
    /// would); otherwise in a new draft carrying over the version in force's parties, to be
    /// agreed again. The identifier follows the party to the newest version; a party never
    /// moves to another case or person.
    async fn agreement_party_upsert(
        &self,
        ctx: &Context<'_>,
        input: AgreementPartyUpsertInput,
    ) -> Result<AgreementPartyUpsertPayload> {
        run(async {
            let (ext, case, member, sent, expected) = input.into_parts()?;
            let (m, result) =
                records::upsert_party(ctx.db()?, ctx.writer()?, &ext, case, member, sent, expected)
                    .await?;
            Ok(AgreementPartyUpsertPayload::done(AgreementParty(m), result))
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

    /// Imports up to 500 children, episodes, cases, household members, services, visits and
    /// reviews, each as its upsert mutation takes it,
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
                let result = Box::pin(import::apply(db, actor, i, item, &prefix)).await?;
                payload.count(result.result);
                payload.items.push(result);
            }
            Ok(payload)
        })
        .await
    }
}
