//! GraphQL types for children, household members, external identifiers and episodes.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};
use entities::{care_episode, child, external_identifier, household_member};

use super::loaders::{
    EpisodesOf, ExternalIdsOfChild, ExternalIdsOfEpisode, HouseholdOf, MemberKey,
};
use crate::context::{load_all, load_first};
use crate::domain::Relationship;
use crate::ids::{ChildId, EpisodeId, HouseholdMemberId};
use crate::scalars::Date;

/// A looked-after child of the caller's LA. Reunify keeps no names: the LA child ID identifies the child.
pub struct Child(pub child::Model);

/// A looked-after child of the caller's LA. Reunify keeps no names: the LA child ID identifies the child.
#[Object]
impl Child {
    /// Global ID.
    pub async fn id(&self) -> ID {
        ChildId(self.0.id).to_global()
    }
    /// The LA's own child ID (SSDA903 `CHILD`): 1 to 20 letters and digits, never reused.
    async fn la_child_id(&self) -> &str {
        &self.0.la_child_id
    }
    /// Date of birth.
    async fn date_of_birth(&self) -> Date {
        self.0.date_of_birth.into()
    }
    /// Sex code (`M`, `F` or `U`).
    async fn sex(&self) -> &str {
        &self.0.sex
    }
    /// DfE ethnicity code (e.g. `WBRI`).
    async fn ethnicity(&self) -> &str {
        &self.0.ethnicity
    }
    /// Unique Pupil Number, if known.
    async fn upn(&self) -> Option<&str> {
        self.0.upn.as_deref()
    }
    /// Why the UPN is unknown (`UN1`–`UN7`), if it is.
    async fn upn_unknown_reason(&self) -> Option<&str> {
        self.0.upn_unknown_reason.as_deref()
    }
    /// NHS number (10 digits), if known.
    async fn nhs_number(&self) -> Option<&str> {
        self.0.nhs_number.as_deref()
    }
    /// Whether the child is a mother (SSDA903 `MOTHER`), where known.
    async fn is_mother(&self) -> Option<bool> {
        self.0.is_mother
    }
    /// Date of birth of the child's first child (SSDA903 `MC_DOB`), where known.
    async fn mother_child_date_of_birth(&self) -> Option<Date> {
        self.0.mother_child_dob.map(Date)
    }
    /// Date of death, if the child has died.
    async fn died_on(&self) -> Option<Date> {
        self.0.died_on.map(Into::into)
    }
    /// The last day the record must be kept (the 75th birthday, or 15 years after death for a
    /// child who died before 18); after it the record is purged unless on legal hold.
    async fn retain_until(&self) -> Date {
        self.0
            .retain_until
            .unwrap_or_else(|| {
                crate::retention::policy::retain_until(self.0.date_of_birth, self.0.died_on)
            })
            .into()
    }
    /// On legal hold: kept past its retention date.
    async fn legal_hold(&self) -> bool {
        self.0.legal_hold
    }
    /// Identifiers other systems use for this child.
    async fn external_ids(&self, ctx: &Context<'_>) -> Result<Vec<ExternalIdentifier>> {
        load_all(ctx, ExternalIdsOfChild(self.0.id), ExternalIdentifier::from).await
    }
    /// Parents, household members and the wider family network.
    async fn household_members(&self, ctx: &Context<'_>) -> Result<Vec<HouseholdMember>> {
        load_all(ctx, HouseholdOf(self.0.id), HouseholdMember).await
    }
    /// Episodes of care, oldest first.
    async fn episodes(&self, ctx: &Context<'_>) -> Result<Vec<CareEpisode>> {
        load_all(ctx, EpisodesOf(self.0.id), CareEpisode).await
    }
    /// Record version; pass it as `expectedVersion` when updating.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// An identifier another system (e.g. a case-management system) uses for a record.
#[derive(SimpleObject, Clone, Debug, serde::Serialize)]
pub struct ExternalIdentifier {
    /// The system, e.g. `LCS`, `MOSAIC`, `ECLIPSE`.
    pub system: String,
    /// That system's identifier.
    pub value: String,
}

impl From<external_identifier::Model> for ExternalIdentifier {
    fn from(m: external_identifier::Model) -> Self {
        Self {
            system: m.system,
            value: m.value,
        }
    }
}

/// An identifier another system uses for a record.
#[derive(InputObject, Clone)]
pub struct ExternalIdentifierInput {
    /// The system, e.g. `LCS` (1–64 characters).
    pub system: String,
    /// That system's identifier (1–128 characters).
    pub value: String,
}

/// A parent, household member or member of the family network, as they relate to the child.
pub struct HouseholdMember(pub household_member::Model);

/// A parent, household member or member of the family network, as they relate to the child.
#[Object]
impl HouseholdMember {
    /// Global ID.
    pub async fn id(&self) -> ID {
        HouseholdMemberId(self.0.id).to_global()
    }
    /// Relationship to the child.
    async fn relationship(&self) -> Result<Relationship> {
        Ok(self.0.relationship)
    }
    /// How the person is referred to in the case (a role label such as "Mother", not a legal name).
    async fn label(&self) -> Option<&str> {
        self.0.label.as_deref()
    }
    /// Whether the person holds parental responsibility.
    async fn has_parental_responsibility(&self) -> bool {
        self.0.has_parental_responsibility
    }
    /// Whether the person lives in the household the child would return to.
    async fn lives_with_child(&self) -> bool {
        self.0.lives_with_child
    }
    /// Record version.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// An episode of care (SSDA903): from when the child started to be looked after to when it ended.
pub struct CareEpisode(pub care_episode::Model);

/// An episode of care (SSDA903): from when the child started to be looked after to when it ended.
#[Object]
impl CareEpisode {
    /// Global ID.
    pub async fn id(&self) -> ID {
        EpisodeId(self.0.id).to_global()
    }
    /// Date the episode started (SSDA903 `DECOM`).
    async fn started_on(&self) -> Date {
        self.0.started_on.into()
    }
    /// Legal status code (SSDA903 `LS`, e.g. `C2`, `V2`).
    async fn legal_status(&self) -> &str {
        &self.0.legal_status
    }
    /// Category of need (`N1`–`N8`).
    async fn category_of_need(&self) -> &str {
        &self.0.category_of_need
    }
    /// Placement type (SSDA903 `PLACE`, e.g. `U4`; `P1` is placed with parents while still looked after).
    async fn placement_type(&self) -> &str {
        &self.0.placement_type
    }
    /// Date the episode ended, null while open (SSDA903 `DEC`).
    async fn ended_on(&self) -> Option<Date> {
        self.0.ended_on.map(Date)
    }
    /// Reason the episode ceased (SSDA903 `REC`; `E4A` planned return home, `E4B` unplanned), null while open.
    async fn reason_ceased(&self) -> Option<&str> {
        self.0.reason_ceased.as_deref()
    }
    /// Reason for new episode (SSDA903 `RNE`), as sent; null when not given (the return shows `S`
    /// for the start of a period of care).
    async fn reason_new_episode(&self) -> Option<&str> {
        self.0.reason_new_episode.as_deref()
    }
    /// Placement provider (SSDA903 `PLACE_PROVIDER`), as sent.
    async fn placement_provider(&self) -> Option<&str> {
        self.0.placement_provider.as_deref()
    }
    /// Reason for the change of placement (SSDA903 `REASON_PLACE_CHANGE`), as sent.
    async fn reason_place_change(&self) -> Option<&str> {
        self.0.reason_place_change.as_deref()
    }
    /// Postcode of the home the child lived at before (SSDA903 `HOME_POST`).
    async fn home_postcode(&self) -> Option<&str> {
        self.0.home_postcode.as_deref()
    }
    /// Postcode of the placement (SSDA903 `PL_POST`).
    async fn placement_postcode(&self) -> Option<&str> {
        self.0.placement_postcode.as_deref()
    }
    /// Ofsted URN of the placement (SSDA903 `URN`).
    async fn urn(&self) -> Option<&str> {
        self.0.urn.as_deref()
    }
    /// Identifiers other systems use for this episode.
    async fn external_ids(&self, ctx: &Context<'_>) -> Result<Vec<ExternalIdentifier>> {
        load_all(
            ctx,
            ExternalIdsOfEpisode(self.0.id),
            ExternalIdentifier::from,
        )
        .await
    }
    /// Record version.
    async fn version(&self) -> i32 {
        self.0.version
    }
}

/// Loads an optional household member by row id.
pub async fn load_member(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<HouseholdMember>> {
    let Some(id) = id else { return Ok(None) };
    load_first(ctx, MemberKey(id), HouseholdMember).await
}
