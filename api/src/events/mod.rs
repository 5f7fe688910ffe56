//! The event log: every change a request makes becomes a domain event (case opened, stage
//! entered, decision recorded, …), collected on the request's trail as the change is written and
//! stored just before the request commits, in the same transaction, with a position that grows in
//! commit order within each LA. It is the case timeline (`Case.events`) and what subscriptions and
//! webhooks deliver.

pub mod service;
pub mod types;

use crate::audit::record::{Action, Record};
use crate::domain::EventType;

/// An event a request has caused and not yet stored.
#[derive(Debug, Clone)]
pub struct PendingEvent {
    /// What happened.
    pub event_type: EventType,
    /// The record written, with its case and child.
    pub record: Record,
    /// Names of the fields set.
    pub fields: Vec<String>,
    /// The root field (mutation) that caused it.
    pub operation: String,
}

/// The domain event a write stands for; `None` for writes that are not events of a case or child
/// (configuration, actors, identifiers, checklist items copied in when a stage opens, and a case
/// saved only to move its version on).
pub fn classify(kind: &str, action: Action, fields: &[&str]) -> Option<EventType> {
    use EventType as E;
    let created = match action {
        Action::Create => true,
        Action::Update => false,
        Action::Merge if kind == "child" => return Some(EventType::ChildMerged),
        Action::Read | Action::Delete | Action::Export | Action::Merge => return None,
    };
    let has = |f: &str| fields.contains(&f);
    Some(match (kind, created) {
        ("child", true) => E::ChildCreated,
        ("child", false) => E::ChildChanged,
        ("household_member", true) => E::HouseholdMemberAdded,
        ("household_member", false) => E::HouseholdMemberChanged,
        ("care_episode", true) => E::EpisodeOpened,
        ("care_episode", false) => E::EpisodeChanged,
        ("reunification_case", true) => E::CaseOpened,
        ("reunification_case", false) if has("closed_on") => E::CaseClosed,
        ("reunification_case", false) if has("return_type") => E::ReturnRecorded,
        // A save that only moved the version or the stage on: the change has its own event.
        ("reunification_case", false)
            if fields.iter().all(|f| matches!(*f, "stage" | "status")) =>
        {
            return None;
        }
        ("reunification_case", false) => E::CaseChanged,
        ("stage_progress", true) => E::StageEntered,
        ("stage_progress", false) if has("signed_off_on") => E::AssessmentSignedOff,
        ("stage_progress", false) => E::StageCompleted,
        ("checklist_item", false) => E::ChecklistItemUpdated,
        ("decision", true) => E::DecisionRecorded,
        ("decision", false) => E::DecisionApproved,
        ("risk_classification", true) => E::ClassificationProposed,
        ("risk_classification", false) => E::ClassificationAgreed,
        ("assessment_factor", _) => E::FactorRecorded,
        ("child_view", _) => E::ChildViewRecorded,
        ("parental_agreement", true) => E::AgreementCreated,
        ("parental_agreement", false) => E::AgreementChanged,
        ("agreement_party", _) => E::AgreementPartyUpdated,
        ("goal", true) => E::GoalAdded,
        ("goal", false) | ("goal_revision", _) => E::GoalRevised,
        ("goal_review", _) => E::GoalReviewed,
        ("support_plan", _) => E::SupportPlanUpdated,
        ("support_service", true) => E::ServiceAdded,
        ("support_service", false) => E::ServiceChanged,
        ("visit", _) => E::VisitRecorded,
        ("review", _) => E::ReviewRecorded,
        ("outcome", _) => E::OutcomeRecorded,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_map_to_domain_events() {
        assert_eq!(
            classify("reunification_case", Action::Create, &["child_id"]),
            Some(EventType::CaseOpened)
        );
        assert_eq!(
            classify(
                "reunification_case",
                Action::Update,
                &["status", "closed_on"]
            ),
            Some(EventType::CaseClosed)
        );
        assert_eq!(classify("reunification_case", Action::Update, &[]), None);
        assert_eq!(
            classify("decision", Action::Update, &["approved_on"]),
            Some(EventType::DecisionApproved)
        );
        assert_eq!(classify("checklist_item", Action::Create, &["key"]), None);
        assert_eq!(classify("actor", Action::Create, &["subject"]), None);
        assert_eq!(classify("child", Action::Read, &[]), None);
    }
}
