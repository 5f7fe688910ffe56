//! The framework's state machine: which decision and classification belong to which stage, where
//! each outcome leads, and the bounds every recorded date keeps.

use chrono::NaiveDate;

use crate::domain::{CaseStatus, ClassificationKind, DecisionKind, DecisionOutcome, Stage};
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// Whether a case may open on `opened_on` for a child's `episode`, given the child's other cases:
/// the episode is open and began by then, and the child has no other active case. Returns the
/// new case's attempt number (1 for the child's first).
pub fn open_case(
    episode: &entities::care_episode::Model,
    previous: &[entities::reunification_case::Model],
    opened_on: NaiveDate,
    today: NaiveDate,
) -> ApiResult<i32> {
    if episode.ended_on.is_some() {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["episodeId"],
            "the episode has ended",
        ));
    }
    date_within(
        opened_on,
        episode.started_on,
        today,
        "openedOn",
        "the episode",
    )?;
    if previous.iter().any(|c| c.status == CaseStatus::Active) {
        return Err(ApiError::user(
            UserErrorCode::Duplicate,
            &["childId"],
            "the child already has an active reunification case",
        ));
    }
    Ok(i32::try_from(previous.len()).unwrap_or(i32::MAX - 1) + 1)
}

/// A date given for a record: not in the future, and not before `earliest` (the day the stage
/// or case it belongs to began, named by `what`).
pub fn date_within(
    on: NaiveDate,
    earliest: NaiveDate,
    today: NaiveDate,
    field: &str,
    what: &str,
) -> ApiResult<NaiveDate> {
    if on > today {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &[field],
            "the date is in the future",
        ));
    }
    if on < earliest {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &[field],
            format!("the date cannot precede {what}, on {earliest}"),
        ));
    }
    Ok(on)
}

/// Where a recorded decision takes the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Enter the next stage.
    Enter(Stage),
    /// Close as not pursued.
    CloseNotPursued,
    /// Stay in the current stage (deferred, or D3 = yes awaiting the return).
    Stay,
}

/// The stage in which a decision is taken.
pub fn stage_of_decision(kind: DecisionKind) -> Option<Stage> {
    match kind {
        DecisionKind::D1 => Some(Stage::Identification),
        DecisionKind::D2 => Some(Stage::Assessment),
        DecisionKind::D3 => Some(Stage::ReturnDecision),
        DecisionKind::Closure => None,
    }
}

/// The stage in which a classification is done.
pub fn stage_of_classification(kind: ClassificationKind) -> Stage {
    match kind {
        ClassificationKind::Rc1 => Stage::Assessment,
        ClassificationKind::Rc2 => Stage::ReturnDecision,
        ClassificationKind::Rc3 => Stage::ReturnAndSupport,
    }
}

/// The classification that must be agreed before a decision, if any.
pub fn classification_before(kind: DecisionKind) -> Option<ClassificationKind> {
    match kind {
        DecisionKind::D2 => Some(ClassificationKind::Rc1),
        DecisionKind::D3 => Some(ClassificationKind::Rc2),
        _ => None,
    }
}

/// The case must be active.
pub fn require_active(status: CaseStatus) -> ApiResult<()> {
    match status {
        CaseStatus::Active => Ok(()),
        CaseStatus::Closed => Err(ApiError::user(
            UserErrorCode::CaseClosed,
            &["caseId"],
            "the case is closed",
        )),
    }
}

/// The case must be in `expected`.
pub fn require_stage(current: Stage, expected: Stage, what: &str) -> ApiResult<()> {
    if current == expected {
        Ok(())
    } else {
        Err(ApiError::user(
            UserErrorCode::WrongStage,
            &["caseId"],
            format!(
                "{what} belongs to stage {}, but the case is in stage {}",
                expected.as_str(),
                current.as_str()
            ),
        ))
    }
}

/// The case must have reached `earliest` (for work that continues through later stages).
pub fn require_stage_at_least(current: Stage, earliest: Stage, what: &str) -> ApiResult<()> {
    if current >= earliest {
        Ok(())
    } else {
        Err(ApiError::user(
            UserErrorCode::WrongStage,
            &["caseId"],
            format!(
                "{what} starts in stage {}, but the case is in stage {}",
                earliest.as_str(),
                current.as_str()
            ),
        ))
    }
}

/// Where a decision's outcome leads, or why the outcome is not allowed.
pub fn after_decision(kind: DecisionKind, outcome: DecisionOutcome) -> ApiResult<Next> {
    use DecisionKind::*;
    use DecisionOutcome::*;
    match (kind, outcome) {
        (D1, Yes) => Ok(Next::Enter(Stage::Assessment)),
        (D2, Yes) => Ok(Next::Enter(Stage::GoalsAndServices)),
        (D3, Yes) => Ok(Next::Stay),
        (D1 | D2 | D3, No) => Ok(Next::CloseNotPursued),
        (D1 | D2, Deferred) => Ok(Next::Stay),
        (D3, Deferred) => Err(ApiError::user(
            UserErrorCode::Invalid,
            &["outcome"],
            "D3 is yes or no; record a later D3 when the decision is ready",
        )),
        (Closure, _) => Err(ApiError::user(
            UserErrorCode::Invalid,
            &["kind"],
            "close a case with caseClose",
        )),
    }
}

