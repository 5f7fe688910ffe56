//! D1–D3: what a decision needs, where it leads, who approves it — and four eyes on approval.

use chrono::NaiveDate;

use super::process::{self, Next};
use super::roles::{self, Act};
use super::{Caller, CaseSnapshot, goals, risk};
use crate::auth::Role;
use crate::domain::reference::PERMANENCE_PLAN;
use crate::domain::{ApprovalStatus, DecisionKind, DecisionOutcome, Stage, dates};
use crate::error::{ApiError, ApiResult, OptionExt as _, UserErrorCode};

/// The statutory ceiling of the D3 approval threshold: a child looked after for 20 working days
/// or more needs a nominated officer's approval of the return (Care Planning, Placement and Case
/// Review (England) Regulations 2010, reg. 39). An LA may lower it, never raise it.
pub const D3_APPROVAL_STATUTORY_DAYS: i64 = 20;

/// A decision as asked for.
#[derive(Debug, Clone)]
pub struct Decide<'a> {
    /// D1, D2 or D3.
    pub kind: DecisionKind,
    /// Yes, no or deferred.
    pub outcome: DecisionOutcome,
    /// When.
    pub decided_on: NaiveDate,
    /// D3 = yes: the planned return date.
    pub planned_return_on: Option<NaiveDate>,
    /// A "no": the alternative permanence plan.
    pub alternative_plan: Option<&'a str>,
}

/// What recording the decision does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionPlan {
    /// Where the case goes.
    pub next: Next,
    /// Whether it awaits approval.
    pub approval: ApprovalStatus,
    /// The role that approves it, when one must.
    pub approver: Option<Role>,
    /// The alternative permanence plan of a "no".
    pub alternative_plan: Option<String>,
}

/// Whether D3 made on `on` needs a nominated officer's approval: the child has been looked after
/// (from the start of the case's episode) for the LA's threshold of working days or more, which
/// can never exceed the statutory 20.
pub fn d3_needs_approval(s: &CaseSnapshot, on: NaiveDate) -> ApiResult<bool> {
    let threshold = s
        .settings
        .d3_approval_working_days
        .min(D3_APPROVAL_STATUTORY_DAYS);
    Ok(dates::working_days_between(s.episode()?.started_on, on) >= threshold)
}

/// An LA's D3 threshold: between 0 and the statutory 20 working days.
pub fn check_d3_threshold(days: i64) -> ApiResult<()> {
    if (0..=D3_APPROVAL_STATUTORY_DAYS).contains(&days) {
        Ok(())
    } else {
        Err(ApiError::user(
            UserErrorCode::Invalid,
            &["d3ApprovalWorkingDays"],
            format!(
                "between 0 and {D3_APPROVAL_STATUTORY_DAYS} working days: an LA may lower the statutory threshold, never raise it"
            ),
        ))
    }
}

/// The alternative permanence plan of a "no": an Annex A plan other than a return home.
pub fn alternative_plan(plan: Option<&str>) -> ApiResult<String> {
    let Some(plan) = plan else {
        return Err(ApiError::user(
            UserErrorCode::AlternativePlanRequired,
            &["alternativePlan"],
            "not pursuing reunification needs the alternative permanence plan",
        ));
    };
    match PERMANENCE_PLAN.find(plan) {
        Some(row) if row.get("birth_family") != "return" => Ok(plan.to_owned()),
        Some(_) => Err(ApiError::user(
            UserErrorCode::InvalidCode,
            &["alternativePlan"],
            "the alternative plan cannot be a return to the birth family",
        )),
        None => Err(ApiError::user(
            UserErrorCode::InvalidCode,
            &["alternativePlan"],
            format!("{plan} is not a known permanence plan"),
        )),
    }
}

