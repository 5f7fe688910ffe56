//! What is due on a case, and when: the worklist's items, every one a rule over the snapshot.

use chrono::{Duration, NaiveDate};

use super::{CaseSnapshot, outcomes};
use crate::domain::{
    AgreementStatus, ApprovalStatus, CaseStatus, ClassificationKind, DecisionKind, DecisionOutcome,
    GoalStatus, ServiceStatus, Stage, dates,
};
use crate::error::ApiResult;

/// Weeks after a deferred D1 or D2 at which the decision is due again.
pub const DEFERRED_REVISIT_WEEKS: i64 = 4;

/// What is due.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkItemKind {
    /// A decision awaits approval (due from the day it was made).
    ApprovalAwaited,
    /// The case's next review date.
    ReviewDue,
    /// Risk Classification 3, due six months after the return home and not yet agreed.
    #[graphql(name = "RC3_DUE")]
    Rc3Due,
    /// Support after the return ends (its last service's end date) before the months the LA
    /// requires (or there is none).
    SupportEnding,
    /// A current goal's target date.
    GoalTarget,
    /// A proposed risk classification awaits a team manager's agreement (from its date).
    ClassificationAwaitingAgreement,
    /// The assessment's required actions are done and it awaits the team manager's sign-off.
    SignOffAwaited,
    /// D1 or D2 was deferred: the decision is due again four weeks later.
    DeferredDecision,
    /// D3 = yes named a planned return date and the child has not gone home.
    PlannedReturn,
    /// A 3-, 6- or 12-month follow-up after the return that neither the episodes nor a worker
    /// has answered (closed cases included).
    FollowUpDue,
    /// A visit after the return, at the LA's visit frequency from the last one.
    VisitDue,
    /// The last visit after the return did not see the child alone.
    ChildNotSeenAlone,
}

/// One thing due on a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// What.
    pub kind: WorkItemKind,
    /// When.
    pub due_on: NaiveDate,
    /// The record it concerns (`(table, id)`), if any.
    pub record: Option<(&'static str, i64)>,
}