/// Every required action of `stage` is completed.
pub fn require_done(s: &super::snapshot::CaseSnapshot, stage: Stage) -> ApiResult<()> {
    let missing: Vec<&str> = s
        .checklist_of(stage)
        .filter(|i| i.required && i.completed_on.is_none())
        .map(|i| i.key.as_str())
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ApiError::user(
            UserErrorCode::ChecklistIncomplete,
            &["caseId"],
            format!(
                "required practice actions of this stage are not completed: {}",
                missing.join(", ")
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_lead_where_the_framework_says() {
        assert_eq!(
            after_decision(DecisionKind::D1, DecisionOutcome::Yes).unwrap(),
            Next::Enter(Stage::Assessment)
        );
        assert_eq!(
            after_decision(DecisionKind::D2, DecisionOutcome::Yes).unwrap(),
            Next::Enter(Stage::GoalsAndServices)
        );
        assert_eq!(
            after_decision(DecisionKind::D3, DecisionOutcome::Yes).unwrap(),
            Next::Stay
        );
        for k in [DecisionKind::D1, DecisionKind::D2, DecisionKind::D3] {
            assert_eq!(
                after_decision(k, DecisionOutcome::No).unwrap(),
                Next::CloseNotPursued
            );
        }
        assert_eq!(
            after_decision(DecisionKind::D1, DecisionOutcome::Deferred).unwrap(),
            Next::Stay
        );
        assert!(after_decision(DecisionKind::D3, DecisionOutcome::Deferred).is_err());
        assert!(after_decision(DecisionKind::Closure, DecisionOutcome::Yes).is_err());
    }

    #[test]
    fn a_case_opens_on_an_open_episode_once_at_a_time() {
        use crate::framework::fixture::{case_in, code};
        use chrono::Datelike as _;
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        let s = case_in("IDENTIFICATION");
        let open = s.episodes[0].clone();
        let mut ended = open.clone();
        ended.ended_on = Some(d(1, 5));
        let mut closed = s.case.clone();
        closed.status = crate::domain::CaseStatus::Closed;
        // (episode, previous cases, opened on, expected)
        let table = [
            (open.clone(), vec![], d(1, 1), "1"),
            (open.clone(), vec![closed.clone()], d(1, 1), "2"),
            (
                open.clone(),
                vec![closed, s.case.clone()],
                d(1, 1),
                "Duplicate",
            ),
            (ended, vec![], d(1, 1), "Invalid"),
            (
                open.clone(),
                vec![],
                d(1, 1).with_year(2025).unwrap(),
                "InvalidDate",
            ),
            (open, vec![], d(6, 2), "InvalidDate"),
        ];
        for (i, (episode, previous, on, expected)) in table.into_iter().enumerate() {
            let got = match open_case(&episode, &previous, on, d(6, 1)) {
                Ok(n) => n.to_string(),
                r => code(r),
            };
            assert_eq!(got, expected, "row {i}");
        }
    }

    #[test]
    fn dates_are_bounded() {
        let d = |day| NaiveDate::from_ymd_opt(2026, 3, day).unwrap();
        // (on, earliest, today, ok)
        let table = [
            (d(10), d(1), d(20), true),
            (d(1), d(1), d(20), true),
            (d(20), d(1), d(20), true),
            (d(21), d(1), d(20), false),
            (d(1), d(2), d(20), false),
        ];
        for (on, earliest, today, ok) in table {
            let r = date_within(on, earliest, today, "decidedOn", "the stage");
            assert_eq!(r.is_ok(), ok, "{on} within {earliest}..={today}");
            if let Err(ApiError::User(e)) = r {
                assert_eq!(e[0].code, UserErrorCode::InvalidDate);
            }
        }
    }

    #[test]
    fn gates() {
        assert_eq!(
            classification_before(DecisionKind::D2),
            Some(ClassificationKind::Rc1)
        );
        assert_eq!(
            classification_before(DecisionKind::D3),
            Some(ClassificationKind::Rc2)
        );
        assert_eq!(classification_before(DecisionKind::D1), None);
        assert!(require_stage(Stage::Assessment, Stage::Identification, "D1").is_err());
        assert!(require_active(CaseStatus::Closed).is_err());
        assert!(
            require_stage_at_least(Stage::ReturnAndSupport, Stage::GoalsAndServices, "goals")
                .is_ok()
        );
        assert!(
            require_stage_at_least(Stage::Assessment, Stage::GoalsAndServices, "goals").is_err()
        );
        assert_eq!(Stage::GoalsAndServices.next(), Some(Stage::ReturnDecision));
        assert_eq!(Stage::ReturnAndSupport.next(), None);
    }
}
