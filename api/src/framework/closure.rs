//! The return home (planned after an approved D3 = yes, or unplanned) and closing a case with its
//! outcome.

use chrono::NaiveDate;

use super::roles::{self, Act};
use super::{Caller, CaseSnapshot, decisions, process};
use crate::domain::{ClassificationKind, ClosureReason, ReturnType, ServiceStatus, Stage, dates};
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// Whether the child's return home on `on` may be recorded, and of which kind.
pub fn record_return(s: &CaseSnapshot, on: NaiveDate, unplanned: bool) -> ApiResult<ReturnType> {
    process::require_active(s.status())?;
    let current = s.stage();
    if current == Stage::ReturnAndSupport {
        return Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["caseId"],
            "the return home is already recorded",
        ));
    }
    process::date_within(on, s.case.opened_on, s.today, "returnedOn", "the case")?;
    if unplanned {
        return Ok(ReturnType::Unplanned);
    }
    process::require_stage(current, Stage::ReturnDecision, "a planned return")?;
    match s.d3_yes() {
        None => Err(ApiError::user(
            UserErrorCode::DecisionRequired,
            &["caseId"],
            "a planned return needs D3 = yes; record an unplanned return if the child went home without one",
        )),
        Some(_) if !s.d3_approved() => Err(ApiError::user(
            UserErrorCode::DecisionRequired,
            &["caseId"],
            "D3 is awaiting nominated-officer approval",
        )),
        Some(d) if on < d.decided_on => Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["returnedOn"],
            "the return cannot precede D3",
        )),
        Some(_) => Ok(ReturnType::Planned),
    }
}

/// What a return home does to the child's episodes of care (SSDA903).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReturnEpisode {
    /// The episode ends with this reason: `E4A` planned, `E4B` unplanned, `E13` to family
    /// without parental responsibility.
    Ends(&'static str),
    /// The child stays looked after, placed with parents: the episode ends `X1` (the placement
    /// changed, `CARPL`) and a new one begins the same day in `P1` (`RNE` `P`, provider `PR0`).
    PlacedWithParents,
}

/// The 903 reasons an episode ends with that are a return to family.
pub const RETURN_REASONS: [&str; 3] = ["E4A", "E4B", "E13"];

/// How a return of `return_type` leaves the episodes: ending care (to parents, or with
/// `without_pr` to relatives or friends without parental responsibility), or placed with
/// parents while still looked after — which needs a care order (a child accommodated under
/// section 20 who goes home leaves care) and people who hold parental responsibility.
pub fn return_episode(
    s: &CaseSnapshot,
    return_type: ReturnType,
    ends_care: bool,
    without_pr: bool,
) -> ApiResult<ReturnEpisode> {
    match (ends_care, without_pr) {
        (true, true) => Ok(ReturnEpisode::Ends("E13")),
        (true, false) if return_type == ReturnType::Unplanned => Ok(ReturnEpisode::Ends("E4B")),
        (true, false) => Ok(ReturnEpisode::Ends("E4A")),
        (false, true) => Err(ApiError::user(
            UserErrorCode::Invalid,
            &["withoutParentalResponsibility"],
            "placed with parents (P1) is with people who hold parental responsibility; a child \
             going to relatives or friends without it leaves care (endsCare, E13)",
        )),
        (false, false) if s.episode()?.legal_status.starts_with('V') => Err(ApiError::user(
            UserErrorCode::Invalid,
            &["endsCare"],
            "a child accommodated under section 20 who goes home leaves care: placed with \
             parents (P1) needs a care order (SSDA903 rule 378)",
        )),
        (false, false) => Ok(ReturnEpisode::PlacedWithParents),
    }
}

/// What an episode the case-management system ended on `on` for `reason_ceased` does to the
/// child's case: nothing unless it is a return to family (`E4A`, `E4B`, `E13`) and the case is
/// active and not yet at `RETURN_AND_SUPPORT`; otherwise the return `returnRecord` would record —
/// planned where a planned return may be recorded (an approved D3 = yes before it), unplanned
/// otherwise, whatever the vendor's code says, since the framework's D3 decides what was planned.
pub fn synced_return(
    s: &CaseSnapshot,
    reason_ceased: &str,
    on: NaiveDate,
) -> Option<ApiResult<ReturnType>> {
    let active = s.status() == crate::domain::CaseStatus::Active;
    if !RETURN_REASONS.contains(&reason_ceased) || !active || s.stage() == Stage::ReturnAndSupport {
        return None;
    }
    Some(record_return(s, on, false).or_else(|_| record_return(s, on, true)))
}

