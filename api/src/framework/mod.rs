//! The framework's judgement, in one place: every rule of the Reunification Practice Framework as
//! a pure function over a [`CaseSnapshot`], returning what to write or a refusal with its code.
//! Services load the snapshot, ask these rules, then write; nothing else decides. [`table`] lists
//! the rules for people (`reunify rules`, the README's process section).

pub mod agreement;
pub mod checklist;
pub mod closure;
pub mod decisions;
pub mod due;
pub mod goals;
pub mod outcomes;
pub mod process;
pub mod risk;
pub mod roles;
pub mod snapshot;
pub mod table;

pub use snapshot::CaseSnapshot;

use crate::auth::{Actor, Role};

/// Who is acting, as the rules see it: a person (or client) and the roles their token holds.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The actor row id (what `decided_by`, `proposed_by` and the like store).
    pub id: i64,
    /// The token's roles.
    pub roles: &'a [Role],
}

impl<'a> From<&'a Actor> for Caller<'a> {
    fn from(a: &'a Actor) -> Self {
        Caller {
            id: a.actor_id,
            roles: &a.roles,
        }
    }
}

/// Snapshots for the rules' table tests: a case built record by record from JSON, as stored.
#[cfg(test)]
pub(crate) mod fixture {
    use chrono::NaiveDate;
    use serde::de::DeserializeOwned;
    use serde_json::{Value, json};

    use super::CaseSnapshot;
    use crate::tenancy::service::LaSettings;

    /// What a rule answered: `ok`, the user error's code (`InvalidDate`), or `FORBIDDEN`.
    pub fn code<T: std::fmt::Debug>(r: crate::error::ApiResult<T>) -> String {
        use crate::error::ApiError;
        match r {
            Ok(_) => "ok".to_owned(),
            Err(ApiError::User(e)) => format!("{:?}", e[0].code),
            Err(ApiError::Forbidden(_)) => "FORBIDDEN".to_owned(),
            Err(other) => format!("{other:?}"),
        }
    }

