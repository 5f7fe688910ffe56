//! The framework's vocabulary: stages, decisions, levels, statuses and the other closed lists,
//! as the columns that hold them store them (their text form, the same on SQLite and
//! PostgreSQL). One definition serves the tables, the rules and (feature `graphql`) the API.

use sea_orm::entity::prelude::*;

/// Declares a vocabulary: a closed list stored as its text form, read and written by sea-orm as
/// that text (`DeriveActiveEnum`, no database enum type), serialised as the same text, and (with
/// the `graphql` feature) a GraphQL enum of the same names.
macro_rules! vocabulary {
    ($(#[$m:meta])* pub enum $name:ident { $($(#[$vm:meta])* $v:ident => $s:literal),+ $(,)? }) => {
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, EnumIter, DeriveActiveEnum)]
        #[cfg_attr(feature = "graphql", derive(async_graphql::Enum))]
        #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
        $(#[$m])*
        pub enum $name { $($(#[$vm])* #[sea_orm(string_value = $s)] $v),+ }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            /// Read by a visitor from the borrowed text: no string is allocated (the case facts
            /// read hundreds of thousands of these at once).
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct Text;
                impl serde::de::Visitor<'_> for Text {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " code"))
                    }
                    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        $name::parse(s).ok_or_else(|| E::unknown_variant(s, &[$($s),+]))
                    }
                }
                d.deserialize_str(Text)
            }
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            /// The stored text form.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            /// Reads the text form; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($s => Some($name::$v),)+
                    _ => None,
                }
            }
        }
    };
}

vocabulary! {
    /// The five stages of the Reunification Practice Framework, in order.
    pub enum Stage {
        /// Stage 0: a looked-after child for whom a return home could be considered; ends with D1.
        Identification => "IDENTIFICATION",
        /// Stage 1: assessment and analysis, Risk Classification 1; ends with D2.
        Assessment => "ASSESSMENT",
        /// Stage 2: parental agreement, goals and services, regular reviews; ends when goals are met and sustained (or not).
        GoalsAndServices => "GOALS_AND_SERVICES",
        /// Stage 3: Risk Classification 2, the reunification plan and approvals; ends with D3.
        ReturnDecision => "RETURN_DECISION",
        /// Stage 4: the child is home; support, visits, reviews and Risk Classification 3.
        ReturnAndSupport => "RETURN_AND_SUPPORT",
    }
}

impl Stage {
    /// The stage after this one, if any.
    pub fn next(self) -> Option<Stage> {
        let i = Stage::ALL.iter().position(|s| *s == self)?;
        Stage::ALL.get(i + 1).copied()
    }
}

vocabulary! {
    /// Whether a case is still being worked.
    pub enum CaseStatus {
        /// Work is going on.
        Active => "ACTIVE",
        /// Closed with an outcome.
        Closed => "CLOSED",
    }
}

vocabulary! {
    /// How the child went home.
    pub enum ReturnType {
        /// After D3 = yes, as planned (SSDA903 reason ceased E4A).
        Planned => "PLANNED",
        /// Without a D3 = yes: the child ran home, a placement broke down, a parent removed a child accommodated under section 20 (E4B).
        Unplanned => "UNPLANNED",
    }
}

vocabulary! {
    /// The framework's decision points.
    pub enum DecisionKind {
        /// D1: assess for reunification?
        D1 => "D1",
        /// D2: work towards reunification, or pursue another permanence plan?
        D2 => "D2",
        /// D3: return home, and when?
        D3 => "D3",
        /// Closure of the case.
        Closure => "CLOSURE",
    }
}

vocabulary! {
    /// The outcome of a decision.
    pub enum DecisionOutcome {
        /// Go ahead.
        Yes => "YES",
        /// Do not go ahead: the case closes as not pursued and an alternative permanence plan is recorded.
        No => "NO",
        /// Decide later (D1 and D2 only); the case stays in its stage.
        Deferred => "DEFERRED",
    }
}

vocabulary! {
    /// Where a decision stands in its approval.
    pub enum ApprovalStatus {
        /// No further approval is needed.
        NotRequired => "NOT_REQUIRED",
        /// Waiting for approval by the role named in `approverRole`.
        Pending => "PENDING",
        /// Approved.
        Approved => "APPROVED",
    }
}

