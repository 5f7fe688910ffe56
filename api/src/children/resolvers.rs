//! Queries and mutations for children, household members and episodes: parse, guard, call, map.

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::service::{self, EpisodeFields, ExternalId, NewChild, NewEpisode, NewMember};
use super::ssda903::{ChildDetails, EpisodeDetails};
use super::types::{CareEpisode, Child, ExternalIdentifierInput, HouseholdMember};
use crate::context::ContextExt;
use crate::domain::Relationship;
use crate::ids::ChildId;
use crate::pagination::{Conn, Page, connection, returns_nodes};
use crate::payload::run;
use crate::scalars::Date;

/// Queries about children.
#[derive(Default)]
pub struct ChildrenQuery;

/// Filter for `children`.
#[derive(InputObject, Default)]
pub struct ChildFilter {
    /// Only the child with this LA child ID.
    pub la_child_id: Option<String>,
}

#[Object]
impl ChildrenQuery {
    /// A child of the caller's LA; null when there is none with this ID.
    async fn child(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Child>> {
        let actor = ctx.reader()?;
        let Some(id) = ChildId::parse(&id) else {
            return Ok(None);
        };
        let found = service::get_child(ctx.db()?, actor, id).await?;
        if found.is_none() {
            ctx.missed("child", id.0);
        }
        Ok(found.map(|m| Child(ctx.seen(m))))
    }

    /// The child of the caller's LA that another system's identifier names; null when none.
    async fn child_by_external_id(
        &self,
        ctx: &Context<'_>,
        system: String,
        value: String,
    ) -> Result<Option<Child>> {
        let actor = ctx.reader()?;
        let ext = ExternalId { system, value };
        let found = service::child_by_external_id(ctx.db()?, actor, &ext).await?;
        Ok(found.map(|m| Child(ctx.seen(m))))
    }

    /// The caller's LA's children, oldest record first.
    #[graphql(complexity = "crate::pagination::cost(first, last, child_complexity)")]
    async fn children(
        &self,
        ctx: &Context<'_>,
        filter: Option<ChildFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Child>> {
        let page = Page::new(first, after, last, before)?;
        let filter = filter.unwrap_or_default();
        let (rows, total, more) =
            service::list_children(ctx.db()?, ctx.reader()?, filter.la_child_id, &page).await?;
        let returned = returns_nodes(ctx);
        Ok(connection(
            rows,
            total,
            more,
            &page,
            |m| m.id.to_string(),
            |m| Child(if returned { ctx.seen(m) } else { m }),
        ))
    }
}

/// A child's own fields, as `childCreate` and `childUpsert` take them.
#[derive(InputObject)]
pub struct ChildFields {
    /// The LA's child ID: 1 to 20 letters and digits.
    pub la_child_id: String,
    /// Date of birth (not in the future).
    pub date_of_birth: Date,
    /// Sex code: `M`, `F` or `U`.
    pub sex: String,
    /// DfE ethnicity code, e.g. `WBRI`.
    pub ethnicity: String,
    /// Unique Pupil Number (13 characters with a valid check letter).
    pub upn: Option<String>,
    /// Why the UPN is unknown (`UN1`–`UN7`), when no UPN is given.
    pub upn_unknown_reason: Option<String>,
    /// NHS number (10 digits, valid check digit; spaces allowed).
    pub nhs_number: Option<String>,
    /// Whether the child is a mother (SSDA903 `MOTHER`; asked of girls).
    pub is_mother: Option<bool>,
    /// Date of birth of the child's first child (SSDA903 `MC_DOB`), with `isMother: true`.
    pub mother_child_date_of_birth: Option<Date>,
}

/// The SSDA903 fields of an episode beyond the framework's: all optional, for an LA whose
/// case-management system holds them (the 903 return then needs nothing typed).
#[derive(InputObject, Default)]
pub struct EpisodeDetailsInput {
    /// Reason for new episode (SSDA903 `RNE`): `S` starts a period of care (the default); `L`,
    /// `P`, `T`, `B` or `U` change one.
    pub reason_new_episode: Option<String>,
    /// Placement provider (SSDA903 `PLACE_PROVIDER`, `PR0`–`PR5`; `PR0` only for `P1`, which the
    /// return fills in itself; none for T and Z placements).
    pub placement_provider: Option<String>,
    /// Why the placement changed (SSDA903 `REASON_PLACE_CHANGE`, e.g. `CARPL`), on an episode
    /// that ended for it (`reasonCeased` `X1`).
    pub reason_place_change: Option<String>,
    /// Postcode of the home the child lived at before (SSDA903 `HOME_POST`), whole or to its sector.
    pub home_postcode: Option<String>,
    /// Postcode of the placement (SSDA903 `PL_POST`), whole or to its sector.
    pub placement_postcode: Option<String>,
    /// Ofsted URN of the placement (SSDA903 `URN`: `SC` and 6 digits, 7 digits, or `XXXXXXX`).
    pub urn: Option<String>,
}

impl From<EpisodeDetailsInput> for EpisodeDetails {
    fn from(i: EpisodeDetailsInput) -> Self {
        EpisodeDetails {
            reason_new_episode: i.reason_new_episode,
            placement_provider: i.placement_provider,
            reason_place_change: i.reason_place_change,
            home_postcode: i.home_postcode,
            placement_postcode: i.placement_postcode,
            urn: i.urn,
        }
        .normalised()
    }
}

impl ChildFields {
    pub(crate) fn with(
        self,
        external_ids: impl IntoIterator<Item = ExternalIdentifierInput>,
    ) -> NewChild {
        NewChild {
            la_child_id: self.la_child_id,
            date_of_birth: self.date_of_birth.0,
            sex: self.sex,
            ethnicity: self.ethnicity,
            upn: self.upn,
            upn_unknown_reason: self.upn_unknown_reason,
            nhs_number: self.nhs_number,
            details: ChildDetails {
                is_mother: self.is_mother,
                mother_child_dob: self.mother_child_date_of_birth.map(|d| d.0),
            },
            external_ids: external_ids
                .into_iter()
                .map(|e| ExternalId {
                    system: e.system,
                    value: e.value,
                })
                .collect(),
        }
    }
}

/// Input of `childCreate`.
#[derive(InputObject)]
pub struct ChildCreateInput {
    /// The child.
    #[graphql(flatten)]
    pub child: ChildFields,
    /// Identifiers other systems use for this child.
    pub external_ids: Option<Vec<ExternalIdentifierInput>>,
    /// The household and family network, added with the child (as `householdMemberAdd` would).
    pub household_members: Option<Vec<NewHouseholdMemberInput>>,
}

/// A household member given with `childCreate`.
#[derive(InputObject)]
pub struct NewHouseholdMemberInput {
    /// Relationship to the child.
    pub relationship: Relationship,
    /// A role label such as "Mother" or "Mother's partner" (at most 100 characters; not a legal name).
    pub label: Option<String>,
    /// Whether the person holds parental responsibility.
    pub has_parental_responsibility: bool,
    /// Whether the person lives in the household the child would return to.
    pub lives_with_child: bool,
}

/// Input of `childUpsert`: the child as the sending system holds it.
#[derive(InputObject)]
pub struct ChildUpsertInput {
    /// The sending system's identifier for the child: the record it names is changed, or created
    /// with it when there is none.
    pub external_id: ExternalIdentifierInput,
    /// The child.
    #[graphql(flatten)]
    pub child: ChildFields,
    /// The version of an existing child the caller last saw; a stale one is a `CONFLICT`.
    pub expected_version: Option<i32>,
}

crate::upsert_payload!(
    /// Result of `childUpsert`.
    ChildUpsertPayload {
        /// The child.
        child: Child
    }
);

crate::payload!(
    /// Result of `childCreate`.
    ChildCreatePayload {
        /// The new child.
        child: Child
    }
);

/// Input of `householdMemberAdd`.
#[derive(InputObject)]
pub struct HouseholdMemberAddInput {
    /// The child.
    pub child_id: ID,
    /// The person.
    #[graphql(flatten)]
    pub member: MemberFields,
}

/// A household member's own fields (`householdMemberAdd`, `householdMemberUpsert`).
#[derive(InputObject)]
pub struct MemberFields {
    /// Relationship to the child.
    pub relationship: Relationship,
    /// A role label such as "Mother" or "Mother's partner" (at most 100 characters; not a legal name).
    pub label: Option<String>,
    /// Whether the person holds parental responsibility.
    pub has_parental_responsibility: bool,
    /// Whether the person lives in the household the child would return to.
    pub lives_with_child: bool,
}

impl MemberFields {
    /// The member to add to `child_id`'s record.
    pub fn into_cmd(self, child_id: ChildId) -> NewMember {
        NewMember {
            child_id,
            relationship: self.relationship,
            label: self.label,
            has_parental_responsibility: self.has_parental_responsibility,
            lives_with_child: self.lives_with_child,
        }
    }
}

crate::payload!(
    /// Result of `householdMemberAdd`.
    HouseholdMemberAddPayload {
        /// The new household member.
        household_member: HouseholdMember
    }
);

/// Input of `episodeOpen`.
#[derive(InputObject)]
pub struct EpisodeOpenInput {
    /// The child.
    pub child_id: ID,
    /// Date the child started to be looked after (not in the future, not before birth).
    pub started_on: Date,
    /// SSDA903 legal status code, e.g. `C2`, `V2`.
    pub legal_status: String,
    /// SSDA903 category of need, `N1`–`N8`.
    pub category_of_need: String,
    /// SSDA903 placement type valid in the collection year of `startedOn`, e.g. `U4`.
    pub placement_type: String,
    /// The episode's other SSDA903 fields.
    #[graphql(flatten)]
    pub details: EpisodeDetailsInput,
}

crate::payload!(
    /// Result of `episodeOpen`.
    EpisodeOpenPayload {
        /// The new episode.
        episode: CareEpisode
    }
);

/// Mutations on children, household members and episodes.
#[derive(Default)]
pub struct ChildrenMutation;

#[Object]
impl ChildrenMutation {
    /// Records a looked-after child of the caller's LA.
    async fn child_create(
        &self,
        ctx: &Context<'_>,
        input: ChildCreateInput,
    ) -> Result<ChildCreatePayload> {
        run(async {
            let cmd = input.child.with(input.external_ids.unwrap_or_default());
            let members = input
                .household_members
                .unwrap_or_default()
                .into_iter()
                .map(|m| NewMember {
                    child_id: ChildId(0),
                    relationship: m.relationship,
                    label: m.label,
                    has_parental_responsibility: m.has_parental_responsibility,
                    lives_with_child: m.lives_with_child,
                })
                .collect();
            let child = service::create_child_with(ctx.db()?, ctx.writer()?, cmd, members).await?;
            Ok(ChildCreatePayload::ok(Child(child)))
        })
        .await
    }

    /// Creates or updates a child by a sending system's identifier (sync by external ID): the
    /// child that identifier names is brought to what is sent (`UNCHANGED` when it already holds
    /// it), or created with the identifier when there is none. Validated as `childCreate`.
    async fn child_upsert(
        &self,
        ctx: &Context<'_>,
        input: ChildUpsertInput,
    ) -> Result<ChildUpsertPayload> {
        run(async {
            let cmd = input.child.with([input.external_id]);
            let (child, result) =
                service::upsert_child(ctx.db()?, ctx.writer()?, cmd, input.expected_version)
                    .await?;
            Ok(ChildUpsertPayload::done(Child(child), result))
        })
        .await
    }

    /// Adds a parent, household member or member of the family network to a child's record.
    async fn household_member_add(
        &self,
        ctx: &Context<'_>,
        input: HouseholdMemberAddInput,
    ) -> Result<HouseholdMemberAddPayload> {
        run(async {
            let cmd = input
                .member
                .into_cmd(ChildId::from_input(&input.child_id, &["childId"])?);
            let member = service::add_member(ctx.db()?, ctx.writer()?, cmd).await?;
            Ok(HouseholdMemberAddPayload::ok(HouseholdMember(member)))
        })
        .await
    }

    /// Opens an episode of care for a child (at most one open at a time).
    async fn episode_open(
        &self,
        ctx: &Context<'_>,
        input: EpisodeOpenInput,
    ) -> Result<EpisodeOpenPayload> {
        run(async {
            let cmd = NewEpisode {
                child_id: ChildId::from_input(&input.child_id, &["childId"])?,
                fields: EpisodeFields {
                    started_on: input.started_on.0,
                    legal_status: input.legal_status,
                    category_of_need: input.category_of_need,
                    placement_type: input.placement_type,
                    ended_on: None,
                    reason_ceased: None,
                    details: input.details.into(),
                },
            };
            let episode = service::open_episode(ctx.db()?, ctx.writer()?, cmd).await?;
            Ok(EpisodeOpenPayload::ok(CareEpisode(episode)))
        })
        .await
    }
}
