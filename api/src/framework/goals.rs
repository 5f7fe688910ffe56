//! Goals and their reviews: when a review may be dated, how long a goal has held green, and
//! whether the goals are met and sustained (stage 2's end and D3 = yes need it).

use chrono::{Duration, NaiveDate};

use super::CaseSnapshot;
use crate::domain::{GoalStatus, Rating};
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// Why one goal is not met and sustained on a day, or `None` when it is: a goal counts when it is
/// MET, or its latest review is green and it has been green since at least `weeks` before. A
/// withdrawn goal is not counted; a goal not met fails.
pub fn goal_unsustained(
    g: &entities::goal::Model,
    weeks: u32,
    on: NaiveDate,
) -> ApiResult<Option<String>> {
    let status = g.status;
    let rating = g.latest_rating;
    Ok(match (status, rating, g.sustained_since) {
        (GoalStatus::Withdrawn | GoalStatus::Met, _, _) => None,
        (GoalStatus::NotMet, _, _) => Some("not met".to_owned()),
        (GoalStatus::Active, None, _) => Some("not reviewed".to_owned()),
        (GoalStatus::Active, Some(Rating::Green), Some(since))
            if since + Duration::weeks(i64::from(weeks)) <= on =>
        {
            None
        }
        (GoalStatus::Active, Some(Rating::Green), since) => Some(format!(
            "green since {}, not yet {weeks} weeks",
            since.map_or_else(|| "its latest review".to_owned(), |d| d.to_string())
        )),
        (GoalStatus::Active, Some(r), _) => Some(format!("rated {}", r.as_str())),
    })
}

/// The agreement in force has a goal, and every goal is met and sustained by `on` (the LA's
/// `goalSustainedWeeks`); `what` names the step that needs it.
pub fn require_sustained(s: &CaseSnapshot, on: NaiveDate, what: &str) -> ApiResult<()> {
    let goals: Vec<_> = s
        .agreement_in_force()
        .map(|a| s.goals_of(a.id).collect())
        .unwrap_or_default();
    if goals.is_empty() {
        return Err(ApiError::user(
            UserErrorCode::AgreementRequired,
            &["caseId"],
            format!("{what} needs an agreed parental agreement with at least one goal"),
        ));
    }
    let weeks = s.settings.goal_sustained_weeks;
    let mut unmet = Vec::new();
    for (n, g) in goals.iter().enumerate() {
        if let Some(why) = goal_unsustained(g, weeks, on)? {
            unmet.push(format!("goal {} ({why})", n + 1));
        }
    }
    if unmet.is_empty() {
        Ok(())
    } else {
        Err(ApiError::user(
            UserErrorCode::GoalsNotSustained,
            &["caseId"],
            format!(
                "{what} needs every goal reviewed and met, or green for {weeks} weeks: {}",
                unmet.join(", ")
            ),
        ))
    }
}

/// Whether stage 2 may end on `on`: the goals met and sustained, the stage's required actions done.
pub fn complete_stage(s: &CaseSnapshot, on: NaiveDate) -> ApiResult<()> {
    super::process::require_active(s.status())?;
    super::process::require_stage(
        s.stage(),
        crate::domain::Stage::GoalsAndServices,
        "completing goals and services",
    )?;
    super::process::date_within(
        on,
        s.entered_on(crate::domain::Stage::GoalsAndServices),
        s.today,
        "completedOn",
        "the stage",
    )?;
    require_sustained(s, on, "ending stage 2")?;
    super::process::require_done(s, crate::domain::Stage::GoalsAndServices)
}

