//! GraphQL inputs and results of the sync mutations and of bulk import (the JSON Lines upload
//! parses the same inputs).

use async_graphql::{Enum, ID, InputObject, OneofObject, SimpleObject};

use super::service::{CaseUpsert, EpisodeUpsert, Merge, Ref};
use crate::children::resolvers::ChildUpsertInput;
use crate::children::resolvers::MemberFields;
use crate::children::service::{EpisodeFields, ExternalId};
use crate::children::types::{ExternalIdentifier, ExternalIdentifierInput};
use crate::error::{ApiResult, UserError};
use crate::goals::service::SyncedParty;
use crate::ids::{ActorId, CaseId, ChildId, EpisodeId, HouseholdMemberId};
use crate::scalars::Date;
use crate::support_plans::resolvers::ServiceFields;
use crate::visits::resolvers::{ReviewFields, VisitFields};

pub(super) fn external(e: ExternalIdentifierInput) -> ExternalId {
    ExternalId {
        system: e.system,
        value: e.value,
    }
}

/// The child a synced record belongs to: by Reunify's ID or by a system's identifier.
#[derive(InputObject)]
pub struct ChildRefInput {
    /// The child (give this or `childExternalId`).
    pub child_id: Option<ID>,
    /// The child, by an identifier of a system (give this or `childId`).
    pub child_external_id: Option<ExternalIdentifierInput>,
}

impl ChildRefInput {
    pub(super) fn resolve(self) -> ApiResult<Ref<ChildId>> {
        Ref::one_of(
            self.child_id
                .map(|id| ChildId::from_input(&id, &["childId"])),
            self.child_external_id.map(external),
            "childId",
            "childExternalId",
        )
    }
}

/// The case a synced record belongs to: by Reunify's ID or by a system's identifier.
#[derive(InputObject)]
pub struct CaseRefInput {
    /// The case (give this or `caseExternalId`).
    pub case_id: Option<ID>,
    /// The case, by an identifier of a system (give this or `caseId`).
    pub case_external_id: Option<ExternalIdentifierInput>,
}

impl CaseRefInput {
    pub(super) fn resolve(self) -> ApiResult<Ref<CaseId>> {
        Ref::one_of(
            self.case_id.map(|id| CaseId::from_input(&id, &["caseId"])),
            self.case_external_id.map(external),
            "caseId",
            "caseExternalId",
        )
    }
}