fn due(kind: WorkItemKind, due_on: NaiveDate, record: Option<(&'static str, i64)>) -> Due {
    Due {
        kind,
        due_on,
        record,
    }
}

/// Whether the case's next review date has passed (an active case only).
pub fn review_overdue(case: &entities::reunification_case::Model, today: NaiveDate) -> bool {
    case.status == CaseStatus::Active && case.next_review_on.is_some_and(|d| d < today)
}

/// When support after a return ends: the last end date of the services (not declined) running
/// after it; `None` while one runs without an end date. With no such service, support "ends" on
/// the day of the return.
pub fn support_ends(
    services: &[entities::support_service::Model],
    returned: NaiveDate,
) -> ApiResult<Option<NaiveDate>> {
    let mut last = returned;
    for s in services {
        if s.status == ServiceStatus::Declined {
            continue;
        }
        match s.ends_on {
            None => return Ok(None),
            Some(end) if end > last => last = end,
            Some(_) => {}
        }
    }
    Ok(Some(last))
}

/// Everything due on the case, whenever it falls (the caller keeps what falls in its horizon).
/// A closed case has only its follow-ups.
pub fn items(s: &CaseSnapshot) -> ApiResult<Vec<Due>> {
    use WorkItemKind::*;
    let mut out = Vec::new();
    let returned = s.returned_on();
    if let Some(home) = returned {
        let view = outcomes::episode_view(home, &s.episodes);
        let recorded = s.outcome.as_ref();
        let answers = [
            recorded.and_then(|o| o.home_at_3_months),
            recorded.and_then(|o| o.home_at_6_months),
            recorded.and_then(|o| o.home_at_12_months),
        ];
        let back = view
            .and_then(|v| v.reentered_on)
            .or(recorded.and_then(|o| o.reentered_care_on));
        for ((months, _), answer) in outcomes::FOLLOW_UPS.into_iter().zip(answers) {
            let on = dates::add_months(home, months);
            let known = answer.is_some()
                || outcomes::home_at(view, months, s.today).is_some()
                || back.is_some_and(|b| b < on);
            if !known {
                out.push(due(FollowUpDue, on, None));
            }
        }
    }
    if s.status() != CaseStatus::Active {
        return Ok(out);
    }
    let stage = s.stage();
    for d in &s.decisions {
        if d.approval_status == ApprovalStatus::Pending {
            out.push(due(ApprovalAwaited, d.decided_on, Some(("decision", d.id))));
        }
    }
    if let Some(on) = s.case.next_review_on {
        out.push(due(ReviewDue, on, None));
    }
    for c in s.classifications.iter().filter(|c| c.agreed_on.is_none()) {
        let agreed_already = s
            .classifications
            .iter()
            .any(|o| o.kind == c.kind && o.agreed_on.is_some());
        if !agreed_already {
            out.push(due(
                ClassificationAwaitingAgreement,
                c.classified_on,
                Some(("risk_classification", c.id)),
            ));
        }
    }
    let superseded: Vec<i64> = s
        .agreements
        .iter()
        .filter(|a| a.status == AgreementStatus::Superseded)
        .map(|a| a.id)
        .collect();
    for g in &s.goals {
        if g.status == GoalStatus::Active && !superseded.contains(&g.agreement_id) {
            out.push(due(GoalTarget, g.target_date, Some(("goal", g.id))));
        }
    }
    match stage {
        Stage::Identification | Stage::Assessment => {
            let kind = if stage == Stage::Identification {
                DecisionKind::D1
            } else {
                DecisionKind::D2
            };
            if let Some(last) = s.decisions.iter().rev().find(|d| d.kind == kind)
                && last.outcome == DecisionOutcome::Deferred
            {
                out.push(due(
                    DeferredDecision,
                    last.decided_on + Duration::weeks(DEFERRED_REVISIT_WEEKS),
                    Some(("decision", last.id)),
                ));
            }
            if stage == Stage::Assessment
                && s.stage_row(stage)
                    .is_some_and(|r| r.signed_off_on.is_none())
            {
                let required: Vec<_> = s.checklist_of(stage).filter(|i| i.required).collect();
                if required.iter().all(|i| i.completed_on.is_some()) {
                    let on = required
                        .iter()
                        .filter_map(|i| i.completed_on)
                        .max()
                        .unwrap_or_else(|| s.entered_on(stage));
                    out.push(due(SignOffAwaited, on, None));
                }
            }
        }
        Stage::ReturnDecision => {
            if let Some(planned) = s.d3_yes().and_then(|d| d.planned_return_on) {
                out.push(due(PlannedReturn, planned, None));
            }
        }
        Stage::ReturnAndSupport => {
            if let Some(home) = returned {
                if s.agreed_of(ClassificationKind::Rc3).is_none() {
                    out.push(due(Rc3Due, dates::add_months(home, 6), None));
                }
                if let Some(ends) = support_ends(&s.services, home)?
                    && ends < dates::add_months(home, s.settings.support_months)
                {
                    out.push(due(SupportEnding, ends, None));
                }
                let last = s
                    .visits
                    .iter()
                    .filter(|v| v.visited_on >= home)
                    .max_by_key(|v| (v.visited_on, v.id));
                let from = last.map_or(home, |v| v.visited_on);
                out.push(due(
                    VisitDue,
                    from + Duration::weeks(i64::from(s.settings.visit_frequency_weeks)),
                    None,
                ));
                if let Some(v) = last.filter(|v| !v.child_seen_alone) {
                    out.push(due(ChildNotSeenAlone, v.visited_on, Some(("visit", v.id))));
                }
            }
        }
        Stage::GoalsAndServices => {}
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::fixture::*;
    use WorkItemKind::*;
    use serde_json::json;

    fn kinds(s: &CaseSnapshot) -> Vec<(WorkItemKind, NaiveDate)> {
        let mut v: Vec<_> = items(s)
            .unwrap()
            .into_iter()
            .map(|d| (d.kind, d.due_on))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn what_falls_due_in_each_stage() {
        // Identification: a deferred D1 is due again four weeks on.
        let mut s = case_in("IDENTIFICATION");
        s.decisions
            .push(decision("D1", "DEFERRED", d(2, 1), 10, "NOT_REQUIRED"));
        assert_eq!(kinds(&s), vec![(DeferredDecision, d(3, 1))]);
        // Assessment: a proposed classification awaits agreement; the sign-off once the
        // required actions are done.
        let mut s = case_in("ASSESSMENT");
        s.classifications
            .push(classification("RC1", 2, d(2, 1), 10, false));
        s.checklist.push(item("ASSESSMENT", "a", true, true));
        assert_eq!(
            kinds(&s),
            vec![
                (ClassificationAwaitingAgreement, d(2, 1)),
                (SignOffAwaited, d(1, 2))
            ]
        );
        s.checklist.push(item("ASSESSMENT", "b", true, false));
        assert_eq!(kinds(&s), vec![(ClassificationAwaitingAgreement, d(2, 1))]);
        // Return decision: D3 = yes awaiting approval and its planned return date.
        let mut s = case_in("RETURN_DECISION");
        let mut d3 = decision("D3", "YES", d(5, 1), 10, "PENDING");
        d3.planned_return_on = Some(d(5, 20));
        s.decisions.push(d3);
        assert_eq!(
            kinds(&s),
            vec![(ApprovalAwaited, d(5, 1)), (PlannedReturn, d(5, 20))]
        );
    }

    #[test]
    fn after_the_return() {
        let mut s = case_in("RETURN_AND_SUPPORT");
        s.outcome = Some(returned(d(1, 10)));
        // Placed with parents (no episode ended): the episodes cannot answer the follow-ups.
        s.visits.push(row(
            json!({ "id": 4, "visited_on": d(3, 1), "child_seen": true,
            "child_seen_alone": false, "observations": null }),
        ));
        let mut expected = vec![
            (SupportEnding, d(1, 10)),
            (ChildNotSeenAlone, d(3, 1)),
            (VisitDue, d(4, 12)),
            (FollowUpDue, d(4, 10)),
            (Rc3Due, d(7, 10)),
            (FollowUpDue, d(7, 10)),
            (FollowUpDue, d(1, 10).with_year(2027).unwrap()),
        ];
        expected.sort();
        assert_eq!(kinds(&s), expected);
        // The return ended the episode: the 3-month answer is the episodes'; a recorded 6-month
        // answer stands; a closed case keeps only what is unanswered.
        s.episodes[0].ended_on = Some(d(1, 10));
        s.outcome.as_mut().unwrap().home_at_6_months = Some(true);
        s.case.status = crate::domain::CaseStatus::Closed;
        assert_eq!(
            kinds(&s),
            vec![(FollowUpDue, d(1, 10).with_year(2027).unwrap())]
        );
    }

    #[test]
    fn support_ends_with_its_last_service() {
        let home = d(2, 1);
        // (services, ends)
        let table = [
            (vec![], Some(home)),
            (
                vec![
                    service(d(1, 1), Some(d(5, 1)), "ENDED"),
                    service(d(1, 1), Some(d(9, 1)), "ACTIVE"),
                    service(d(1, 1), None, "DECLINED"),
                ],
                Some(d(9, 1)),
            ),
            (
                vec![
                    service(d(1, 1), Some(d(5, 1)), "ENDED"),
                    service(d(1, 1), None, "ACTIVE"),
                ],
                None,
            ),
        ];
        for (i, (services, ends)) in table.into_iter().enumerate() {
            assert_eq!(support_ends(&services, home).unwrap(), ends, "row {i}");
        }
    }

    #[test]
    fn overdue_reviews() {
        let mut s = case_in("ASSESSMENT");
        assert!(!review_overdue(&s.case, d(6, 1)));
        s.case.next_review_on = Some(d(5, 31));
        assert!(review_overdue(&s.case, d(6, 1)));
        assert!(!review_overdue(&s.case, d(5, 31)));
        s.case.status = crate::domain::CaseStatus::Closed;
        assert!(!review_overdue(&s.case, d(6, 1)));
    }

    use chrono::Datelike as _;
}