/// Whether `who` may record the decision on this case, and what recording it does.
pub fn record(s: &CaseSnapshot, who: Caller<'_>, d: &Decide<'_>) -> ApiResult<DecisionPlan> {
    roles::require(Act::RecordDecision, who.roles)?;
    process::require_active(s.status())?;
    let next = process::after_decision(d.kind, d.outcome)?;
    let stage = process::stage_of_decision(d.kind).or_not_found()?;
    process::require_stage(s.stage(), stage, d.kind.as_str())?;
    process::date_within(
        d.decided_on,
        s.entered_on(stage),
        s.today,
        "decidedOn",
        "the stage it closes",
    )?;
    let alternative_plan = match next {
        Next::CloseNotPursued => Some(alternative_plan(d.alternative_plan)?),
        _ => None,
    };
    let d3_yes = d.kind == DecisionKind::D3 && d.outcome == DecisionOutcome::Yes;
    if d.planned_return_on.is_some() && !d3_yes {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["plannedReturnOn"],
            "only a D3 = yes has a planned return date",
        ));
    }
    if let Some(rc) = process::classification_before(d.kind)
        && s.agreed_of(rc).is_none()
    {
        return Err(ApiError::user(
            UserErrorCode::RiskClassificationRequired,
            &["caseId"],
            format!("{} needs an agreed {} first", d.kind.as_str(), rc.as_str()),
        ));
    }
    if d.kind == DecisionKind::D2 && d.outcome != DecisionOutcome::Deferred {
        require_signed_off(s, d.decided_on)?;
    }
    if d.outcome == DecisionOutcome::Yes {
        process::require_done(s, stage)?;
    }
    let mut plan = DecisionPlan {
        next,
        approval: ApprovalStatus::NotRequired,
        approver: None,
        alternative_plan,
    };
    if d3_yes {
        if s.d3_yes().is_some() {
            return Err(ApiError::user(
                UserErrorCode::AlreadyRecorded,
                &["kind"],
                "D3 = yes is already recorded; record the return, or a D3 = no to change course",
            ));
        }
        if let Some(planned) = d.planned_return_on
            && planned < d.decided_on
        {
            return Err(ApiError::user(
                UserErrorCode::InvalidDate,
                &["plannedReturnOn"],
                "the planned return precedes the decision",
            ));
        }
        goals::require_sustained(s, d.decided_on, "D3 = yes")?;
        risk::require_sustained(s, d.decided_on)?;
        // Four eyes: whoever records D3, a nominated officer included, another approves it.
        if d3_needs_approval(s, d.decided_on)? {
            plan.approval = ApprovalStatus::Pending;
            plan.approver = Some(Role::NominatedOfficer);
        }
    }
    Ok(plan)
}

/// The Return Home Assessment is signed off by `on` (D2 needs it).
pub fn require_signed_off(s: &CaseSnapshot, on: NaiveDate) -> ApiResult<()> {
    match s.stage_row(Stage::Assessment).and_then(|r| r.signed_off_on) {
        Some(signed) if signed <= on => Ok(()),
        Some(signed) => Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["decidedOn"],
            format!("D2 cannot precede the assessment's sign-off, on {signed}"),
        )),
        _ => Err(ApiError::user(
            UserErrorCode::SignOffRequired,
            &["caseId"],
            "D2 needs the team manager's sign-off of the Return Home Assessment first (assessmentSignOff)",
        )),
    }
}

/// Whether `who` may sign off the Return Home Assessment on `on`: in ASSESSMENT, with the stage's
/// required actions done, once.
pub fn sign_off(s: &CaseSnapshot, who: Caller<'_>, on: NaiveDate) -> ApiResult<()> {
    roles::require(Act::SignOffAssessment, who.roles)?;
    process::require_active(s.status())?;
    process::require_stage(s.stage(), Stage::Assessment, "signing off the assessment")?;
    process::require_done(s, Stage::Assessment)?;
    if s.stage_row(Stage::Assessment)
        .is_some_and(|r| r.signed_off_on.is_some())
    {
        return Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["caseId"],
            "the assessment is already signed off",
        ));
    }
    process::date_within(
        on,
        s.entered_on(Stage::Assessment),
        s.today,
        "signedOffOn",
        "the assessment",
    )?;
    Ok(())
}