    /// A date in 2026: `d(3, 15)` is 15 March 2026.
    pub fn d(month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, month, day).unwrap()
    }

    /// A model from the fields that matter, the bookkeeping ones filled in.
    pub fn row<T: DeserializeOwned>(fields: Value) -> T {
        let mut base = json!({
            "id": 1, "la_id": 1, "case_id": 1, "version": 1,
            "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "created_by": null, "updated_by": null,
        });
        if let (Some(b), Some(f)) = (base.as_object_mut(), fields.as_object()) {
            b.extend(f.clone());
        }
        serde_json::from_value(base).unwrap()
    }

    /// An active case of child 1 opened on 1 January 2026, in `stage` (entered on 1 January), with
    /// its episode begun on 1 December 2025, a mother with parental responsibility, and today 1 June.
    pub fn case_in(stage: &str) -> CaseSnapshot {
        CaseSnapshot {
            case: row(json!({
                "child_id": 1, "episode_id": 1, "attempt_number": 1, "worker_id": 10, "team": "North",
                "stage": stage, "status": "ACTIVE", "return_type": null, "alternative_plan": null,
                "risk_level": null, "opened_on": "2026-01-01", "closed_on": null, "next_review_on": null,
            })),
            child: row(json!({
                "la_child_id": "C1", "date_of_birth": "2015-06-01", "sex": "F", "ethnicity": "WBRI",
                "upn": null, "upn_unknown_reason": null, "nhs_number": null, "died_on": null,
                "legal_hold": false, "retain_until": null,
            })),
            household: vec![row(json!({
                "id": 5, "child_id": 1, "relationship": "MOTHER", "label": null,
                "has_parental_responsibility": true, "lives_with_child": true,
            }))],
            episodes: vec![row(json!({
                "child_id": 1, "started_on": "2025-12-01", "legal_status": "C2",
                "category_of_need": "N1", "placement_type": "U6", "ended_on": null, "reason_ceased": null,
            }))],
            stages: vec![stage_row(stage, d(1, 1))],
            checklist: Vec::new(),
            decisions: Vec::new(),
            classifications: Vec::new(),
            agreements: Vec::new(),
            parties: Vec::new(),
            goals: Vec::new(),
            goal_reviews: Vec::new(),
            goal_revisions: Vec::new(),
            support_plan: None,
            services: Vec::new(),
            visits: Vec::new(),
            reviews: Vec::new(),
            factors: Vec::new(),
            child_views: Vec::new(),
            outcome: None,
            earlier_cases: Vec::new(),
            earlier_classifications: Vec::new(),
            settings: LaSettings::default(),
            today: d(6, 1),
        }
    }

    /// A stage entered on a day.
    pub fn stage_row(stage: &str, on: NaiveDate) -> entities::stage_progress::Model {
        row(
            json!({ "stage": stage, "entered_on": on, "completed_on": null,
                    "signed_off_by": null, "signed_off_on": null }),
        )
    }

    /// A checklist item of a stage.
    pub fn item(
        stage: &str,
        key: &str,
        required: bool,
        done: bool,
    ) -> entities::checklist_item::Model {
        row(
            json!({ "stage": stage, "key": key, "label": key, "required": required, "position": 0,
                    "completed_on": done.then(|| d(1, 2)), "completed_by": done.then_some(10),
                    "note": null }),
        )
    }

    /// A classification, agreed or only proposed.
    pub fn classification(
        kind: &str,
        level: i32,
        on: NaiveDate,
        proposed_by: i64,
        agreed: bool,
    ) -> entities::risk_classification::Model {
        row(
            json!({ "kind": kind, "level": level, "rationale": "R.", "classified_on": on,
                    "proposed_by": proposed_by, "agreed_by": agreed.then_some(20),
                    "agreed_on": agreed.then_some(on) }),
        )
    }

    /// A decision.
    pub fn decision(
        kind: &str,
        outcome: &str,
        on: NaiveDate,
        by: i64,
        approval: &str,
    ) -> entities::decision::Model {
        row(
            json!({ "kind": kind, "outcome": outcome, "rationale": "R.", "decided_on": on,
                    "decided_by": by, "approval_status": approval, "approved_by": null,
                    "approver_role": null, "approved_on": null, "planned_return_on": null,
                    "alternative_plan": null }),
        )
    }

    /// A goal of agreement 1.
    pub fn goal(
        id: i64,
        status: &str,
        rating: Option<&str>,
        reviewed: Option<NaiveDate>,
        since: Option<NaiveDate>,
    ) -> entities::goal::Model {
        row(
            json!({ "id": id, "agreement_id": 1, "household_member_id": 5, "description": "G.",
                    "steps": "S.", "responsible": "Mother", "support_offered": "S.",
                    "target_date": "2026-09-01", "status": status, "latest_rating": rating,
                    "latest_review_on": reviewed, "sustained_since": since }),
        )
    }

    /// Agreement 1, in a status.
    pub fn agreement(status: &str) -> entities::parental_agreement::Model {
        row(json!({ "number": 1, "status": status, "agreed_on": null,
                    "without_acceptance_reason": null }))
    }

    /// A party of agreement 1.
    pub fn party(member: i64, accepted: Option<NaiveDate>) -> entities::agreement_party::Model {
        row(
            json!({ "id": member, "agreement_id": 1, "household_member_id": member,
                    "strengths": "S.", "concerns": "C.", "accepted_on": accepted }),
        )
    }

    /// A service running between two days (`None`: still running).
    pub fn service(
        starts: NaiveDate,
        ends: Option<NaiveDate>,
        status: &str,
    ) -> entities::support_service::Model {
        row(
            json!({ "service_type": "PARENTING_SUPPORT", "provider": "P", "need_level": "HIGH",
                    "starts_on": starts, "ends_on": ends, "frequency": null, "status": status,
                    "cost_pence": null }),
        )
    }

    /// The outcome row of a child who went home on a day.
    pub fn returned(on: NaiveDate) -> entities::outcome::Model {
        row(
            json!({ "return_on": on, "return_type": "PLANNED", "home_at_3_months": null,
                    "home_at_6_months": null, "home_at_12_months": null, "reentered_care_on": null,
                    "maltreatment": null, "closure_reason": null, "closed_on": null }),
        )
    }
}
