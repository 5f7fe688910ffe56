//! The parental agreement: agreed only with a goal, and with the acceptance of every party with
//! parental responsibility or a recorded reason to proceed without it.

use chrono::NaiveDate;

use super::{CaseSnapshot, process};
use crate::domain::AgreementStatus;
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// A version of the agreement that is still current (a draft or the one in force): work on a
/// superseded version is refused, naming `field`.
pub fn require_current(
    agreement: &entities::parental_agreement::Model,
    field: &str,
) -> ApiResult<()> {
    if agreement.status == AgreementStatus::Superseded {
        Err(ApiError::user(
            UserErrorCode::Invalid,
            &[field],
            "this version of the agreement has been superseded; work on the current version",
        ))
    } else {
        Ok(())
    }
}

/// A new version may be drafted only when no draft is open.
pub fn may_draft(latest: Option<&entities::parental_agreement::Model>) -> ApiResult<()> {
    if latest.is_some_and(|p| p.status == AgreementStatus::Draft) {
        Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["caseId"],
            "a draft version already exists; agree or change it",
        ))
    } else {
        Ok(())
    }
}

/// A party to the agreement holds parental responsibility or lives with the child, and is named
/// once (`earlier`: the members already named); `path` is the party's place in the input.
pub fn check_party(
    member: &entities::household_member::Model,
    earlier: &[i64],
    path: &[&str],
) -> ApiResult<()> {
    let field: Vec<&str> = path.iter().copied().chain(["householdMemberId"]).collect();
    if !member.has_parental_responsibility && !member.lives_with_child {
        return Err(ApiError::user(
            UserErrorCode::Invalid,
            &field,
            "a party holds parental responsibility or lives with the child",
        ));
    }
    if earlier.contains(&member.id) {
        return Err(ApiError::user(
            UserErrorCode::Duplicate,
            &field,
            "this person is already a party",
        ));
    }
    Ok(())
}

/// A goal's target date is not before the case opened (`field` names it in the input).
pub fn check_target(target: NaiveDate, opened_on: NaiveDate, field: &str) -> ApiResult<()> {
    if target < opened_on {
        Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &[field],
            "the target date precedes the case",
        ))
    } else {
        Ok(())
    }
}

/// A goal for a person is for a party to its agreement version.
pub fn check_goal_member(is_party: bool) -> ApiResult<()> {
    if is_party {
        Ok(())
    } else {
        Err(ApiError::user(
            UserErrorCode::Invalid,
            &["householdMemberId"],
            "a goal is for a parent or carer who is a party to this agreement",
        ))
    }
}

