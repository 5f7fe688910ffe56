//! Typed IDs and their opaque global form (`base64url("Type:123")`) used by the Node interface.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::{ApiError, ApiResult, UserErrorCode};

/// Encodes a type name and row id as an opaque global ID.
pub fn encode(type_name: &str, id: i64) -> async_graphql::ID {
    async_graphql::ID(URL_SAFE_NO_PAD.encode(format!("{type_name}:{id}")))
}

/// Decodes a global ID into its type name and row id, or `None` when it is not one of ours.
pub fn decode(id: &str) -> Option<(String, i64)> {
    let bytes = URL_SAFE_NO_PAD.decode(id).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (ty, raw) = text.split_once(':')?;
    let n: i64 = raw.parse().ok()?;
    (n > 0).then(|| (ty.to_owned(), n))
}

macro_rules! typed_ids {
    ($($(#[$m:meta])* $name:ident => $ty:literal in $table:literal),+ $(,)?) => {
        /// (table, GraphQL type) of every record with an ID of its own.
        const TYPES: &[(&str, &str)] = &[$(($table, $ty)),+];

        $(
            $(#[$m])*
            #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct $name(pub i64);

            impl $name {
                /// The GraphQL type name this ID belongs to.
                pub const TYPE: &'static str = $ty;

                /// The opaque global ID.
                pub fn to_global(self) -> async_graphql::ID {
                    encode($ty, self.0)
                }

                /// Parses a global ID of this type; anything else is `None`.
                pub fn parse(id: &str) -> Option<Self> {
                    match decode(id) {
                        Some((ty, n)) if ty == $ty => Some(Self(n)),
                        _ => None,
                    }
                }

                /// Parses a global ID given in an input field; a wrong one is a user error naming the field.
                pub fn from_input(id: &async_graphql::ID, field: &[&str]) -> ApiResult<Self> {
                    Self::parse(id).ok_or_else(|| {
                        ApiError::user(
                            UserErrorCode::Invalid,
                            field,
                            concat!("not a valid ", $ty, " ID"),
                        )
                    })
                }
            }
        )+
    };
}

typed_ids! {
    /// A child.
    ChildId => "Child" in "child",
    /// A household member or other person in the child's network.
    HouseholdMemberId => "HouseholdMember" in "household_member",
    /// A care episode.
    EpisodeId => "CareEpisode" in "care_episode",
    /// A reunification case.
    CaseId => "Case" in "reunification_case",
    /// A stage of a case.
    StageId => "Stage" in "stage_progress",
    /// A checklist item of a case.
    ChecklistItemId => "ChecklistItem" in "checklist_item",
    /// A decision.
    DecisionId => "Decision" in "decision",
    /// A risk classification.
    ClassificationId => "RiskClassification" in "risk_classification",
    /// A risk or protective factor.
    FactorId => "AssessmentFactor" in "assessment_factor",
    /// A record of the child's views.
    ChildViewId => "ChildView" in "child_view",
    /// A parental agreement (one version).
    AgreementId => "ParentalAgreement" in "parental_agreement",
    /// A party to a parental agreement.
    AgreementPartyId => "AgreementParty" in "agreement_party",
    /// A goal.
    GoalId => "Goal" in "goal",
    /// A goal review.
    GoalReviewId => "GoalReview" in "goal_review",
    /// A support plan.
    SupportPlanId => "SupportPlan" in "support_plan",
    /// A support service.
    ServiceId => "SupportService" in "support_service",
    /// A visit.
    VisitId => "Visit" in "visit",
    /// A review meeting.
    ReviewId => "Review" in "review",
    /// An outcome record.
    OutcomeId => "Outcome" in "outcome",
    /// A person who acts (a user or a machine client).
    ActorId => "Actor" in "actor",
    /// A local authority.
    LocalAuthorityId => "LocalAuthority" in "local_authority",
    WebhookId => "Webhook" in "webhook",
    WebhookDeliveryId => "WebhookDelivery" in "webhook_delivery",
}

/// The global ID of a row of `table`: the one `node(id:)` takes. A row of a kind with no type of
/// its own in the API (a goal's revision, say) gets an ID of the same opaque form, named by its
/// table.
pub fn global_of_row(table: &str, id: i64) -> async_graphql::ID {
    let ty = TYPES
        .iter()
        .find(|(t, _)| *t == table)
        .map_or(table, |(_, ty)| *ty);
    encode(ty, id)
}

/// The kinds of record an external identifier names (`external_identifier.owner_kind`).
pub mod owner {
    /// A child.
    pub const CHILD: &str = "child";
    /// An episode of care.
    pub const EPISODE: &str = "episode";
    /// A reunification case.
    pub const CASE: &str = "case";
    /// A household member.
    pub const MEMBER: &str = "household_member";
    /// A support service.
    pub const SERVICE: &str = "support_service";
    /// A visit.
    pub const VISIT: &str = "visit";
    /// A review.
    pub const REVIEW: &str = "review";
    /// An agreement party.
    pub const PARTY: &str = "agreement_party";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_other_types() {
        let id = CaseId(42).to_global();
        assert_eq!(CaseId::parse(&id), Some(CaseId(42)));
        assert_eq!(ChildId::parse(&id), None);
        assert_eq!(CaseId::parse("not-an-id"), None);
        assert_eq!(CaseId::parse(&encode("Case", -1)), None);
        assert_eq!(global_of_row("reunification_case", 42), id);
        assert_eq!(global_of_row("stage_progress", 7), StageId(7).to_global());
        assert_eq!(
            decode(&global_of_row("goal_revision", 3)),
            Some(("goal_revision".into(), 3))
        );
    }
}