/// A closure as asked for.
#[derive(Debug, Clone)]
pub struct Close<'a> {
    /// Why.
    pub reason: ClosureReason,
    /// When.
    pub closed_on: NaiveDate,
    /// Why, in words (optional but for OTHER and MOVED_LA).
    pub rationale: Option<&'a str>,
    /// A breakdown: when the child re-entered care.
    pub reentered_care_on: Option<NaiveDate>,
    /// Not pursued: the alternative permanence plan.
    pub alternative_plan: Option<&'a str>,
    /// A team manager's reason to close as stable without RC3 or the full support.
    pub override_reason: Option<&'a str>,
}

/// What closing does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClosurePlan {
    /// The alternative permanence plan of a case not pursued.
    pub alternative_plan: Option<String>,
    /// A stable closure made on a team manager's override.
    pub overridden: bool,
    /// A breakdown: the day the child re-entered care, as given or as the episodes say.
    pub reentered_care_on: Option<NaiveDate>,
}

/// Days of support after a return: how many days of `[returned, until)` some service that ran
/// (active or ended; not planned or declined) covered; a service with no end date runs to `until`.
pub fn support_days(
    services: &[entities::support_service::Model],
    returned: NaiveDate,
    until: NaiveDate,
) -> ApiResult<i64> {
    let mut spans: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for sv in services {
        let status = sv.status;
        if !matches!(status, ServiceStatus::Active | ServiceStatus::Ended) {
            continue;
        }
        let start = sv.starts_on.max(returned);
        let end = sv.ends_on.map_or(until, |e| e.min(until));
        if start < end {
            spans.push((start, end));
        }
    }
    spans.sort();
    let mut days = 0;
    let mut reached = returned;
    for (start, end) in spans {
        let from = start.max(reached);
        if end > from {
            days += (end - from).num_days();
            reached = end;
        }
    }
    Ok(days)
}

/// Whether support after the return covered the LA's support months by `until`.
pub fn support_covered(s: &CaseSnapshot, returned: NaiveDate, until: NaiveDate) -> ApiResult<bool> {
    let needed = (dates::add_months(returned, s.settings.support_months) - returned).num_days();
    Ok(support_days(&s.services, returned, until)? >= needed)
}