vocabulary! {
    /// The three risk classifications of the framework.
    pub enum ClassificationKind {
        /// After the assessment (stage 1).
        #[cfg_attr(feature = "graphql", graphql(name = "RC1"))]
        Rc1 => "RC1",
        /// Before the return decision (stage 3).
        #[cfg_attr(feature = "graphql", graphql(name = "RC2"))]
        Rc2 => "RC2",
        /// About six months after the return (stage 4).
        #[cfg_attr(feature = "graphql", graphql(name = "RC3"))]
        Rc3 => "RC3",
    }
}

vocabulary! {
    /// Risk level, lowest first. Each LA may relabel the levels (`LocalAuthority.riskLevels`).
    pub enum RiskLevel {
        /// Low.
        Low => "1",
        /// Medium.
        Medium => "2",
        /// High.
        High => "3",
        /// Very high.
        VeryHigh => "4",
    }
}

impl RiskLevel {
    /// The stored rank (1 = Low … 4 = Very high).
    pub fn rank(self) -> i32 {
        match self {
            RiskLevel::Low => 1,
            RiskLevel::Medium => 2,
            RiskLevel::High => 3,
            RiskLevel::VeryHigh => 4,
        }
    }
    /// Reads a stored rank.
    pub fn from_rank(rank: i32) -> Option<Self> {
        Self::parse(&rank.to_string())
    }
}

vocabulary! {
    /// Whether an assessment factor raises or lowers risk.
    pub enum FactorKind {
        /// A risk factor.
        Risk => "RISK",
        /// A protective factor.
        Protective => "PROTECTIVE",
    }
}

vocabulary! {
    /// Category of a risk or protective factor.
    pub enum FactorCategory {
        /// Risk: alcohol misuse.
        AlcoholMisuse => "ALCOHOL_MISUSE",
        /// Risk: drug misuse.
        DrugMisuse => "DRUG_MISUSE",
        /// Risk: domestic abuse.
        DomesticAbuse => "DOMESTIC_ABUSE",
        /// Risk: parental mental health.
        ParentalMentalHealth => "PARENTAL_MENTAL_HEALTH",
        /// Risk: neglect.
        Neglect => "NEGLECT",
        /// Risk: exposure to sexual harm.
        SexualHarm => "SEXUAL_HARM",
        /// Risk: a previous failed return home.
        PreviousFailedReturn => "PREVIOUS_FAILED_RETURN",
        /// Risk: child-protection history.
        ChildProtectionHistory => "CHILD_PROTECTION_HISTORY",
        /// Risk: the child's behaviour.
        ChildBehaviour => "CHILD_BEHAVIOUR",
        /// Risk: weak support network.
        WeakSupportNetwork => "WEAK_SUPPORT_NETWORK",
        /// Risk: housing.
        Housing => "HOUSING",
        /// Risk: finances.
        Finances => "FINANCES",
        /// Protective: supportive partner or relatives.
        SupportiveNetwork => "SUPPORTIVE_NETWORK",
        /// Protective: engagement with services.
        EngagementWithServices => "ENGAGEMENT_WITH_SERVICES",
        /// Protective: insight into why the child came into care.
        Insight => "INSIGHT",
        /// Protective: observed behaviour change, sustained over time.
        BehaviourChange => "BEHAVIOUR_CHANGE",
        /// Risk or protective: anything else (say what in the evidence).
        Other => "OTHER",
    }
}

impl FactorCategory {
    /// The kind of factor this category belongs to; `None` for `Other`, which fits both.
    pub fn kind(self) -> Option<FactorKind> {
        use FactorCategory::*;
        match self {
            SupportiveNetwork | EngagementWithServices | Insight | BehaviourChange => {
                Some(FactorKind::Protective)
            }
            Other => None,
            _ => Some(FactorKind::Risk),
        }
    }
}

vocabulary! {
    /// Whether a risk factor is present.
    pub enum FactorStatus {
        /// Present now.
        Current => "CURRENT",
        /// In the past, may recur.
        Historical => "HISTORICAL",
        /// Resolved, with evidence.
        Resolved => "RESOLVED",
    }
}

