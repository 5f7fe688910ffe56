//! Each stage's checklist of practice actions: the required ones before the stage's "yes", and
//! what may be ticked or un-ticked.

use chrono::NaiveDate;

use super::{CaseSnapshot, closure, process};
use crate::domain::{Evidence, GoalStatus, ReviewKind, ServiceStatus, dates};
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// What proves a practice action: the day of the record and which record it is
/// (`table id`, or `table id, id` when it takes several).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// When the action was done, as the record shows.
    pub on: NaiveDate,
    /// The record(s).
    pub record: String,
}

fn proof(on: NaiveDate, table: &str, ids: impl IntoIterator<Item = i64>) -> Proof {
    let ids: Vec<String> = ids.into_iter().map(|i| i.to_string()).collect();
    Proof {
        on,
        record: format!("{table} {}", ids.join(", ")),
    }
}

/// The record in the case that proves `kind`, if there is one. Visits and reviews count from
/// `since` (the day the item's stage began: "after the return" for stage 4's); other records
/// count whenever they were made.
pub fn evidence(s: &CaseSnapshot, kind: Evidence, since: NaiveDate) -> ApiResult<Option<Proof>> {
    let assessed = |members: Vec<i64>| -> Option<Proof> {
        if members.is_empty() {
            return None;
        }
        let mut latest = None::<(NaiveDate, i64)>;
        let mut ids = Vec::new();
        for m in members {
            let first = s
                .factors
                .iter()
                .filter(|f| f.household_member_id == Some(m))
                .min_by_key(|f| (f.recorded_on, f.id))?;
            ids.push(first.id);
            if latest.is_none_or(|(on, _)| first.recorded_on > on) {
                latest = Some((first.recorded_on, first.id));
            }
        }
        latest.map(|(on, _)| proof(on, "assessment_factor", ids))
    };
    let review_of = |kind: ReviewKind| {
        s.reviews
            .iter()
            .filter(|r| r.kind == kind && r.held_on >= since)
            .min_by_key(|r| r.held_on)
            .map(|r| proof(r.held_on, "review", [r.id]))
    };
    let plan_text = |text: Option<&String>| {
        let plan = s.support_plan.as_ref()?;
        text.filter(|t| !t.trim().is_empty())?;
        Some(proof(
            plan.updated_at.date_naive(),
            "support_plan",
            [plan.id],
        ))
    };
    Ok(match kind {
        Evidence::CaseOpened => Some(proof(s.case.opened_on, "reunification_case", [s.case.id])),
        Evidence::ChildViews => s
            .child_views
            .iter()
            .min_by_key(|v| (v.recorded_on, v.id))
            .map(|v| proof(v.recorded_on, "child_view", [v.id])),
        Evidence::ParentsAssessed => assessed(
            s.household
                .iter()
                .filter(|m| m.has_parental_responsibility)
                .map(|m| m.id)
                .collect(),
        ),
        Evidence::HouseholdAssessed => assessed(s.household.iter().map(|m| m.id).collect()),
        Evidence::AgreementInForce => s.agreement_in_force().and_then(|a| {
            s.goals_of(a.id).next()?;
            Some(proof(a.agreed_on?, "parental_agreement", [a.id]))
        }),
        Evidence::ServicesInPlace => {
            let mut ran = Vec::new();
            for sv in &s.services {
                let status = sv.status;
                if matches!(status, ServiceStatus::Active | ServiceStatus::Ended) {
                    ran.push(sv);
                }
            }
            ran.into_iter()
                .min_by_key(|sv| (sv.starts_on, sv.id))
                .map(|sv| proof(sv.starts_on, "support_service", [sv.id]))
        }
        Evidence::GoalsReviewed => {
            let Some(a) = s.agreement_in_force() else {
                return Ok(None);
            };
            let mut latest = None::<NaiveDate>;
            let mut ids = Vec::new();
            for g in s.goals_of(a.id) {
                if g.status == GoalStatus::Withdrawn {
                    continue;
                }
                let Some(on) = g.latest_review_on else {
                    return Ok(None);
                };
                ids.push(g.id);
                latest = Some(latest.map_or(on, |l| l.max(on)));
            }
            latest.map(|on| proof(on, "goal", ids))
        }
        Evidence::ContingencyPlan => s
            .support_plan
            .as_ref()
            .and_then(|p| plan_text(p.contingency_plan.as_ref())),
        Evidence::TrustedAdult => s
            .support_plan
            .as_ref()
            .and_then(|p| plan_text(p.trusted_adult.as_ref())),
        Evidence::LookedAfterReview => review_of(ReviewKind::LookedAfter),
        Evidence::PlanReviewed => review_of(ReviewKind::Plan),
        Evidence::ChildSeenAlone => s
            .visits
            .iter()
            .filter(|v| v.child_seen_alone && v.visited_on >= since)
            .min_by_key(|v| v.visited_on)
            .map(|v| proof(v.visited_on, "visit", [v.id])),
        Evidence::SupportPackage => {
            let Some(home) = s.returned_on() else {
                return Ok(None);
            };
            let until = dates::add_months(home, s.settings.support_months);
            if closure::support_days(&s.services, home, until)? >= (until - home).num_days() {
                Some(proof(
                    home,
                    "support_service",
                    s.services.iter().map(|sv| sv.id),
                ))
            } else {
                None
            }
        }
    })
}

