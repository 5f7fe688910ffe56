//! Risk classifications: proposing and agreeing (four eyes), and the LA's sustained-risk policy.

use chrono::NaiveDate;

use super::roles::{self, Act};
use super::snapshot::Agreed;
use super::{Caller, CaseSnapshot, goals, process};
use crate::domain::{ClassificationKind, RiskLevel, dates};
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// Whether `who` may propose a classification of `kind` dated `on`.
pub fn propose(
    s: &CaseSnapshot,
    who: Caller<'_>,
    kind: ClassificationKind,
    on: NaiveDate,
) -> ApiResult<()> {
    roles::require(Act::ProposeClassification, who.roles)?;
    process::require_active(s.status())?;
    let stage = process::stage_of_classification(kind);
    process::require_stage(s.stage(), stage, kind.as_str())?;
    process::date_within(
        on,
        s.entered_on(stage),
        s.today,
        "classifiedOn",
        "the stage it belongs to",
    )?;
    if s.agreed_of(kind).is_some() {
        return Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["kind"],
            format!("{} is already agreed", kind.as_str()),
        ));
    }
    Ok(())
}

/// Whether `who` may agree the proposed classification on `on`.
pub fn agree(
    s: &CaseSnapshot,
    who: Caller<'_>,
    proposed: &entities::risk_classification::Model,
    on: NaiveDate,
) -> ApiResult<()> {
    roles::require(Act::AgreeClassification, who.roles)?;
    process::require_active(s.status())?;
    if s.classifications
        .iter()
        .any(|c| c.kind == proposed.kind && c.agreed_on.is_some())
    {
        return Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["classificationId"],
            format!("{} is already agreed", proposed.kind.as_str()),
        ));
    }
    if proposed.proposed_by == Some(who.id) {
        return Err(ApiError::user(
            UserErrorCode::FourEyes,
            &["classificationId"],
            "you proposed this classification; another person agrees it",
        ));
    }
    process::date_within(
        on,
        proposed.classified_on,
        s.today,
        "agreedOn",
        "the classification",
    )?;
    Ok(())
}

/// The sustained-risk policy: where the child was ever classified High or above (in this attempt
/// or an earlier one), risk must have stayed below High for `months` by `on`. The lower period
/// starts when change was sustained — the day from which every goal has held green or been met —
/// and never before the last High; without goals to show it, at the first classification below
/// High after the last High. The latest classification must be below High.
pub fn risk_sustained(
    history: &[Agreed],
    change_since: Option<NaiveDate>,
    months: u32,
    on: NaiveDate,
) -> bool {
    let high = |a: &Agreed| a.level >= RiskLevel::High;
    let mut sorted = history.to_vec();
    sorted.sort_by_key(|a| a.classified_on);
    let Some(last_high) = sorted.iter().rposition(high) else {
        return true;
    };
    let Some(first_lower) = sorted.get(last_high + 1) else {
        return false;
    };
    let high_on = sorted[last_high].classified_on;
    let start = change_since.map_or(first_lower.classified_on, |c| c.max(high_on));
    dates::add_months(start, months) <= on
}