vocabulary! {
    /// A person's relationship to the child.
    pub enum Relationship {
        /// Mother.
        Mother => "MOTHER",
        /// Father.
        Father => "FATHER",
        /// Step-parent.
        StepParent => "STEP_PARENT",
        /// A parent's partner (including a new partner).
        ParentsPartner => "PARENTS_PARTNER",
        /// Brother or sister (including half- and step-siblings).
        Sibling => "SIBLING",
        /// Grandparent.
        Grandparent => "GRANDPARENT",
        /// Another relative.
        OtherRelative => "OTHER_RELATIVE",
        /// A family friend or other member of the family network.
        FamilyFriend => "FAMILY_FRIEND",
        /// Anyone else in the household.
        Other => "OTHER",
    }
}

vocabulary! {
    /// Where a version of the parental agreement stands.
    pub enum AgreementStatus {
        /// Being drafted; not yet agreed.
        Draft => "DRAFT",
        /// Agreed and in force.
        Active => "ACTIVE",
        /// Replaced by a later version.
        Superseded => "SUPERSEDED",
    }
}

vocabulary! {
    /// Where a goal stands.
    pub enum GoalStatus {
        /// Being worked on.
        Active => "ACTIVE",
        /// Met and sustained.
        Met => "MET",
        /// Not met.
        NotMet => "NOT_MET",
        /// No longer relevant.
        Withdrawn => "WITHDRAWN",
    }
}

vocabulary! {
    /// The record that proves a checklist action: an item derived from it completes itself when
    /// the record exists, and cannot be ticked by hand.
    pub enum Evidence {
        /// The case was opened: a return home is being considered.
        CaseOpened => "CASE_OPENED",
        /// The child's wishes and feelings are recorded (a child view).
        ChildViews => "CHILD_VIEWS",
        /// Each household member with parental responsibility has an assessment factor.
        ParentsAssessed => "PARENTS_ASSESSED",
        /// Every household member has an assessment factor.
        HouseholdAssessed => "HOUSEHOLD_ASSESSED",
        /// A parental agreement with a goal is in force.
        AgreementInForce => "AGREEMENT_IN_FORCE",
        /// A service is running or has run.
        ServicesInPlace => "SERVICES_IN_PLACE",
        /// Every goal of the agreement in force has been reviewed.
        GoalsReviewed => "GOALS_REVIEWED",
        /// The support plan has a contingency plan.
        ContingencyPlan => "CONTINGENCY_PLAN",
        /// The support plan names a trusted adult for the child.
        TrustedAdult => "TRUSTED_ADULT",
        /// A looked-after review (chaired by the IRO) has been held.
        LookedAfterReview => "LOOKED_AFTER_REVIEW",
        /// After the return, services cover the LA's support months.
        SupportPackage => "SUPPORT_PACKAGE",
        /// After the return, a visit saw the child alone.
        ChildSeenAlone => "CHILD_SEEN_ALONE",
        /// After the return, a plan review has been held.
        PlanReviewed => "PLAN_REVIEWED",
    }
}

vocabulary! {
    /// A red/amber/green progress rating.
    pub enum Rating {
        /// Not met; serious concern.
        Red => "RED",
        /// Partly met, or progress not yet sustained.
        Amber => "AMBER",
        /// Met.
        Green => "GREEN",
    }
}

vocabulary! {
    /// Type of a support service.
    pub enum ServiceType {
        /// Parenting support.
        ParentingSupport => "PARENTING_SUPPORT",
        /// Adult mental health.
        AdultMentalHealth => "ADULT_MENTAL_HEALTH",
        /// Drug and alcohol service.
        DrugAndAlcohol => "DRUG_AND_ALCOHOL",
        /// Domestic abuse programme.
        DomesticAbuse => "DOMESTIC_ABUSE",
        /// Child and adolescent mental health services (CAMHS).
        ChildMentalHealth => "CHILD_MENTAL_HEALTH",
        /// Family support worker.
        FamilySupportWorker => "FAMILY_SUPPORT_WORKER",
        /// Respite or short breaks.
        Respite => "RESPITE",
        /// Education support.
        Education => "EDUCATION",
        /// Financial or housing help.
        FinancialOrHousing => "FINANCIAL_OR_HOUSING",
        /// Anything else.
        Other => "OTHER",
    }
}

vocabulary! {
    /// A family's level of support need.
    pub enum NeedLevel {
        /// High need.
        High => "HIGH",
        /// Medium need.
        Medium => "MEDIUM",
        /// Low need.
        Low => "LOW",
    }
}

