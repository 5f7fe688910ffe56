//! [`CaseSnapshot`]: everything the framework's rules read about one case, loaded in one go, and
//! shared by the services (ask the rules, then write) and the case facts the aggregates read.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use entities::{
    agreement_party, assessment_factor, care_episode, checklist_item, child, child_view, decision,
    goal, goal_review, goal_revision, household_member, outcome, parental_agreement,
    reunification_case as case, review, risk_classification, stage_progress, support_plan,
    support_service, visit,
};
use sea_orm::ConnectionTrait;

use crate::assessments::loaders::{ChildViewsOf, FactorsOf};
use crate::cases::loaders::{CaseKey, CasesOfChild};
use crate::children::loaders::{ChildKey, EpisodesOf, HouseholdOf};
use crate::domain::{
    AgreementStatus, ApprovalStatus, CaseStatus, ClassificationKind, DecisionKind, DecisionOutcome,
    RiskLevel, Stage,
};
use crate::error::{ApiError, ApiResult};
use crate::goals::loaders::{AgreementsOf, GoalsOfCase, PartiesOf, ReviewsOfGoal, RevisionsOfGoal};
use crate::loaders::{Keyed as _, PartKey, fetch, rows_of};
use crate::outcomes::loaders::OutcomeOf;
use crate::stages::loaders::{ChecklistOf, ClassificationsOf, DecisionsOf, StagesOf};
use crate::support_plans::loaders::{ServicesOf, SupportPlanOf};
use crate::tenancy::settings::LaSettings;
use crate::visits::loaders::{ReviewsOf, VisitsOf};

/// One case with everything the rules read: its records, its child's household and episodes, the
/// child's earlier attempts, and the LA's settings. Plain data: the rules never touch a database.
#[derive(Debug, Clone)]
pub struct CaseSnapshot {
    /// The case.
    pub case: case::Model,
    /// Its child.
    pub child: child::Model,
    /// The child's household members.
    pub household: Vec<household_member::Model>,
    /// Every episode of care of the child, earliest first.
    pub episodes: Vec<care_episode::Model>,
    /// The stages the case entered, in order.
    pub stages: Vec<stage_progress::Model>,
    /// The checklist items of every stage entered.
    pub checklist: Vec<checklist_item::Model>,
    /// Decisions, in order of recording.
    pub decisions: Vec<decision::Model>,
    /// Risk classifications, proposed and agreed, in order of recording.
    pub classifications: Vec<risk_classification::Model>,
    /// Parental agreement versions, by number.
    pub agreements: Vec<parental_agreement::Model>,
    /// Parties of every agreement version.
    pub parties: Vec<agreement_party::Model>,
    /// Goals of every agreement version.
    pub goals: Vec<goal::Model>,
    /// Reviews of those goals, oldest first.
    pub goal_reviews: Vec<goal_review::Model>,
    /// Revisions of those goals (more time, new wording, new status), in order.
    pub goal_revisions: Vec<goal_revision::Model>,
    /// The support plan (contingency plan, trusted adult), if written.
    pub support_plan: Option<support_plan::Model>,
    /// Services, by start date.
    pub services: Vec<support_service::Model>,
    /// Visits, in order of recording.
    pub visits: Vec<visit::Model>,
    /// Plan, agreement and looked-after reviews, by date held.
    pub reviews: Vec<review::Model>,
    /// Risk and protective factors.
    pub factors: Vec<assessment_factor::Model>,
    /// The child's recorded views.
    pub child_views: Vec<child_view::Model>,
    /// The outcome row, once there is one.
    pub outcome: Option<outcome::Model>,
    /// The child's other reunification cases (earlier attempts).
    pub earlier_cases: Vec<case::Model>,
    /// Agreed classifications of those cases.
    pub earlier_classifications: Vec<risk_classification::Model>,
    /// The LA's settings.
    pub settings: LaSettings,
    /// Today (UTC), the latest date anything can be recorded on.
    pub today: NaiveDate,
}

/// An agreed classification, read into its types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Agreed {
    /// RC1, RC2 or RC3.
    pub kind: ClassificationKind,
    /// The level agreed.
    pub level: RiskLevel,
    /// The date of the classification.
    pub classified_on: NaiveDate,
}

impl CaseSnapshot {
    /// The current stage.
    pub fn stage(&self) -> Stage {
        self.case.stage
    }

    /// The case's status.
    pub fn status(&self) -> CaseStatus {
        self.case.status
    }

    /// The row of a stage the case entered.
    pub fn stage_row(&self, stage: Stage) -> Option<&stage_progress::Model> {
        self.stages.iter().rev().find(|s| s.stage == stage)
    }

    /// The day a stage was entered (the case's opening for a stage never entered).
    pub fn entered_on(&self, stage: Stage) -> NaiveDate {
        self.stage_row(stage)
            .map_or(self.case.opened_on, |s| s.entered_on)
    }

