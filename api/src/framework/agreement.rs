//! The parental agreement: agreed only with a goal, and with the acceptance of every party with
//! parental responsibility or a recorded reason to proceed without it.

use chrono::NaiveDate;

use super::{CaseSnapshot, process};
use crate::domain::AgreementStatus;
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// Whether the draft may be agreed on `on`; `without_acceptance` is the reason given for
/// proceeding without a party's acceptance, if any.
pub fn agree(
    s: &CaseSnapshot,
    draft: &entities::parental_agreement::Model,
    on: NaiveDate,
    without_acceptance: Option<&str>,
) -> ApiResult<()> {
    process::require_active(s.status()?)?;
    if draft.status != AgreementStatus::Draft.as_str() {
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
        .filter(|a| a.status == AgreementStatus::Active.as_str())
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
        .map(|m| m.relationship.to_lowercase().replace('_', " "))
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
        agreed.agreements[0].status = "ACTIVE".into();
        assert_eq!(code(&agreed, d(3, 1), None), "AlreadyRecorded");
    }

    use chrono::Datelike as _;
}