/// Since when change has been sustained: the day from which every counted goal of the agreement
/// in force has held green or been met (the latest of their green runs' starts); `None` while a
/// goal is not green or met, or there are none.
pub fn change_sustained_since(s: &CaseSnapshot) -> ApiResult<Option<NaiveDate>> {
    let Some(agreement) = s.agreement_in_force() else {
        return Ok(None);
    };
    let mut since: Option<NaiveDate> = None;
    let mut counted = 0;
    for g in s.goals_of(agreement.id) {
        let status = g.status;
        if status == GoalStatus::Withdrawn {
            continue;
        }
        counted += 1;
        let green = g.latest_rating == Some(Rating::Green);
        let start = match (status, green, g.sustained_since) {
            (GoalStatus::Met | GoalStatus::Active, true, Some(d)) => d,
            (GoalStatus::Met, _, _) => match g.latest_review_on {
                Some(d) => d,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        since = Some(since.map_or(start, |s| s.max(start)));
    }
    Ok(if counted == 0 { None } else { since })
}

/// A goal may be set to MET only with a green review behind it.
pub fn check_status_change(g: &entities::goal::Model, status: Option<GoalStatus>) -> ApiResult<()> {
    if status == Some(GoalStatus::Met) && g.latest_rating != Some(Rating::Green) {
        return Err(ApiError::user(
            UserErrorCode::GoalsNotSustained,
            &["status"],
            "a goal is met only with a green review behind it; review it first (goalReview)",
        ));
    }
    Ok(())
}

/// A review may not be dated before the goal's latest review: the history only moves forward.
/// A review on the same day as the latest one is allowed (two meetings on one day).
pub fn check_review_date(
    latest_review_on: Option<NaiveDate>,
    reviewed_on: NaiveDate,
) -> ApiResult<()> {
    match latest_review_on {
        Some(latest) if reviewed_on < latest => Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["reviewedOn"],
            format!("a review cannot precede the latest review, on {latest}"),
        )),
        _ => Ok(()),
    }
}