    /// The checklist items of a stage.
    pub fn checklist_of(&self, stage: Stage) -> impl Iterator<Item = &checklist_item::Model> {
        self.checklist.iter().filter(move |i| i.stage == stage)
    }

    /// The decisions of a kind with an outcome.
    pub fn decisions_of(
        &self,
        kind: DecisionKind,
        outcome: DecisionOutcome,
    ) -> impl Iterator<Item = &decision::Model> {
        self.decisions
            .iter()
            .filter(move |d| d.kind == kind && d.outcome == outcome)
    }

    /// D3 = yes, if recorded.
    pub fn d3_yes(&self) -> Option<&decision::Model> {
        self.decisions_of(DecisionKind::D3, DecisionOutcome::Yes)
            .next()
    }

    /// Whether D3 = yes is recorded and not awaiting approval.
    pub fn d3_approved(&self) -> bool {
        self.d3_yes()
            .is_some_and(|d| d.approval_status != ApprovalStatus::Pending)
    }

    /// This case's agreed classifications, oldest first.
    pub fn agreed(&self) -> ApiResult<Vec<Agreed>> {
        agreed_of(&self.classifications)
    }

    /// Agreed classifications of this case and of the child's earlier attempts, oldest first.
    pub fn agreed_for_child(&self) -> ApiResult<Vec<Agreed>> {
        let mut all = agreed_of(&self.earlier_classifications)?;
        all.extend(self.agreed()?);
        all.sort_by_key(|a| a.classified_on);
        Ok(all)
    }

    /// The agreed classification of a kind.
    pub fn agreed_of(&self, kind: ClassificationKind) -> Option<&risk_classification::Model> {
        self.classifications
            .iter()
            .find(|c| c.kind == kind && c.agreed_on.is_some())
    }

    /// The agreement in force.
    pub fn agreement_in_force(&self) -> Option<&parental_agreement::Model> {
        self.agreements
            .iter()
            .rev()
            .find(|a| a.status == AgreementStatus::Active)
    }

    /// The goals of an agreement version.
    pub fn goals_of(&self, agreement: i64) -> impl Iterator<Item = &goal::Model> {
        self.goals
            .iter()
            .filter(move |g| g.agreement_id == agreement)
    }

    /// The parties of an agreement version.
    pub fn parties_of(&self, agreement: i64) -> impl Iterator<Item = &agreement_party::Model> {
        self.parties
            .iter()
            .filter(move |p| p.agreement_id == agreement)
    }

    /// The household member with an id.
    pub fn member(&self, id: i64) -> Option<&household_member::Model> {
        self.household.iter().find(|m| m.id == id)
    }

    /// The episode the case belongs to.
    pub fn episode(&self) -> ApiResult<&care_episode::Model> {
        self.episodes
            .iter()
            .find(|e| e.id == self.case.episode_id)
            .ok_or_else(|| ApiError::internal("a case's episode is missing"))
    }

    /// The day the child went home, once recorded.
    pub fn returned_on(&self) -> Option<NaiveDate> {
        self.outcome.as_ref().and_then(|o| o.return_on)
    }
}

fn agreed_of(rows: &[risk_classification::Model]) -> ApiResult<Vec<Agreed>> {
    let mut out = Vec::new();
    for c in rows.iter().filter(|c| c.agreed_on.is_some()) {
        out.push(Agreed {
            kind: c.kind,
            level: RiskLevel::from_rank(c.level)
                .ok_or_else(|| crate::error::ApiError::internal("a risk level out of range"))?,
            classified_on: c.classified_on,
        });
    }
    out.sort_by_key(|a| a.classified_on);
    Ok(out)
}

/// Loads the caller's case for a change: it must exist in the caller's LA and match
/// `expected_version` when given (whether it may change is the rules' to say).
pub async fn for_change(
    db: &impl ConnectionTrait,
    actor: &crate::audit::acting::Acting,
    id: crate::ids::CaseId,
    expected_version: Option<i32>,
) -> ApiResult<CaseSnapshot> {
    use crate::error::OptionExt as _;
    let la = crate::tenancy::settings::get(db, actor.la_id).await?;
    let s = load(
        db,
        actor.la_id,
        id.0,
        crate::tenancy::settings::settings(&la),
    )
    .await?
    .or_user_not_found(&["caseId"], "case")?;
    ApiError::check_version(expected_version, s.case.version)?;
    Ok(s)
}

/// Loads one case of LA `la` (the tenant of `db`'s transaction), or `None` if it has none such.
pub async fn load(
    db: &impl ConnectionTrait,
    la: i64,
    case_id: i64,
    settings: LaSettings,
) -> ApiResult<Option<CaseSnapshot>> {
    Ok(load_many(db, la, &[case_id], &settings)
        .await?
        .into_iter()
        .next())
}