/// D3 = yes on `on` meets the LA's sustained-risk policy, when it has one.
pub fn require_sustained(s: &CaseSnapshot, on: NaiveDate) -> ApiResult<()> {
    let Some(months) = s.settings.sustained_risk_months else {
        return Ok(());
    };
    let history = s.agreed_for_child()?;
    if risk_sustained(&history, goals::change_sustained_since(s)?, months, on) {
        Ok(())
    } else {
        Err(ApiError::user(
            UserErrorCode::RiskNotSustained,
            &["outcome"],
            format!(
                "the child was classified High or above; risk must have stayed Medium or Low for {months} months before D3 = yes"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::framework::fixture::*;

    fn a(kind: ClassificationKind, level: RiskLevel, on: NaiveDate) -> Agreed {
        Agreed {
            kind,
            level,
            classified_on: on,
        }
    }

    #[test]
    fn sustained_risk_policy() {
        use ClassificationKind::*;
        use RiskLevel::*;
        let y = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        let high_then_medium = vec![a(Rc1, High, y(2025, 1, 1)), a(Rc2, Medium, y(2025, 9, 1))];
        // (history, change sustained since, on, sustained)
        let table = [
            (
                vec![a(Rc1, Medium, y(2025, 1, 1))],
                None,
                y(2025, 1, 2),
                true,
            ),
            (high_then_medium.clone(), None, y(2026, 2, 28), false),
            (high_then_medium.clone(), None, y(2026, 3, 1), true),
            // Change sustained since March counts from March, not from RC2 in September.
            (
                high_then_medium.clone(),
                Some(y(2025, 3, 1)),
                y(2025, 9, 1),
                true,
            ),
            (
                high_then_medium.clone(),
                Some(y(2025, 3, 2)),
                y(2025, 9, 1),
                false,
            ),
            // ... but never from before the High itself.
            (
                high_then_medium.clone(),
                Some(y(2024, 6, 1)),
                y(2025, 6, 30),
                false,
            ),
            (high_then_medium, Some(y(2024, 6, 1)), y(2025, 7, 1), true),
            // Still High at the latest classification.
            (
                vec![
                    a(Rc1, Medium, y(2025, 1, 1)),
                    a(Rc2, VeryHigh, y(2025, 3, 1)),
                ],
                Some(y(2025, 1, 1)),
                y(2026, 3, 1),
                false,
            ),
            // A High of an earlier attempt counts: the lower period starts after it.
            (
                vec![a(Rc1, High, y(2024, 1, 1)), a(Rc1, Low, y(2026, 1, 1))],
                None,
                y(2026, 6, 30),
                false,
            ),
            (
                vec![
                    a(Rc1, High, y(2024, 1, 1)),
                    a(Rc2, Low, y(2024, 6, 1)),
                    a(Rc1, Low, y(2026, 1, 1)),
                ],
                None,
                y(2026, 6, 30),
                true,
            ),
        ];
        for (i, (history, since, on, expected)) in table.into_iter().enumerate() {
            assert_eq!(risk_sustained(&history, since, 6, on), expected, "row {i}");
        }
    }

    #[test]
    fn the_policy_reads_earlier_attempts() {
        let mut s = case_in("RETURN_DECISION");
        s.settings.sustained_risk_months = Some(6);
        s.classifications
            .push(classification("RC2", 2, d(5, 1), 10, true));
        assert!(require_sustained(&s, d(5, 20)).is_ok());
        // The child's first attempt was classified High.
        let mut earlier = classification("RC1", 3, d(4, 1), 10, true);
        earlier.case_id = 2;
        s.earlier_classifications.push(earlier);
        assert!(require_sustained(&s, d(5, 20)).is_err());
        s.settings.sustained_risk_months = None;
        assert!(require_sustained(&s, d(5, 20)).is_ok());
    }

    #[test]
    fn propose_and_agree() {
        let s = case_in("ASSESSMENT");
        let sw = Caller {
            id: 10,
            roles: &[Role::SocialWorker],
        };
        let tm = Caller {
            id: 20,
            roles: &[Role::TeamManager],
        };
        let tm_who_proposed = Caller {
            id: 10,
            roles: &[Role::TeamManager, Role::SocialWorker],
        };
        use ClassificationKind::*;
        // (who, kind, on, expected)
        let table = [
            (sw, Rc1, d(2, 1), "ok"),
            (sw, Rc2, d(2, 1), "WrongStage"),
            (sw, Rc1, d(6, 2), "InvalidDate"),
            (sw, Rc1, d(1, 1), "ok"),
            (
                Caller {
                    id: 10,
                    roles: &[Role::FamilySupport],
                },
                Rc1,
                d(2, 1),
                "FORBIDDEN",
            ),
        ];
        for (who, kind, on, expected) in table {
            assert_eq!(
                code(propose(&s, who, kind, on)),
                expected,
                "{kind:?} on {on}"
            );
        }
        let mut before = case_in("ASSESSMENT");
        before.stages[0].entered_on = d(2, 1);
        assert_eq!(code(propose(&before, sw, Rc1, d(1, 31))), "InvalidDate");

        let proposed = classification("RC1", 2, d(2, 1), 10, false);
        // (who, on, expected)
        let table = [
            (tm, d(2, 1), "ok"),
            (sw, d(2, 1), "FORBIDDEN"),
            (tm_who_proposed, d(2, 1), "FourEyes"),
            (tm, d(1, 31), "InvalidDate"),
            (tm, d(6, 2), "InvalidDate"),
        ];
        for (who, on, expected) in table {
            assert_eq!(
                code(agree(&s, who, &proposed, on)),
                expected,
                "{who:?} on {on}"
            );
        }
        let mut agreed = case_in("ASSESSMENT");
        agreed
            .classifications
            .push(classification("RC1", 2, d(2, 1), 10, true));
        assert_eq!(
            code(agree(&agreed, tm, &proposed, d(2, 2))),
            "AlreadyRecorded"
        );
        assert_eq!(code(propose(&agreed, sw, Rc1, d(2, 2))), "AlreadyRecorded");
    }
}