/// Whether `who` may approve the decision on `on`.
pub fn approve(
    s: &CaseSnapshot,
    who: Caller<'_>,
    decision: &entities::decision::Model,
    on: NaiveDate,
) -> ApiResult<()> {
    if decision.approval_status != ApprovalStatus::Pending {
        return Err(ApiError::user(
            UserErrorCode::ApprovalRequired,
            &["decisionId"],
            "this decision is not awaiting approval",
        ));
    }
    // The only decision that awaits approval is D3, and a nominated officer approves it.
    roles::require(Act::ApproveD3, who.roles)?;
    process::require_active(s.status())?;
    if decision.decided_by == Some(who.id) {
        return Err(ApiError::user(
            UserErrorCode::FourEyes,
            &["decisionId"],
            "you recorded this decision; another person approves it",
        ));
    }
    process::date_within(
        on,
        decision.decided_on,
        s.today,
        "approvedOn",
        "the decision",
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::fixture::*;

    const SW: &[Role] = &[Role::SocialWorker];
    const NO: &[Role] = &[Role::NominatedOfficer];

    fn sw() -> Caller<'static> {
        Caller { id: 10, roles: SW }
    }

    fn decide(kind: DecisionKind, outcome: DecisionOutcome, on: NaiveDate) -> Decide<'static> {
        Decide {
            kind,
            outcome,
            decided_on: on,
            planned_return_on: None,
            alternative_plan: (outcome == DecisionOutcome::No).then_some("LTRELFR"),
        }
    }

    /// A case in RETURN_DECISION with an agreed RC2 and a goal green since January.
    fn ready_for_d3() -> CaseSnapshot {
        let mut s = case_in("RETURN_DECISION");
        s.classifications
            .push(classification("RC2", 1, d(4, 1), 10, true));
        s.agreements.push(agreement("ACTIVE"));
        s.goals.push(goal(
            1,
            "ACTIVE",
            Some("GREEN"),
            Some(d(5, 1)),
            Some(d(1, 10)),
        ));
        s
    }

    #[test]
    fn d2_and_d3_gates() {
        use DecisionKind::*;
        use DecisionOutcome::*;
        let signed = |mut s: CaseSnapshot| {
            s.stages[0].signed_off_on = Some(d(2, 1));
            s
        };
        let with_rc1 = |mut s: CaseSnapshot| {
            s.classifications
                .push(classification("RC1", 2, d(1, 20), 10, true));
            s
        };
        let unagreed_rc1 = |mut s: CaseSnapshot| {
            s.classifications
                .push(classification("RC1", 2, d(1, 20), 10, false));
            s
        };
        let open_item = |mut s: CaseSnapshot| {
            s.checklist.push(item("ASSESSMENT", "x", true, false));
            s
        };
        let stage1 = || case_in("ASSESSMENT");
        let ready = ready_for_d3;
        let amber = || {
            let mut s = ready_for_d3();
            s.goals[0].latest_rating = Some(crate::domain::Rating::Amber);
            s.goals[0].sustained_since = None;
            s
        };
        let recent = || {
            let mut s = ready_for_d3();
            s.goals[0].sustained_since = Some(d(5, 1));
            s
        };
        let no_goals = || {
            let mut s = ready_for_d3();
            s.goals.clear();
            s
        };
        // (case, who, decision, expected)
        let table: Vec<(CaseSnapshot, Caller, Decide, &str)> = vec![
            (
                with_rc1(signed(stage1())),
                sw(),
                decide(D2, Yes, d(3, 1)),
                "ok",
            ),
            (
                with_rc1(stage1()),
                sw(),
                decide(D2, Yes, d(3, 1)),
                "SignOffRequired",
            ),
            (
                with_rc1(stage1()),
                sw(),
                decide(D2, No, d(3, 1)),
                "SignOffRequired",
            ),
            (
                with_rc1(stage1()),
                sw(),
                decide(D2, Deferred, d(3, 1)),
                "ok",
            ),
            (
                signed(stage1()),
                sw(),
                decide(D2, Yes, d(3, 1)),
                "RiskClassificationRequired",
            ),
            (
                unagreed_rc1(signed(stage1())),
                sw(),
                decide(D2, Yes, d(3, 1)),
                "RiskClassificationRequired",
            ),
            (
                open_item(with_rc1(signed(stage1()))),
                sw(),
                decide(D2, Yes, d(3, 1)),
                "ChecklistIncomplete",
            ),
            (
                open_item(with_rc1(signed(stage1()))),
                sw(),
                decide(D2, No, d(3, 1)),
                "ok",
            ),
            (
                with_rc1(signed(stage1())),
                sw(),
                decide(D3, Yes, d(3, 1)),
                "WrongStage",
            ),
            (
                with_rc1(signed(stage1())),
                sw(),
                decide(D2, Yes, d(6, 2)),
                "InvalidDate",
            ),
            // Not before the sign-off (1 February).
            (
                with_rc1(signed(stage1())),
                sw(),
                decide(D2, Yes, d(1, 31)),
                "InvalidDate",
            ),
            (
                with_rc1(signed(stage1())),
                sw(),
                decide(D2, Yes, d(2, 1)),
                "ok",
            ),
            (
                with_rc1(signed(case_in("ASSESSMENT"))),
                Caller {
                    id: 10,
                    roles: &[Role::FamilySupport],
                },
                decide(D2, Yes, d(3, 1)),
                "FORBIDDEN",
            ),
            (
                with_rc1(signed(stage1())),
                Caller {
                    id: 10,
                    roles: &[Role::VendorSystem],
                },
                decide(D2, Yes, d(3, 1)),
                "FORBIDDEN",
            ),
            (ready(), sw(), decide(D3, Yes, d(5, 20)), "ok"),
            (ready(), sw(), decide(D3, Deferred, d(5, 20)), "Invalid"),
            (
                amber(),
                sw(),
                decide(D3, Yes, d(5, 20)),
                "GoalsNotSustained",
            ),
            (
                recent(),
                sw(),
                decide(D3, Yes, d(5, 20)),
                "GoalsNotSustained",
            ),
            (
                no_goals(),
                sw(),
                decide(D3, Yes, d(5, 20)),
                "AgreementRequired",
            ),
            (amber(), sw(), decide(D3, No, d(5, 20)), "ok"),
        ];
        for (i, (s, who, dec, expected)) in table.into_iter().enumerate() {
            assert_eq!(code(record(&s, who, &dec)), expected, "row {i}: {dec:?}");
        }
    }

    #[test]
    fn d3_approval_follows_the_threshold_and_four_eyes() {
        let s = ready_for_d3();
        // Looked after since 1 December 2025: far past 20 working days by May.
        let plan = record(
            &s,
            sw(),
            &decide(DecisionKind::D3, DecisionOutcome::Yes, d(5, 20)),
        )
        .unwrap();
        assert_eq!(plan.approval, ApprovalStatus::Pending);
        // A nominated officer who records D3 still needs another to approve it.
        let plan = record(
            &s,
            Caller { id: 30, roles: NO },
            &decide(DecisionKind::D3, DecisionOutcome::Yes, d(5, 20)),
        )
        .unwrap();
        assert_eq!(plan.approval, ApprovalStatus::Pending);
        // A child looked after for less than the threshold needs no approval.
        let mut short = ready_for_d3();
        short.episodes[0].started_on = d(5, 10);
        let plan = record(
            &short,
            sw(),
            &decide(DecisionKind::D3, DecisionOutcome::Yes, d(5, 20)),
        )
        .unwrap();
        assert_eq!(plan.approval, ApprovalStatus::NotRequired);
        // A stored threshold above the statutory 20 is read as 20.
        short.settings.d3_approval_working_days = 60;
        short.episodes[0].started_on = d(4, 1);
        assert!(d3_needs_approval(&short, d(5, 20)).unwrap());
        // (threshold, valid)
        for (days, ok) in [(0, true), (5, true), (20, true), (21, false), (-1, false)] {
            assert_eq!(check_d3_threshold(days).is_ok(), ok, "{days}");
        }

        let mut pending = decision("D3", "YES", d(5, 20), 30, "PENDING");
        pending.approver_role = Some("nominated_officer".into());
        // (who, on, expected)
        let table = [
            (Caller { id: 31, roles: NO }, d(5, 21), "ok"),
            (Caller { id: 30, roles: NO }, d(5, 21), "FourEyes"),
            (
                Caller {
                    id: 31,
                    roles: &[Role::TeamManager],
                },
                d(5, 21),
                "FORBIDDEN",
            ),
            (Caller { id: 31, roles: NO }, d(5, 19), "InvalidDate"),
            (Caller { id: 31, roles: NO }, d(6, 2), "InvalidDate"),
        ];
        for (who, on, expected) in table {
            assert_eq!(
                code(approve(&s, who, &pending, on)),
                expected,
                "{who:?} on {on}"
            );
        }
        let done = decision("D3", "YES", d(5, 20), 30, "APPROVED");
        assert_eq!(
            code(approve(&s, Caller { id: 31, roles: NO }, &done, d(5, 21))),
            "ApprovalRequired"
        );
    }
}