/// Loads the snapshots of some cases of LA `la`, in three statements on PostgreSQL (the cases and
/// everything under them; their children, agreements' parties and goals' reviews; the earlier
/// attempts' classifications), whatever the number of cases.
pub async fn load_many(
    db: &impl ConnectionTrait,
    la: i64,
    ids: &[i64],
    settings: &LaSettings,
) -> ApiResult<Vec<CaseSnapshot>> {
    let of_cases: Vec<PartKey> = ids
        .iter()
        .flat_map(|&id| {
            [
                CaseKey(id).part(),
                OutcomeOf(id).part(),
                StagesOf(id).part(),
                ChecklistOf(id).part(),
                DecisionsOf(id).part(),
                ClassificationsOf(id).part(),
                AgreementsOf(id).part(),
                GoalsOfCase(id).part(),
                SupportPlanOf(id).part(),
                ServicesOf(id).part(),
                VisitsOf(id).part(),
                ReviewsOf(id).part(),
                FactorsOf(id).part(),
                ChildViewsOf(id).part(),
            ]
        })
        .collect();
    let first = fetch(db, la, &of_cases).await?;
    let cases: Vec<&case::Model> = ids
        .iter()
        .flat_map(|&id| rows_of(&first, CaseKey(id)))
        .collect();
    if cases.is_empty() {
        return Ok(Vec::new());
    }
    let children: BTreeSet<i64> = cases.iter().map(|c| c.child_id).collect();
    let second: Vec<PartKey> = children
        .iter()
        .flat_map(|&child| {
            [
                ChildKey(child).part(),
                HouseholdOf(child).part(),
                EpisodesOf(child).part(),
                CasesOfChild(child).part(),
            ]
        })
        .chain(ids.iter().flat_map(|&id| {
            rows_of(&first, AgreementsOf(id))
                .map(|a| PartiesOf(a.id).part())
                .chain(
                    rows_of(&first, GoalsOfCase(id))
                        .flat_map(|g| [ReviewsOfGoal(g.id).part(), RevisionsOfGoal(g.id).part()]),
                )
                .collect::<Vec<_>>()
        }))
        .collect();
    let second = fetch(db, la, &second).await?;
    let earlier: Vec<PartKey> = cases
        .iter()
        .flat_map(|c| {
            rows_of(&second, CasesOfChild(c.child_id))
                .filter(|e| e.id != c.id)
                .map(|e| ClassificationsOf(e.id).part())
                .collect::<Vec<_>>()
        })
        .collect();
    let third = if earlier.is_empty() {
        Default::default()
    } else {
        fetch(db, la, &earlier).await?
    };
    let today = crate::domain::dates::today();
    let mut out = Vec::with_capacity(cases.len());
    for c in cases {
        let id = c.id;
        let child = rows_of(&second, ChildKey(c.child_id))
            .next()
            .cloned()
            .ok_or_else(|| ApiError::internal("a case's child is missing"))?;
        let agreements: Vec<parental_agreement::Model> =
            rows_of(&first, AgreementsOf(id)).cloned().collect();
        let goals: Vec<goal::Model> = rows_of(&first, GoalsOfCase(id)).cloned().collect();
        let earlier_cases: Vec<case::Model> = rows_of(&second, CasesOfChild(c.child_id))
            .filter(|e| e.attempt_number < c.attempt_number)
            .cloned()
            .collect();
        out.push(CaseSnapshot {
            case: c.clone(),
            household: rows_of(&second, HouseholdOf(c.child_id)).cloned().collect(),
            episodes: rows_of(&second, EpisodesOf(c.child_id)).cloned().collect(),
            stages: rows_of(&first, StagesOf(id)).cloned().collect(),
            checklist: rows_of(&first, ChecklistOf(id)).cloned().collect(),
            decisions: rows_of(&first, DecisionsOf(id)).cloned().collect(),
            classifications: rows_of(&first, ClassificationsOf(id)).cloned().collect(),
            parties: agreements
                .iter()
                .flat_map(|a| rows_of(&second, PartiesOf(a.id)).cloned())
                .collect(),
            goal_reviews: goals
                .iter()
                .flat_map(|g| rows_of(&second, ReviewsOfGoal(g.id)).cloned())
                .collect(),
            goal_revisions: goals
                .iter()
                .flat_map(|g| rows_of(&second, RevisionsOfGoal(g.id)).cloned())
                .collect(),
            agreements,
            goals,
            support_plan: rows_of(&first, SupportPlanOf(id)).next().cloned(),
            services: rows_of(&first, ServicesOf(id)).cloned().collect(),
            visits: rows_of(&first, VisitsOf(id)).cloned().collect(),
            reviews: rows_of(&first, ReviewsOf(id)).cloned().collect(),
            factors: rows_of(&first, FactorsOf(id)).cloned().collect(),
            child_views: rows_of(&first, ChildViewsOf(id)).cloned().collect(),
            outcome: rows_of(&first, OutcomeOf(id)).next().cloned(),
            earlier_classifications: earlier_cases
                .iter()
                .flat_map(|e| rows_of(&third, ClassificationsOf(e.id)).cloned())
                .collect(),
            earlier_cases,
            child,
            settings: settings.clone(),
            today,
        });
    }
    Ok(out)
}