/// Input of `householdMemberUpsert`: a parent, household member or member of the family network
/// as the sending system holds them.
#[derive(InputObject)]
pub struct HouseholdMemberUpsertInput {
    /// The sending system's identifier for the person in this child's network.
    pub external_id: ExternalIdentifierInput,
    /// The child.
    #[graphql(flatten)]
    pub child: ChildRefInput,
    /// The person, as `householdMemberAdd` takes them.
    #[graphql(flatten)]
    pub member: MemberFields,
    /// The version of an existing record the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

/// Input of `supportServiceUpsert`: a service commissioned for the child or family.
#[derive(InputObject)]
pub struct SupportServiceUpsertInput {
    /// The sending system's identifier for the service.
    pub external_id: ExternalIdentifierInput,
    /// The case.
    #[graphql(flatten)]
    pub case: CaseRefInput,
    /// The service, as `serviceAdd` takes it.
    #[graphql(flatten)]
    pub service: ServiceFields,
    /// The version of an existing record the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

/// Input of `visitUpsert`: a statutory visit as the sending system recorded it.
#[derive(InputObject)]
pub struct VisitUpsertInput {
    /// The sending system's identifier for the visit.
    pub external_id: ExternalIdentifierInput,
    /// The case.
    #[graphql(flatten)]
    pub case: CaseRefInput,
    /// The visit, as `visitRecord` takes it.
    #[graphql(flatten)]
    pub visit: VisitFields,
    /// The version of an existing record the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

/// Input of `reviewUpsert`: a plan, agreement or looked-after review as the sending system
/// recorded it.
#[derive(InputObject)]
pub struct ReviewUpsertInput {
    /// The sending system's identifier for the review.
    pub external_id: ExternalIdentifierInput,
    /// The case.
    #[graphql(flatten)]
    pub case: CaseRefInput,
    /// The review, as `reviewRecord` takes it.
    #[graphql(flatten)]
    pub review: ReviewFields,
    /// The version of an existing record the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

/// An upsert's parts: the identifier, the record it belongs to, its fields once that record is
/// known, and the expected version.
pub type Parts<R, C> = (
    ExternalId,
    Ref<R>,
    Box<dyn FnOnce(R) -> C + Send>,
    Option<i32>,
);

impl HouseholdMemberUpsertInput {
    /// The upsert's parts.
    pub fn into_parts(self) -> ApiResult<Parts<ChildId, crate::children::service::NewMember>> {
        let member = self.member;
        Ok((
            external(self.external_id),
            self.child.resolve()?,
            Box::new(move |c| member.into_cmd(c)),
            self.expected_version,
        ))
    }
}

impl SupportServiceUpsertInput {
    /// The upsert's parts.
    pub fn into_parts(self) -> ApiResult<Parts<CaseId, crate::support_plans::service::NewService>> {
        let service = self.service;
        Ok((
            external(self.external_id),
            self.case.resolve()?,
            Box::new(move |c| service.into_cmd(c)),
            self.expected_version,
        ))
    }
}

impl VisitUpsertInput {
    /// The upsert's parts.
    pub fn into_parts(self) -> ApiResult<Parts<CaseId, crate::visits::service::NewVisit>> {
        let visit = self.visit;
        Ok((
            external(self.external_id),
            self.case.resolve()?,
            Box::new(move |c| visit.into_cmd(c)),
            self.expected_version,
        ))
    }
}

impl ReviewUpsertInput {
    /// The upsert's parts.
    pub fn into_parts(self) -> ApiResult<Parts<CaseId, crate::visits::service::NewReview>> {
        let review = self.review;
        Ok((
            external(self.external_id),
            self.case.resolve()?,
            Box::new(move |c| review.into_cmd(c)),
            self.expected_version,
        ))
    }
}

/// The person an agreement party is: by Reunify's ID or by a system's identifier.
#[derive(InputObject)]
pub struct MemberRefInput {
    /// The household member (give this or `householdMemberExternalId`).
    pub household_member_id: Option<ID>,
    /// The household member, by an identifier of a system (give this or `householdMemberId`).
    pub household_member_external_id: Option<ExternalIdentifierInput>,
}

impl MemberRefInput {
    fn resolve(self) -> ApiResult<Ref<HouseholdMemberId>> {
        Ref::one_of(
            self.household_member_id
                .map(|id| HouseholdMemberId::from_input(&id, &["householdMemberId"])),
            self.household_member_external_id.map(external),
            "householdMemberId",
            "householdMemberExternalId",
        )
    }
}

/// What `agreementPartyUpsert` takes apart: identifier, case, person, what was sent, expected
/// version.
pub type PartyParts = (
    ExternalId,
    Ref<CaseId>,
    Ref<HouseholdMemberId>,
    SyncedParty,
    Option<i32>,
);

/// Input of `agreementPartyUpsert`: a parent's or carer's part in the case's parental agreement
/// (their strengths, the concerns about them, their signature) as the sending system holds it.
#[derive(InputObject)]
pub struct AgreementPartyUpsertInput {
    /// The sending system's identifier for the person's part in the agreement.
    pub external_id: ExternalIdentifierInput,
    /// The case (in GOALS_AND_SERVICES or later).
    #[graphql(flatten)]
    pub case: CaseRefInput,
    /// The parent or carer (holding parental responsibility or living with the child).
    #[graphql(flatten)]
    pub member: MemberRefInput,
    /// Their strengths (at most 20,000 characters); omitted, kept as recorded.
    pub strengths: Option<String>,
    /// The concerns about them (at most 20,000 characters); omitted, kept as recorded.
    pub concerns: Option<String>,
    /// When they accepted (signed) the current version; omitted, kept as recorded (a recorded
    /// acceptance is not withdrawn).
    pub accepted_on: Option<Date>,
    /// The version of the party the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

impl AgreementPartyUpsertInput {
    /// The upsert's parts: identifier, case, person, what was sent, expected version.
    pub fn into_parts(self) -> ApiResult<PartyParts> {
        Ok((
            external(self.external_id),
            self.case.resolve()?,
            self.member.resolve()?,
            SyncedParty {
                strengths: self.strengths,
                concerns: self.concerns,
                accepted_on: self.accepted_on.map(|d| d.0),
            },
            self.expected_version,
        ))
    }
}

/// Input of `episodeUpsert`: an episode of care as the sending system holds it.
#[derive(InputObject)]
pub struct EpisodeUpsertInput {
    /// The sending system's identifier for the episode: the episode it names is changed, or
    /// created with it when there is none.
    pub external_id: ExternalIdentifierInput,
    /// The child.
    #[graphql(flatten)]
    pub child: ChildRefInput,
    /// Date the child started to be looked after (not in the future, not before birth).
    pub started_on: Date,
    /// SSDA903 legal status code valid in the collection year of `startedOn`.
    pub legal_status: String,
    /// SSDA903 category of need, `N1`–`N8`.
    pub category_of_need: String,
    /// SSDA903 placement type valid in the collection year of `startedOn` (age limits apply).
    pub placement_type: String,
    /// Date the episode ended (with `reasonCeased`, or neither; not before `startedOn`).
    pub ended_on: Option<Date>,
    /// SSDA903 reason the episode ceased, valid in the collection year of `endedOn`. Ending an
    /// episode with `E4A`, `E4B` or `E13` records the child's return home on the open case.
    pub reason_ceased: Option<String>,
    /// The episode's other SSDA903 fields.
    #[graphql(flatten)]
    pub details: crate::children::resolvers::EpisodeDetailsInput,
    /// The version of an existing episode the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

impl EpisodeUpsertInput {
    /// The command, and the expected version.
    pub fn into_cmd(self) -> ApiResult<(EpisodeUpsert, Option<i32>)> {
        let child = self.child.resolve()?;
        let cmd = EpisodeUpsert {
            external_id: external(self.external_id),
            child,
            fields: EpisodeFields {
                started_on: self.started_on.0,
                legal_status: self.legal_status,
                category_of_need: self.category_of_need,
                placement_type: self.placement_type,
                ended_on: self.ended_on.map(|d| d.0),
                reason_ceased: self.reason_ceased,
                details: self.details.into(),
            },
        };
        Ok((cmd, self.expected_version))
    }
}

/// Input of `caseUpsert`: a reunification case as the sending system holds it.
#[derive(InputObject)]
pub struct CaseUpsertInput {
    /// The sending system's identifier for the case: the case it names is changed, or opened
    /// with it when there is none.
    pub external_id: ExternalIdentifierInput,
    /// The child.
    #[graphql(flatten)]
    pub child: ChildRefInput,
    /// The child's open episode of care (give this or `episodeExternalId`).
    pub episode_id: Option<ID>,
    /// The episode, by an identifier of a system (give this or `episodeId`).
    pub episode_external_id: Option<ExternalIdentifierInput>,
    /// The allocated social worker (an `Actor` ID).
    pub allocated_worker_id: Option<ID>,
    /// The team (1–100 characters).
    pub team: Option<String>,
    /// Date the case opened (defaults to today; cannot change once open).
    pub opened_on: Option<Date>,
    /// The version of an existing case the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

impl CaseUpsertInput {
    /// The command, and the expected version.
    pub fn into_cmd(self) -> ApiResult<(CaseUpsert, Option<i32>)> {
        let child = self.child.resolve()?;
        let episode = Ref::one_of(
            self.episode_id
                .map(|id| EpisodeId::from_input(&id, &["episodeId"])),
            self.episode_external_id.map(external),
            "episodeId",
            "episodeExternalId",
        )?;
        let cmd = CaseUpsert {
            external_id: external(self.external_id),
            child,
            episode,
            worker_id: self
                .allocated_worker_id
                .map(|id| ActorId::from_input(&id, &["allocatedWorkerId"]))
                .transpose()?,
            team: self.team,
            opened_on: self.opened_on.map(|d| d.0),
        };
        Ok((cmd, self.expected_version))
    }
}

/// Input of `childMerge`.
#[derive(InputObject)]
pub struct ChildMergeInput {
    /// The record that stays.
    pub child_id: ID,
    /// The record of the same child to merge into it; it is removed.
    pub duplicate_id: ID,
    /// The version of the kept record the caller last saw.
    pub expected_version: Option<i32>,
    /// The version of the duplicate the caller last saw.
    pub duplicate_expected_version: Option<i32>,
}

impl ChildMergeInput {
    /// The command.
    pub fn into_cmd(self) -> ApiResult<Merge> {
        Ok(Merge {
            keep: ChildId::from_input(&self.child_id, &["childId"])?,
            keep_version: self.expected_version,
            duplicate: ChildId::from_input(&self.duplicate_id, &["duplicateId"])?,
            duplicate_version: self.duplicate_expected_version,
        })
    }
}

/// One record of a bulk import: exactly one of its fields.
#[derive(OneofObject)]
pub enum ImportItem {
    /// A child, as `childUpsert` takes it.
    Child(ChildUpsertInput),
    /// An episode of care, as `episodeUpsert` takes it.
    Episode(EpisodeUpsertInput),
    /// A reunification case, as `caseUpsert` takes it.
    Case(CaseUpsertInput),
    /// A household member, as `householdMemberUpsert` takes it.
    HouseholdMember(HouseholdMemberUpsertInput),
    /// A support service, as `supportServiceUpsert` takes it.
    SupportService(SupportServiceUpsertInput),
    /// A visit, as `visitUpsert` takes it.
    Visit(VisitUpsertInput),
    /// A review, as `reviewUpsert` takes it.
    Review(ReviewUpsertInput),
    /// An agreement party, as `agreementPartyUpsert` takes it.
    AgreementParty(AgreementPartyUpsertInput),
}

/// What kind of record an import item is.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ImportKind {
    /// A child.
    Child,
    /// An episode of care.
    Episode,
    /// A reunification case.
    Case,
    /// A household member.
    HouseholdMember,
    /// A support service.
    SupportService,
    /// A visit.
    Visit,
    /// A review.
    Review,
    /// An agreement party.
    AgreementParty,
}

/// What importing one record did.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ImportResult {
    /// No record had the external identifier: one was created with it.
    Created,
    /// The record with the external identifier was changed.
    Updated,
    /// The record with the external identifier already held what was sent.
    Unchanged,
    /// The item broke a rule: nothing of it was written (see `userErrors`).
    Rejected,
}

/// The result of one item of a bulk import.
#[derive(SimpleObject, Clone, Debug)]
pub struct ImportItemResult {
    /// The item's position in `items`, from 0.
    pub index: i32,
    /// What kind of record it is.
    pub kind: Option<ImportKind>,
    /// The sending system's identifier the item carried.
    pub external_id: Option<ExternalIdentifier>,
    /// What importing it did.
    pub result: ImportResult,
    /// The record's global ID (null when rejected).
    pub id: Option<ID>,
    /// The record's version after the import (null when rejected).
    pub version: Option<i32>,
    /// Why it was rejected, each naming the field (from `input`) and the rule; empty otherwise.
    pub user_errors: Vec<UserError>,
}

/// Input of `bulkImport`.
#[derive(InputObject)]
pub struct BulkImportInput {
    /// Up to 500 records, applied in order (a child before the episodes and people that name it,
    /// an episode before its case, a case before its services, visits and reviews), each on its own: all of an item is written, or none of it.
    pub items: Vec<ImportItem>,
}

/// Result of `bulkImport`.
#[derive(SimpleObject, Default)]
pub struct BulkImportPayload {
    /// One result per item, in order.
    pub items: Vec<ImportItemResult>,
    /// Items created.
    pub created: i32,
    /// Items updated.
    pub updated: i32,
    /// Items already as sent.
    pub unchanged: i32,
    /// Items rejected.
    pub rejected: i32,
    /// What was wrong with the request as a whole (for example more than 500 items); empty on success.
    pub user_errors: Vec<UserError>,
}

impl crate::payload::Payload for BulkImportPayload {
    fn from_errors(errors: Vec<UserError>) -> Self {
        Self {
            user_errors: errors,
            ..Default::default()
        }
    }
}

impl BulkImportPayload {
    /// Counts one item's result.
    pub fn count(&mut self, result: ImportResult) {
        match result {
            ImportResult::Created => self.created += 1,
            ImportResult::Updated => self.updated += 1,
            ImportResult::Unchanged => self.unchanged += 1,
            ImportResult::Rejected => self.rejected += 1,
        }
    }
}