/// Whether `who` may close the case as asked, and what closing does.
pub fn close(s: &CaseSnapshot, who: Caller<'_>, c: &Close<'_>) -> ApiResult<ClosurePlan> {
    process::require_active(s.status())?;
    let current = s.stage();
    process::date_within(
        c.closed_on,
        s.entered_on(current),
        s.today,
        "closedOn",
        "the current stage",
    )?;
    let returned = s
        .returned_on()
        .filter(|_| current == Stage::ReturnAndSupport);
    if c.override_reason.is_some() && c.reason != ClosureReason::StableAtHome {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["overrideReason"],
            "an override is only for closing as stable at home",
        ));
    }
    if c.reentered_care_on.is_some() && returned.is_none() {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &["reenteredCareOn"],
            "only a child who went home can re-enter care",
        ));
    }
    let mut plan = ClosurePlan {
        alternative_plan: None,
        overridden: false,
        reentered_care_on: c.reentered_care_on,
    };
    match c.reason {
        ClosureReason::NotPursued => {
            if returned.is_some() {
                return Err(ApiError::user(
                    UserErrorCode::WrongStage,
                    &["reason"],
                    "the child has already returned home",
                ));
            }
            plan.alternative_plan = Some(decisions::alternative_plan(c.alternative_plan)?);
        }
        ClosureReason::StableAtHome => {
            process::require_stage(
                current,
                Stage::ReturnAndSupport,
                "closing as stable at home",
            )?;
            process::require_done(s, Stage::ReturnAndSupport)?;
            let home = returned.unwrap_or(c.closed_on);
            let missing = if s.agreed_of(ClassificationKind::Rc3).is_none() {
                Some((
                    UserErrorCode::RiskClassificationRequired,
                    "closing as stable at home needs an agreed RC3".to_owned(),
                ))
            } else if !support_covered(s, home, c.closed_on)? {
                Some((
                    UserErrorCode::SupportIncomplete,
                    format!(
                        "closing as stable at home needs support covering {} months after the return (from the services' dates)",
                        s.settings.support_months
                    ),
                ))
            } else {
                None
            };
            match (missing, c.override_reason) {
                (None, _) => {}
                (Some(_), Some(_)) => {
                    roles::require(Act::OverrideStableClosure, who.roles)?;
                    plan.overridden = true;
                }
                (Some((code, message)), None) => {
                    return Err(ApiError::user(
                        code,
                        &["reason"],
                        format!("{message}, or a team manager's overrideReason"),
                    ));
                }
            }
        }
        ClosureReason::BrokeDown => {
            process::require_stage(current, Stage::ReturnAndSupport, "closing as broken down")?;
            // The episodes know the re-entry when the return ended one and a later one began.
            let known = returned
                .and_then(|r| super::outcomes::episode_view(r, &s.episodes))
                .and_then(|v| v.reentered_on);
            let Some(reentered) = c.reentered_care_on.or(known) else {
                return Err(ApiError::user(
                    UserErrorCode::OutcomeRequired,
                    &["reenteredCareOn"],
                    "a breakdown needs the date the child re-entered care",
                ));
            };
            if let Some(back) = known
                && back != reentered
            {
                return Err(ApiError::user(
                    UserErrorCode::ContradictsRecords,
                    &["reenteredCareOn"],
                    format!("the care episodes say the child re-entered care on {back}"),
                ));
            }
            plan.reentered_care_on = Some(reentered);
            let home = returned.unwrap_or(s.case.opened_on);
            process::date_within(
                reentered,
                home,
                s.today,
                "reenteredCareOn",
                "the return home",
            )?;
        }
        ClosureReason::Reached18 => {
            if dates::age_on(s.child.date_of_birth, c.closed_on) < 18 {
                return Err(ApiError::user(
                    UserErrorCode::InvalidDate,
                    &["closedOn"],
                    "the child is not 18 on the closing date",
                ));
            }
        }
        ClosureReason::MovedLa | ClosureReason::Other => {
            if c.rationale.is_none_or(|r| r.trim().is_empty()) {
                return Err(ApiError::user(
                    UserErrorCode::OutcomeRequired,
                    &["rationale"],
                    "closing for this reason needs the reason in words",
                ));
            }
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;
    use crate::framework::fixture::*;

    #[test]
    fn support_is_counted_from_the_services_dates() {
        let home = d(1, 1);
        // (services, until, days)
        let table = [
            (vec![], d(7, 1), 0),
            (vec![service(d(1, 1), None, "ACTIVE")], d(7, 1), 181),
            (vec![service(d(1, 1), Some(d(3, 1)), "ENDED")], d(7, 1), 59),
            // Overlaps count once; a gap does not count.
            (
                vec![
                    service(d(1, 1), Some(d(3, 1)), "ENDED"),
                    service(d(2, 1), Some(d(4, 1)), "ENDED"),
                    service(d(5, 1), Some(d(6, 1)), "ENDED"),
                ],
                d(7, 1),
                90 + 31,
            ),
            // Before the return does not count; planned and declined do not count.
            (
                vec![service(
                    d(1, 1).with_year(2025).unwrap(),
                    Some(d(2, 1)),
                    "ENDED",
                )],
                d(7, 1),
                31,
            ),
            (
                vec![
                    service(d(1, 1), None, "PLANNED"),
                    service(d(1, 1), None, "DECLINED"),
                ],
                d(7, 1),
                0,
            ),
        ];
        for (i, (services, until, days)) in table.into_iter().enumerate() {
            assert_eq!(
                support_days(&services, home, until).unwrap(),
                days,
                "row {i}"
            );
        }
    }

    #[test]
    fn closing() {
        use ClosureReason::*;
        let sw = Caller {
            id: 10,
            roles: &[Role::SocialWorker],
        };
        let tm = Caller {
            id: 20,
            roles: &[Role::TeamManager],
        };
        // At home since 1 December 2025 (stage 4 entered then); today 1 June 2026.
        let home = |rc3: bool, months_of_support: u32| {
            let mut s = case_in("RETURN_AND_SUPPORT");
            let returned_on = d(12, 1).with_year(2025).unwrap();
            s.stages[0].entered_on = returned_on;
            s.outcome = Some(returned(returned_on));
            if rc3 {
                s.classifications
                    .push(classification("RC3", 1, d(5, 1), 10, true));
            }
            s.services.push(service(
                returned_on,
                Some(dates::add_months(returned_on, months_of_support)),
                "ENDED",
            ));
            s
        };
        let close_as = |reason, on| Close {
            reason,
            closed_on: on,
            rationale: None,
            reentered_care_on: None,
            alternative_plan: None,
            override_reason: None,
        };
        let with = |mut c: Close<'static>, f: &dyn Fn(&mut Close<'static>)| {
            f(&mut c);
            c
        };
        let overridden = with(close_as(StableAtHome, d(6, 1)), &|c| {
            c.override_reason = Some("Family moved; support continues under the new LA's plan.")
        });
        // (case, who, closure, expected)
        let table: Vec<(CaseSnapshot, Caller, Close, &str)> = vec![
            (home(true, 6), sw, close_as(StableAtHome, d(6, 1)), "ok"),
            (
                home(false, 6),
                sw,
                close_as(StableAtHome, d(6, 1)),
                "RiskClassificationRequired",
            ),
            (
                home(true, 5),
                sw,
                close_as(StableAtHome, d(6, 1)),
                "SupportIncomplete",
            ),
            (
                home(true, 6),
                sw,
                close_as(StableAtHome, d(5, 31)),
                "SupportIncomplete",
            ),
            (home(false, 3), sw, overridden.clone(), "FORBIDDEN"),
            (home(false, 3), tm, overridden.clone(), "ok"),
            (case_in("RETURN_DECISION"), tm, overridden, "WrongStage"),
            (
                home(true, 6),
                sw,
                close_as(BrokeDown, d(6, 1)),
                "OutcomeRequired",
            ),
            (
                home(true, 6),
                sw,
                with(close_as(BrokeDown, d(6, 1)), &|c| {
                    c.reentered_care_on = Some(d(11, 30).with_year(2025).unwrap())
                }),
                "InvalidDate",
            ),
            (
                home(true, 6),
                sw,
                with(close_as(BrokeDown, d(6, 1)), &|c| {
                    c.reentered_care_on = Some(d(5, 1))
                }),
                "ok",
            ),
            (
                case_in("ASSESSMENT"),
                sw,
                with(close_as(BrokeDown, d(6, 1)), &|c| {
                    c.reentered_care_on = Some(d(5, 1))
                }),
                "Invalid",
            ),
            (
                case_in("ASSESSMENT"),
                sw,
                close_as(Reached18, d(6, 1)),
                "InvalidDate",
            ),
            (
                case_in("ASSESSMENT"),
                sw,
                close_as(Other, d(6, 1)),
                "OutcomeRequired",
            ),
            (
                case_in("ASSESSMENT"),
                sw,
                with(close_as(MovedLa, d(6, 1)), &|c| c.rationale = Some("  ")),
                "OutcomeRequired",
            ),
            (
                case_in("ASSESSMENT"),
                sw,
                with(close_as(MovedLa, d(6, 1)), &|c| {
                    c.rationale = Some("Moved to LA 202.")
                }),
                "ok",
            ),
            (
                case_in("ASSESSMENT"),
                sw,
                close_as(NotPursued, d(6, 1)),
                "AlternativePlanRequired",
            ),
            (
                case_in("ASSESSMENT"),
                sw,
                with(close_as(NotPursued, d(6, 1)), &|c| {
                    c.alternative_plan = Some("LTRELFR")
                }),
                "ok",
            ),
            (
                home(true, 6),
                sw,
                with(close_as(NotPursued, d(6, 1)), &|c| {
                    c.alternative_plan = Some("LTRELFR")
                }),
                "WrongStage",
            ),
            (
                case_in("ASSESSMENT"),
                sw,
                with(close_as(NotPursued, d(6, 2)), &|c| {
                    c.alternative_plan = Some("LTRELFR")
                }),
                "InvalidDate",
            ),
        ];
        for (i, (s, who, c, expected)) in table.into_iter().enumerate() {
            assert_eq!(code(close(&s, who, &c)), expected, "row {i}: {c:?}");
        }
        let mut adult = case_in("ASSESSMENT");
        adult.child.date_of_birth = d(5, 31).with_year(2008).unwrap();
        assert_eq!(code(close(&adult, sw, &close_as(Reached18, d(6, 1)))), "ok");
        assert_eq!(
            code(close(&adult, sw, &close_as(Reached18, d(5, 30)))),
            "InvalidDate"
        );
    }

    #[test]
    fn returning_home() {
        let mut ready = case_in("RETURN_DECISION");
        ready
            .decisions
            .push(decision("D3", "YES", d(5, 1), 10, "APPROVED"));
        let mut pending = case_in("RETURN_DECISION");
        pending
            .decisions
            .push(decision("D3", "YES", d(5, 1), 10, "PENDING"));
        let home = case_in("RETURN_AND_SUPPORT");
        // (case, on, unplanned, expected)
        let table = [
            (ready.clone(), d(5, 2), false, "ok"),
            (ready.clone(), d(4, 30), false, "InvalidDate"),
            (ready.clone(), d(6, 2), false, "InvalidDate"),
            (pending.clone(), d(5, 2), false, "DecisionRequired"),
            (pending, d(5, 2), true, "ok"),
            (case_in("ASSESSMENT"), d(5, 2), false, "WrongStage"),
            (
                case_in("RETURN_DECISION"),
                d(5, 2),
                false,
                "DecisionRequired",
            ),
            (case_in("ASSESSMENT"), d(5, 2), true, "ok"),
            (home, d(5, 2), true, "AlreadyRecorded"),
        ];
        for (i, (s, on, unplanned, expected)) in table.into_iter().enumerate() {
            assert_eq!(code(record_return(&s, on, unplanned)), expected, "row {i}");
        }
        assert_eq!(
            record_return(&ready, d(5, 2), false).unwrap(),
            ReturnType::Planned
        );
    }

    #[test]
    fn what_a_return_does_to_the_episodes() {
        use ReturnType::{Planned, Unplanned};
        let s = case_in("RETURN_DECISION");
        let mut s20 = s.clone();
        s20.episodes[0].legal_status = "V2".into();
        // (case, return type, ends care, without PR, expected)
        let table = [
            (&s, Planned, true, false, Ok(ReturnEpisode::Ends("E4A"))),
            (&s, Unplanned, true, false, Ok(ReturnEpisode::Ends("E4B"))),
            (&s, Planned, true, true, Ok(ReturnEpisode::Ends("E13"))),
            (&s, Unplanned, true, true, Ok(ReturnEpisode::Ends("E13"))),
            (
                &s,
                Planned,
                false,
                false,
                Ok(ReturnEpisode::PlacedWithParents),
            ),
            (&s, Planned, false, true, Err("Invalid")),
            (&s20, Planned, false, false, Err("Invalid")),
            (&s20, Planned, true, false, Ok(ReturnEpisode::Ends("E4A"))),
        ];
        for (i, (s, t, ends, without, expected)) in table.into_iter().enumerate() {
            let got = return_episode(s, t, ends, without).map_err(|e| match e {
                ApiError::User(u) => format!("{:?}", u[0].code),
                _ => "other".into(),
            });
            assert_eq!(got, expected.map_err(str::to_owned), "row {i}");
        }
    }

    #[test]
    fn an_episode_the_vendor_ends() {
        let mut approved = case_in("RETURN_DECISION");
        approved
            .decisions
            .push(decision("D3", "YES", d(5, 1), 10, "APPROVED"));
        let mut closed = case_in("ASSESSMENT");
        closed.case.status = crate::domain::CaseStatus::Closed;
        // (case, reason, on, expected)
        let table = [
            (&approved, "E4A", d(5, 2), Some(Ok(ReturnType::Planned))),
            // The framework's D3 decides what was planned, not the vendor's code.
            (&approved, "E4B", d(5, 2), Some(Ok(ReturnType::Planned))),
            (&approved, "E13", d(5, 2), Some(Ok(ReturnType::Planned))),
            (&approved, "E4A", d(4, 30), Some(Ok(ReturnType::Unplanned))),
            (
                &case_in("ASSESSMENT"),
                "E4A",
                d(5, 2),
                Some(Ok(ReturnType::Unplanned)),
            ),
            (&case_in("ASSESSMENT"), "E3", d(5, 2), None),
            (&case_in("ASSESSMENT"), "X1", d(5, 2), None),
            (&case_in("RETURN_AND_SUPPORT"), "E4A", d(5, 2), None),
            (&closed, "E4A", d(5, 2), None),
            (&case_in("ASSESSMENT"), "E4B", d(7, 1), Some(Err(()))),
        ];
        for (i, (s, reason, on, expected)) in table.into_iter().enumerate() {
            let got = synced_return(s, reason, on).map(|r| r.map_err(|_| ()));
            assert_eq!(got, expected, "row {i}");
        }
    }

    use chrono::Datelike as _;
}
