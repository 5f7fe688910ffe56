//! The Node interface: `node(id:)` and `nodes(ids:)`, scoped to the caller's LA like every other path.

use async_graphql::{Context, ID, Interface, Object, Result};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::assessments::types::{AssessmentFactor, ChildView};
use crate::audit::acting::Acting;
use crate::cases::types::Case;
use crate::children::types::{CareEpisode, Child, HouseholdMember};
use crate::context::ContextExt;
use crate::db::Db;
use crate::error::{ApiError, ApiResult};
use crate::goals::types::{AgreementParty, Goal, GoalReview, ParentalAgreement};
use crate::outcomes::types::Outcome;
use crate::stages::types::{CaseStage, ChecklistItem, Decision, RiskClassification};
use crate::support_plans::types::{SupportPlan, SupportService};
use crate::tenancy::types::Actor;
use crate::visits::types::{Review, Visit};

/// An object with a global ID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global ID."))]
pub enum Node {
    /// A child.
    Child(Child),
    /// A household member.
    HouseholdMember(HouseholdMember),
    /// An episode of care.
    CareEpisode(CareEpisode),
    /// A case.
    Case(Case),
    /// A stage of a case.
    CaseStage(CaseStage),
    /// A checklist item.
    ChecklistItem(ChecklistItem),
    /// A decision.
    Decision(Decision),
    /// A risk classification.
    RiskClassification(RiskClassification),
    /// An outcome.
    Outcome(Outcome),
    /// An actor.
    Actor(Actor),
    /// A risk or protective factor.
    AssessmentFactor(AssessmentFactor),
    /// A record of the child's views.
    ChildView(ChildView),
    /// A version of the parental agreement.
    ParentalAgreement(ParentalAgreement),
    /// A party to an agreement.
    AgreementParty(AgreementParty),
    /// A goal.
    Goal(Goal),
    /// A goal review.
    GoalReview(GoalReview),
    /// A support plan.
    SupportPlan(SupportPlan),
    /// A support service.
    SupportService(SupportService),
    /// A visit.
    Visit(Visit),
    /// A review meeting.
    Review(Review),
}

/// Fetches any node of the caller's LA by global ID; `None` for unknown, malformed or other-LA IDs.
/// Every lookup is noted in the audit trail: the record returned, or the miss.
async fn fetch(
    ctx: &Context<'_>,
    db: &impl Db,
    caller: &Acting,
    id: &str,
) -> ApiResult<Option<Node>> {
    let Some((ty, id)) = crate::ids::decode(id) else {
        return Ok(None);
    };
    macro_rules! find {
        ($entity:ident, $wrap:ident) => {{
            let found = entities::$entity::Entity::find_by_id(id)
                .filter(entities::$entity::Column::LaId.eq(caller.la_id))
                .one(db)
                .await?;
            if found.is_none() {
                ctx.missed(stringify!($entity), id);
            }
            found.map(|m| Node::$wrap($wrap(ctx.seen(m))))
        }};
    }
    Ok(match ty.as_str() {
        "Child" => find!(child, Child),
        "HouseholdMember" => find!(household_member, HouseholdMember),
        "CareEpisode" => find!(care_episode, CareEpisode),
        "Case" => find!(reunification_case, Case),
        "Stage" => find!(stage_progress, CaseStage),
        "ChecklistItem" => find!(checklist_item, ChecklistItem),
        "Decision" => find!(decision, Decision),
        "RiskClassification" => find!(risk_classification, RiskClassification),
        "Outcome" => find!(outcome, Outcome),
        "Actor" => find!(actor, Actor),
        "AssessmentFactor" => find!(assessment_factor, AssessmentFactor),
        "ChildView" => find!(child_view, ChildView),
        "ParentalAgreement" => find!(parental_agreement, ParentalAgreement),
        "AgreementParty" => find!(agreement_party, AgreementParty),
        "Goal" => find!(goal, Goal),
        "GoalReview" => find!(goal_review, GoalReview),
        "SupportPlan" => find!(support_plan, SupportPlan),
        "SupportService" => find!(support_service, SupportService),
        "Visit" => find!(visit, Visit),
        "Review" => find!(review, Review),
        _ => None,
    })
}

/// The `node` and `nodes` queries.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object of the caller's LA by its global ID; null when there is none.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        let caller = ctx.reader()?;
        Ok(fetch(ctx, ctx.db()?, caller, &id).await?)
    }

    /// Several objects by global ID (at most 100), in the order asked; null where there is none.
    #[graphql(complexity = "ids.len().max(1).saturating_mul(child_complexity).saturating_add(1)")]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        if ids.len() > 100 {
            return Err(ApiError::BadInput("at most 100 IDs".to_owned()).into());
        }
        let caller = ctx.reader()?;
        let db = ctx.db()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in &ids {
            out.push(fetch(ctx, db, caller, id).await?);
        }
        Ok(out)
    }
}