vocabulary! {
    /// Where a support service stands.
    pub enum ServiceStatus {
        /// Agreed, not yet started.
        Planned => "PLANNED",
        /// Being delivered.
        Active => "ACTIVE",
        /// Finished.
        Ended => "ENDED",
        /// Offered and declined by the family.
        Declined => "DECLINED",
    }
}

vocabulary! {
    /// Kind of review meeting.
    pub enum ReviewKind {
        /// Review of the reunification or support plan.
        Plan => "PLAN",
        /// Review of the parental agreement and its goals.
        Agreement => "AGREEMENT",
        /// Statutory looked-after child review chaired by the IRO.
        LookedAfter => "LOOKED_AFTER",
    }
}

vocabulary! {
    /// Yes, no or unknown.
    pub enum YesNoUnknown {
        /// Yes.
        Yes => "YES",
        /// No.
        No => "NO",
        /// Not known.
        Unknown => "UNKNOWN",
    }
}

vocabulary! {
    /// Why a case closed.
    pub enum ClosureReason {
        /// Support completed and the child is stable at home.
        StableAtHome => "STABLE_AT_HOME",
        /// Reunification not pursued (a "no" at D1, D2 or D3).
        NotPursued => "NOT_PURSUED",
        /// The return broke down and the child re-entered care.
        BrokeDown => "BROKE_DOWN",
        /// The child reached 18.
        #[cfg_attr(feature = "graphql", graphql(name = "REACHED_18"))]
        Reached18 => "REACHED_18",
        /// The family moved to another LA.
        MovedLa => "MOVED_LA",
        /// Any other reason (say why in the rationale).
        Other => "OTHER",
    }
}

vocabulary! {
    /// What happened, as the event log, the case timeline and subscriptions name it.
    pub enum EventType {
        /// A child's record was created.
        ChildCreated => "CHILD_CREATED",
        /// A child's record changed (death, legal hold, …).
        ChildChanged => "CHILD_CHANGED",
        /// Another record of the same child was merged into this one (its episodes, cases,
        /// household and identifiers moved here; the other record was removed).
        ChildMerged => "CHILD_MERGED",
        /// A parent, household or family-network member was added.
        HouseholdMemberAdded => "HOUSEHOLD_MEMBER_ADDED",
        /// A household member's record changed.
        HouseholdMemberChanged => "HOUSEHOLD_MEMBER_CHANGED",
        /// An episode of care was opened.
        EpisodeOpened => "EPISODE_OPENED",
        /// An episode of care changed (ended).
        EpisodeChanged => "EPISODE_CHANGED",
        /// A reunification case was opened.
        CaseOpened => "CASE_OPENED",
        /// A case's own details changed (allocation, team, review date, risk level).
        CaseChanged => "CASE_CHANGED",
        /// The child returned home (planned or unplanned).
        ReturnRecorded => "RETURN_RECORDED",
        /// The case was closed.
        CaseClosed => "CASE_CLOSED",
        /// The case entered a stage.
        StageEntered => "STAGE_ENTERED",
        /// A stage was completed.
        StageCompleted => "STAGE_COMPLETED",
        /// A team manager signed off the assessment.
        AssessmentSignedOff => "ASSESSMENT_SIGNED_OFF",
        /// A practice action was marked done or not done.
        ChecklistItemUpdated => "CHECKLIST_ITEM_UPDATED",
        /// D1, D2, D3 or a closure decision was recorded.
        DecisionRecorded => "DECISION_RECORDED",
        /// A decision was approved.
        DecisionApproved => "DECISION_APPROVED",
        /// A risk classification was proposed.
        ClassificationProposed => "CLASSIFICATION_PROPOSED",
        /// A risk classification was agreed.
        ClassificationAgreed => "CLASSIFICATION_AGREED",
        /// A risk or protective factor was recorded.
        FactorRecorded => "FACTOR_RECORDED",
        /// The child's views were recorded.
        ChildViewRecorded => "CHILD_VIEW_RECORDED",
        /// A parental agreement was drafted.
        AgreementCreated => "AGREEMENT_CREATED",
        /// A parental agreement changed (agreed, superseded).
        AgreementChanged => "AGREEMENT_CHANGED",
        /// A party accepted (or was added to) a parental agreement.
        AgreementPartyUpdated => "AGREEMENT_PARTY_UPDATED",
        /// A goal was added.
        GoalAdded => "GOAL_ADDED",
        /// A goal was revised (target date, description, status).
        GoalRevised => "GOAL_REVISED",
        /// A goal was reviewed (red, amber, green).
        GoalReviewed => "GOAL_REVIEWED",
        /// The support plan changed.
        SupportPlanUpdated => "SUPPORT_PLAN_UPDATED",
        /// A service was added to the support package.
        ServiceAdded => "SERVICE_ADDED",
        /// A service changed (ended, need level).
        ServiceChanged => "SERVICE_CHANGED",
        /// A visit was recorded.
        VisitRecorded => "VISIT_RECORDED",
        /// A review meeting was recorded.
        ReviewRecorded => "REVIEW_RECORDED",
        /// The outcome was recorded or followed up.
        OutcomeRecorded => "OUTCOME_RECORDED",
    }
}