/// Whether the draft may be agreed on `on`; `without_acceptance` is the reason given for
/// proceeding without a party's acceptance, if any.
pub fn agree(
    s: &CaseSnapshot,
    draft: &entities::parental_agreement::Model,
    on: NaiveDate,
    without_acceptance: Option<&str>,
) -> ApiResult<()> {
    process::require_active(s.status())?;
    if draft.status != AgreementStatus::Draft {
        return Err(ApiError::user(
            UserErrorCode::AlreadyRecorded,
            &["agreementId"],
            "only a draft can be agreed",
        ));
    }
    process::date_within(on, s.case.opened_on, s.today, "agreedOn", "the case")?;
    if let Some(since) = s
        .agreements
        .iter()
        .filter(|a| a.status == AgreementStatus::Active)
        .filter_map(|a| a.agreed_on)
        .max()
        && on < since
    {
        return Err(ApiError::user(
            UserErrorCode::InvalidDate,
            &["agreedOn"],
            format!("the version in force was agreed on {since}; a new one cannot precede it"),
        ));
    }
    if s.goals_of(draft.id).next().is_none() {
        return Err(ApiError::user(
            UserErrorCode::AgreementRequired,
            &["agreementId"],
            "an agreement needs at least one goal",
        ));
    }
    let missing: Vec<String> = s
        .parties_of(draft.id)
        .filter(|p| p.accepted_on.is_none_or(|a| a > on))
        .filter_map(|p| s.member(p.household_member_id))
        .filter(|m| m.has_parental_responsibility)
        .map(|m| m.relationship.as_str().to_lowercase().replace('_', " "))
        .collect();
    if !missing.is_empty() && without_acceptance.is_none() {
        return Err(ApiError::user(
            UserErrorCode::AcceptanceRequired,
            &["agreementId"],
            format!(
                "not yet accepted by every party with parental responsibility ({}): record their acceptance (agreementPartyAccept) or give withoutAcceptanceReason",
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Where a party that a case-management system sends goes (its strengths and concerns `None`
/// when not sent): the open draft when there is one; else the version in force, while it names
/// the person with what was sent; else a new draft (a changed agreement is a new version, agreed
/// again), carrying over the version in force's parties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncedParty {
    /// The open draft (named there, or added to it).
    Draft,
    /// The version in force, which already names the person as sent (acceptance may be recorded).
    InForce,
    /// A new draft version.
    NewDraft,
}

/// [`SyncedParty`] for a draft being open (or not) and the person's party on the version in
/// force (if named there), given the strengths and concerns sent.
pub fn synced_party(
    draft_open: bool,
    in_force: Option<&entities::agreement_party::Model>,
    strengths: Option<&str>,
    concerns: Option<&str>,
) -> SyncedParty {
    let same = |sent: Option<&str>, held: &str| sent.is_none_or(|s| s == held);
    match in_force {
        _ if draft_open => SyncedParty::Draft,
        Some(p) if same(strengths, &p.strengths) && same(concerns, &p.concerns) => {
            SyncedParty::InForce
        }
        _ => SyncedParty::NewDraft,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::fixture::*;

    #[test]
    fn agreeing_needs_goals_and_acceptance() {
        let base = || {
            let mut s = case_in("GOALS_AND_SERVICES");
            s.agreements.push(agreement("DRAFT"));
            s.goals.push(goal(1, "ACTIVE", None, None, None));
            s.household.push(row(serde_json::json!({
                "id": 6, "child_id": 1, "relationship": "STEP_PARENT", "label": null,
                "has_parental_responsibility": false, "lives_with_child": true,
            })));
            s
        };
        let code = |s: &CaseSnapshot, on, reason| code(agree(s, &s.agreements[0], on, reason));
        let accepted = |mut s: CaseSnapshot, on| {
            s.parties.push(party(5, Some(on)));
            s.parties.push(party(6, None));
            s
        };
        let unaccepted = |mut s: CaseSnapshot| {
            s.parties.push(party(5, None));
            s
        };
        let no_goals = |mut s: CaseSnapshot| {
            s.goals.clear();
            s
        };
        // (case, on, reason, expected): the step-parent has no parental responsibility.
        let table = [
            (accepted(base(), d(3, 1)), d(3, 1), None, "ok"),
            (
                accepted(base(), d(3, 2)),
                d(3, 1),
                None,
                "AcceptanceRequired",
            ),
            (unaccepted(base()), d(3, 1), None, "AcceptanceRequired"),
            (
                unaccepted(base()),
                d(3, 1),
                Some("Mother in hospital; agreed by phone."),
                "ok",
            ),
            (
                no_goals(accepted(base(), d(3, 1))),
                d(3, 1),
                None,
                "AgreementRequired",
            ),
            (accepted(base(), d(3, 1)), d(6, 2), None, "InvalidDate"),
            (
                accepted(base(), d(3, 1)),
                d(12, 1).with_year(2025).unwrap(),
                None,
                "InvalidDate",
            ),
        ];
        for (i, (s, on, reason, expected)) in table.into_iter().enumerate() {
            assert_eq!(code(&s, on, reason), expected, "row {i}");
        }
        let mut agreed = accepted(base(), d(3, 1));
        agreed.agreements[0].status = crate::domain::AgreementStatus::Active;
        assert_eq!(code(&agreed, d(3, 1), None), "AlreadyRecorded");
    }

    #[test]
    fn drafting_parties_and_goals() {
        let mother = case_in("GOALS_AND_SERVICES").household[0].clone();
        let mut neighbour = mother.clone();
        neighbour.id = 9;
        neighbour.has_parental_responsibility = false;
        neighbour.lives_with_child = false;
        let mut partner = neighbour.clone();
        partner.lives_with_child = true;
        // (member, named before, expected)
        let table = [
            (mother.clone(), vec![], "ok"),
            (partner, vec![5], "ok"),
            (neighbour, vec![], "Invalid"),
            (mother, vec![5], "Duplicate"),
        ];
        for (i, (m, earlier, expected)) in table.into_iter().enumerate() {
            assert_eq!(
                code(check_party(&m, &earlier, &["parties", "0"])),
                expected,
                "row {i}"
            );
        }
        let (draft, active, old) = (
            agreement("DRAFT"),
            agreement("ACTIVE"),
            agreement("SUPERSEDED"),
        );
        assert_eq!(code(may_draft(None)), "ok");
        assert_eq!(code(may_draft(Some(&active))), "ok");
        assert_eq!(code(may_draft(Some(&draft))), "AlreadyRecorded");
        assert_eq!(code(require_current(&draft, "agreementId")), "ok");
        assert_eq!(code(require_current(&active, "agreementId")), "ok");
        assert_eq!(code(require_current(&old, "goalId")), "Invalid");
        assert_eq!(code(check_target(d(1, 1), d(1, 1), "targetDate")), "ok");
        assert_eq!(
            code(check_target(d(1, 1), d(1, 2), "targetDate")),
            "InvalidDate"
        );
        assert_eq!(code(check_goal_member(true)), "ok");
        assert_eq!(code(check_goal_member(false)), "Invalid");
    }

    #[test]
    fn where_a_synced_party_goes() {
        let mut named = party(5, None);
        named.strengths = "Warm".into();
        // (draft open, named in force, strengths sent, concerns sent, expected)
        let table = [
            (true, Some(&named), Some("Other"), None, SyncedParty::Draft),
            (true, None, None, None, SyncedParty::Draft),
            (false, Some(&named), None, None, SyncedParty::InForce),
            (
                false,
                Some(&named),
                Some("Warm"),
                Some("C."),
                SyncedParty::InForce,
            ),
            (
                false,
                Some(&named),
                Some("Warmer"),
                None,
                SyncedParty::NewDraft,
            ),
            (
                false,
                Some(&named),
                None,
                Some("Drinks"),
                SyncedParty::NewDraft,
            ),
            (false, None, None, None, SyncedParty::NewDraft),
        ];
        for (i, (draft, in_force, strengths, concerns, expected)) in table.into_iter().enumerate() {
            assert_eq!(
                synced_party(draft, in_force, strengths, concerns),
                expected,
                "row {i}"
            );
        }
    }

    use chrono::Datelike as _;
}