/// A derived item whose stored state the records have overtaken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The checklist item.
    pub item_id: i64,
    /// Completed by this proof, or (`None`) no longer proven.
    pub proof: Option<Proof>,
}

/// The derived items of the case to complete (a record now proves them) or to reopen (their
/// record is gone, in a stage still open); items already in step are left alone.
pub fn derived_changes(s: &CaseSnapshot) -> ApiResult<Vec<Derived>> {
    let mut out = Vec::new();
    for item in &s.checklist {
        let Some(kind) = item.derived_from else {
            continue;
        };
        let stage = item.stage;
        let found = evidence(s, kind, s.entered_on(stage))?;
        let stage_open = s.stage_row(stage).is_none_or(|r| r.completed_on.is_none());
        match (found, item.completed_on) {
            (Some(p), None) => out.push(Derived {
                item_id: item.id,
                proof: Some(p),
            }),
            (None, Some(_)) if stage_open => out.push(Derived {
                item_id: item.id,
                proof: None,
            }),
            _ => {}
        }
    }
    Ok(out)
}

/// Whether an item may be marked completed on `on` (or, with `completed` false, un-ticked): the
/// case is active, the date is within the item's stage, and a required action of a stage the case
/// has left stays done.
pub fn complete(
    s: &CaseSnapshot,
    item: &entities::checklist_item::Model,
    completed: bool,
    on: NaiveDate,
) -> ApiResult<()> {
    process::require_active(s.status())?;
    let stage = item.stage;
    if let Some(kind) = item.derived_from.map(Evidence::as_str) {
        return Err(ApiError::user(
            UserErrorCode::DerivedFromRecord,
            &["itemId"],
            format!(
                "{} is completed by the record that proves it ({kind}), not by hand",
                item.key
            ),
        ));
    }
    if completed {
        process::date_within(
            on,
            s.entered_on(stage),
            s.today,
            "completedOn",
            "the stage it belongs to",
        )?;
    } else if item.required
        && item.completed_on.is_some()
        && s.stage_row(stage).is_some_and(|r| r.completed_on.is_some())
    {
        return Err(ApiError::user(
            UserErrorCode::WrongStage,
            &["itemId"],
            format!(
                "{} is a required action of {}, which is complete; it stays done",
                item.key,
                stage.as_str()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::fixture::*;

    #[test]
    fn required_actions() {
        let mut s = case_in("ASSESSMENT");
        s.checklist.push(item("ASSESSMENT", "a", true, true));
        s.checklist.push(item("ASSESSMENT", "b", false, false));
        s.checklist.push(item("IDENTIFICATION", "c", true, false));
        assert!(super::process::require_done(&s, crate::domain::Stage::Assessment).is_ok());
        assert!(super::process::require_done(&s, crate::domain::Stage::Identification).is_err());
        s.checklist.push(item("ASSESSMENT", "d", true, false));
        match super::process::require_done(&s, crate::domain::Stage::Assessment) {
            Err(ApiError::User(e)) => {
                assert_eq!(e[0].code, UserErrorCode::ChecklistIncomplete);
                assert!(e[0].message.ends_with(": d"), "{}", e[0].message);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn records_prove_actions() {
        use Evidence::*;
        let factor = |id: i64, member: i64, on| -> entities::assessment_factor::Model {
            row(
                serde_json::json!({ "id": id, "household_member_id": member, "kind": "RISK",
                "category": "HOUSING", "status": "CURRENT", "evidence": "E.", "recorded_on": on }),
            )
        };
        let partner: entities::household_member::Model = row(serde_json::json!({
            "id": 6, "child_id": 1, "relationship": "STEP_PARENT", "label": null,
            "has_parental_responsibility": false, "lives_with_child": true }));
        let mut s = case_in("ASSESSMENT");
        let since = d(1, 1);
        let on = |s: &CaseSnapshot, k| evidence(s, k, since).unwrap().map(|p| p.on);
        // (kind, proven on) with nothing recorded but the case
        for (kind, expected) in [
            (CaseOpened, Some(d(1, 1))),
            (ChildViews, None),
            (ParentsAssessed, None),
            (HouseholdAssessed, None),
            (AgreementInForce, None),
            (ServicesInPlace, None),
            (GoalsReviewed, None),
            (ContingencyPlan, None),
            (TrustedAdult, None),
            (LookedAfterReview, None),
            (SupportPackage, None),
            (ChildSeenAlone, None),
            (PlanReviewed, None),
        ] {
            assert_eq!(on(&s, kind), expected, "{kind:?}");
        }
        // The mother (parental responsibility) assessed; the partner not yet.
        s.household.push(partner);
        s.factors.push(factor(1, 5, d(2, 1)));
        assert_eq!(on(&s, ParentsAssessed), Some(d(2, 1)));
        assert_eq!(on(&s, HouseholdAssessed), None);
        s.factors.push(factor(2, 6, d(2, 5)));
        assert_eq!(on(&s, HouseholdAssessed), Some(d(2, 5)));
        // A service that ran proves services; a planned one does not.
        s.services.push(service(d(3, 1), None, "PLANNED"));
        assert_eq!(on(&s, ServicesInPlace), None);
        s.services.push(service(d(3, 2), None, "ACTIVE"));
        assert_eq!(on(&s, ServicesInPlace), Some(d(3, 2)));
        // A draft agreement proves nothing; one in force with a goal does.
        s.agreements.push(agreement("DRAFT"));
        s.goals.push(goal(1, "ACTIVE", None, None, None));
        assert_eq!(on(&s, AgreementInForce), None);
        s.agreements[0].status = crate::domain::AgreementStatus::Active;
        s.agreements[0].agreed_on = Some(d(3, 3));
        assert_eq!(on(&s, AgreementInForce), Some(d(3, 3)));
        assert_eq!(on(&s, GoalsReviewed), None);
        s.goals[0].latest_review_on = Some(d(3, 10));
        assert_eq!(on(&s, GoalsReviewed), Some(d(3, 10)));
        // Visits count from `since`: a visit alone before it does not.
        s.visits
            .push(row(serde_json::json!({ "id": 1, "visited_on": d(4, 1),
            "child_seen": true, "child_seen_alone": true, "observations": null })));
        assert_eq!(evidence(&s, ChildSeenAlone, d(4, 2)).unwrap(), None);
        assert_eq!(
            evidence(&s, ChildSeenAlone, d(4, 1)).unwrap(),
            Some(Proof {
                on: d(4, 1),
                record: "visit 1".into()
            })
        );
        // Support after the return: six months of services from the return.
        s.outcome = Some(returned(d(1, 10)));
        assert_eq!(
            on(&s, SupportPackage),
            None,
            "the running service began in March"
        );
        s.services.push(service(d(1, 10), Some(d(3, 5)), "ENDED"));
        assert_eq!(on(&s, SupportPackage), Some(d(1, 10)));
    }

    #[test]
    fn derived_items_follow_their_records() {
        let mut s = case_in("ASSESSMENT");
        let mut views = item("ASSESSMENT", "childs_views_recorded", true, false);
        views.id = 7;
        views.derived_from = Some(crate::domain::Evidence::ChildViews);
        s.checklist.push(views.clone());
        s.checklist
            .push(item("ASSESSMENT", "analytical_chronology", true, false));
        assert_eq!(derived_changes(&s).unwrap(), vec![]);
        s.child_views
            .push(row(serde_json::json!({ "id": 3, "recorded_on": d(2, 1),
            "in_own_words": true, "content": "C." })));
        assert_eq!(
            derived_changes(&s).unwrap(),
            vec![Derived {
                item_id: 7,
                proof: Some(Proof {
                    on: d(2, 1),
                    record: "child_view 3".into()
                })
            }]
        );
        // Completed and still proven: nothing to do. Completed and no longer proven: reopened
        // while its stage is open, left alone once the stage is complete.
        s.checklist[0].completed_on = Some(d(2, 1));
        assert_eq!(derived_changes(&s).unwrap(), vec![]);
        s.child_views.clear();
        assert_eq!(
            derived_changes(&s).unwrap(),
            vec![Derived {
                item_id: 7,
                proof: None
            }]
        );
        s.stages[0].completed_on = Some(d(3, 1));
        assert_eq!(derived_changes(&s).unwrap(), vec![]);
        // Nobody ticks a derived item by hand.
        let code = match complete(&case_in("ASSESSMENT"), &views, true, d(2, 1)) {
            Err(ApiError::User(e)) => e[0].code,
            other => panic!("{other:?}"),
        };
        assert_eq!(code, UserErrorCode::DerivedFromRecord);
    }

    #[test]
    fn ticks_and_unticks() {
        let mut s = case_in("ASSESSMENT");
        s.stages.insert(0, stage_row("IDENTIFICATION", d(1, 1)));
        s.stages[0].completed_on = Some(d(1, 1));
        s.stages[1].entered_on = d(1, 1);
        // (item, completed, on, ok)
        let table = [
            (item("ASSESSMENT", "a", true, false), true, d(2, 1), true),
            (item("ASSESSMENT", "a", true, false), true, d(6, 2), false),
            (item("ASSESSMENT", "a", true, true), false, d(2, 1), true),
            (
                item("IDENTIFICATION", "b", true, true),
                false,
                d(2, 1),
                false,
            ),
            (
                item("IDENTIFICATION", "b", false, true),
                false,
                d(2, 1),
                true,
            ),
            (
                item("IDENTIFICATION", "b", true, false),
                true,
                d(2, 1),
                true,
            ),
        ];
        for (i, (it, completed, on, ok)) in table.into_iter().enumerate() {
            assert_eq!(complete(&s, &it, completed, on).is_ok(), ok, "row {i}");
        }
        let mut closed = case_in("ASSESSMENT");
        closed.case.status = crate::domain::CaseStatus::Closed;
        assert!(
            complete(
                &closed,
                &item("ASSESSMENT", "a", true, false),
                true,
                d(2, 1)
            )
            .is_err()
        );
    }
}