vocabulary! {
    /// What was done to a record.
    #[cfg_attr(feature = "graphql", graphql(name = "AuditAction"))]
    pub enum Action {
        /// The record was returned to the caller.
        Read => "READ",
        /// The record was created.
        Create => "CREATE",
        /// The record was changed.
        Update => "UPDATE",
        /// The record was removed (retention purge).
        Delete => "DELETE",
        /// Everything held about a child was exported (subject access).
        Export => "EXPORT",
        /// Two records of the same child were merged into one.
        Merge => "MERGE",
    }
}

vocabulary! {
    /// How the attempt ended.
    #[cfg_attr(feature = "graphql", graphql(name = "AuditOutcome"))]
    pub enum Outcome {
        /// The caller was allowed and the record was there.
        Allowed => "ALLOWED",
        /// The caller's roles or scopes do not allow the operation.
        Denied => "DENIED",
        /// No such record in the caller's LA (a record of another LA looks the same).
        NotFound => "NOT_FOUND",
    }
}

vocabulary! {
    /// Where a delivery stands.
    pub enum DeliveryStatus {
        /// Waiting for its first or next attempt.
        Pending => "PENDING",
        /// The endpoint answered 2xx.
        Delivered => "DELIVERED",
        /// Every attempt for 24 hours failed; replay it to try again.
        Failed => "FAILED",
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ActiveEnum, Value};

    use super::*;

    /// Every value of `E` is stored, bound, read back and serialised as its text form, and text
    /// that is no value of `E` reads as none.
    fn round_trips<E>(all: &[E], as_str: fn(E) -> &'static str, parse: fn(&str) -> Option<E>)
    where
        E: ActiveEnum<Value = String> + Copy + PartialEq + std::fmt::Debug + serde::Serialize,
        Value: From<E>,
    {
        for &v in all {
            let text = as_str(v);
            assert_eq!(v.to_value(), text, "{v:?} is stored as its text");
            assert_eq!(
                Value::from(v),
                Value::String(Some(text.to_owned())),
                "{v:?} binds as its text"
            );
            assert_eq!(E::try_from_value(&text.to_owned()).ok(), Some(v));
            assert_eq!(parse(text), Some(v));
            let json = serde_json::to_string(&v).ok();
            assert_eq!(
                json,
                Some(format!("\"{text}\"")),
                "{v:?} serialises as its text"
            );
        }
        assert_eq!(parse("NOT_A_CODE"), None);
        assert!(E::try_from_value(&"NOT_A_CODE".to_owned()).is_err());
    }

    macro_rules! check {
        ($($e:ident),+) => { $(round_trips($e::ALL, $e::as_str, $e::parse);)+ };
    }

    #[test]
    fn every_vocabulary_is_stored_as_its_text() {
        check!(
            Stage,
            CaseStatus,
            ReturnType,
            DecisionKind,
            DecisionOutcome,
            ApprovalStatus,
            ClassificationKind,
            RiskLevel,
            FactorKind,
            FactorCategory,
            FactorStatus,
            Relationship,
            AgreementStatus,
            GoalStatus,
            Evidence,
            Rating,
            ServiceType,
            NeedLevel,
            ServiceStatus,
            ReviewKind,
            YesNoUnknown,
            ClosureReason,
            EventType,
            Action,
            Outcome,
            DeliveryStatus
        );
        assert_eq!(Stage::ReturnDecision.as_str(), "RETURN_DECISION");
        assert_eq!(RiskLevel::from_rank(4), Some(RiskLevel::VeryHigh));
        assert_eq!(RiskLevel::from_rank(5), None);
    }
}