/// The "sustained since" date after a review: a green after a green keeps the date, a green after
/// anything else starts it, anything but green clears it.
pub fn sustained_since(
    previous_rating: Option<Rating>,
    previous_since: Option<NaiveDate>,
    rating: Rating,
    reviewed_on: NaiveDate,
) -> Option<NaiveDate> {
    match (rating, previous_rating) {
        (Rating::Green, Some(Rating::Green)) => previous_since.or(Some(reviewed_on)),
        (Rating::Green, _) => Some(reviewed_on),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::fixture::{self as f, case_in};

    fn d(day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 1, day).unwrap()
    }

    #[test]
    fn goals_met_and_sustained() {
        let on = f::d(6, 1);
        // (status, rating, green since, unmet reason starts with)
        let table = [
            ("ACTIVE", Some("GREEN"), Some(f::d(3, 1)), None),
            ("ACTIVE", Some("GREEN"), Some(f::d(3, 9)), None),
            (
                "ACTIVE",
                Some("GREEN"),
                Some(f::d(3, 10)),
                Some("green since 2026-03-10"),
            ),
            ("ACTIVE", Some("AMBER"), None, Some("rated AMBER")),
            ("ACTIVE", Some("RED"), None, Some("rated RED")),
            ("ACTIVE", None, None, Some("not reviewed")),
            ("MET", Some("GREEN"), Some(f::d(5, 30)), None),
            ("WITHDRAWN", None, None, None),
            ("NOT_MET", Some("RED"), None, Some("not met")),
        ];
        for (status, rating, since, expected) in table {
            let g = f::goal(1, status, rating, since.or(Some(f::d(5, 1))), since);
            let got = goal_unsustained(&g, 12, on).unwrap();
            match expected {
                None => assert_eq!(got, None, "{status} {rating:?} {since:?}"),
                Some(start) => assert!(
                    got.as_deref().is_some_and(|g| g.starts_with(start)),
                    "{status} {rating:?} {since:?}: {got:?}"
                ),
            }
        }
        // Zero weeks: green at the latest review is enough.
        let g = f::goal(1, "ACTIVE", Some("GREEN"), Some(on), Some(on));
        assert_eq!(goal_unsustained(&g, 0, on).unwrap(), None);
    }

    #[test]
    fn the_case_needs_an_agreement_with_goals_all_sustained() {
        let code = |s: &CaseSnapshot| match require_sustained(s, f::d(6, 1), "D3") {
            Ok(()) => None,
            Err(ApiError::User(e)) => Some(e[0].code),
            Err(e) => panic!("{e:?}"),
        };
        let mut s = case_in("GOALS_AND_SERVICES");
        assert_eq!(code(&s), Some(UserErrorCode::AgreementRequired));
        s.agreements.push(f::agreement("DRAFT"));
        s.goals.push(f::goal(
            1,
            "ACTIVE",
            Some("GREEN"),
            Some(f::d(5, 1)),
            Some(f::d(1, 5)),
        ));
        assert_eq!(
            code(&s),
            Some(UserErrorCode::AgreementRequired),
            "a draft is not in force"
        );
        s.agreements[0].status = crate::domain::AgreementStatus::Active;
        assert_eq!(code(&s), None);
        assert_eq!(change_sustained_since(&s).unwrap(), Some(f::d(1, 5)));
        s.goals.push(f::goal(
            2,
            "ACTIVE",
            Some("GREEN"),
            Some(f::d(5, 1)),
            Some(f::d(2, 1)),
        ));
        assert_eq!(change_sustained_since(&s).unwrap(), Some(f::d(2, 1)));
        s.goals
            .push(f::goal(3, "ACTIVE", Some("AMBER"), Some(f::d(5, 1)), None));
        assert_eq!(code(&s), Some(UserErrorCode::GoalsNotSustained));
        assert_eq!(change_sustained_since(&s).unwrap(), None);
        s.goals[2].status = crate::domain::GoalStatus::Withdrawn;
        assert_eq!(code(&s), None);
    }

    #[test]
    fn met_needs_a_green_review() {
        let green = f::goal(1, "ACTIVE", Some("GREEN"), Some(d(5)), Some(d(5)));
        let amber = f::goal(1, "ACTIVE", Some("AMBER"), Some(d(5)), None);
        let unreviewed = f::goal(1, "ACTIVE", None, None, None);
        assert!(check_status_change(&green, Some(GoalStatus::Met)).is_ok());
        assert!(check_status_change(&amber, Some(GoalStatus::Met)).is_err());
        assert!(check_status_change(&unreviewed, Some(GoalStatus::Met)).is_err());
        assert!(check_status_change(&amber, Some(GoalStatus::Withdrawn)).is_ok());
        assert!(check_status_change(&amber, None).is_ok());
    }

    #[test]
    fn reviews_move_forward() {
        assert!(check_review_date(None, d(1)).is_ok());
        assert!(check_review_date(Some(d(5)), d(5)).is_ok());
        assert!(check_review_date(Some(d(5)), d(6)).is_ok());
        match check_review_date(Some(d(5)), d(4)) {
            Err(ApiError::User(errors)) => {
                assert_eq!(errors.len(), 1);
                assert_eq!(errors[0].code, UserErrorCode::InvalidDate);
                assert_eq!(
                    errors[0].field,
                    Some(vec!["input".to_owned(), "reviewedOn".to_owned()])
                );
            }
            other => panic!("expected an INVALID_DATE user error, got {other:?}"),
        }
    }

    #[test]
    fn green_runs() {
        assert_eq!(sustained_since(None, None, Rating::Green, d(1)), Some(d(1)));
        assert_eq!(
            sustained_since(Some(Rating::Green), Some(d(1)), Rating::Green, d(9)),
            Some(d(1))
        );
        assert_eq!(
            sustained_since(Some(Rating::Amber), None, Rating::Green, d(9)),
            Some(d(9))
        );
        assert_eq!(
            sustained_since(Some(Rating::Green), Some(d(1)), Rating::Amber, d(9)),
            None
        );
        assert_eq!(
            sustained_since(Some(Rating::Green), Some(d(1)), Rating::Red, d(9)),
            None
        );
    }
}
