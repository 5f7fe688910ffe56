//! Who may take the framework's own steps. A role outside the list is refused with the top-level
//! `FORBIDDEN` (API.md: who may act is authorisation); what the records say is a user error.
//! Reading, and changing records in general, are gated by scopes in [`crate::auth`]; these are the
//! framework's judgements on top.

use crate::auth::Role;
use crate::error::{ApiError, ApiResult};

/// A step of the framework that only some roles take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    /// Record D1, D2 or D3 (DOMAIN.md: decided by the social worker and team manager, approved by
    /// the nominated officer; not a family-support worker, an administrator or a machine).
    RecordDecision,
    /// Propose a risk classification.
    ProposeClassification,
    /// Agree a risk classification.
    AgreeClassification,
    /// Sign off the Return Home Assessment.
    SignOffAssessment,
    /// Approve D3 when the child has been looked after for the LA's threshold or longer.
    ApproveD3,
    /// Close a case as stable at home without RC3 or the full support, with a recorded reason.
    OverrideStableClosure,
}

impl Act {
    /// Every act, in the order the rule table shows them.
    pub const ALL: &'static [Act] = &[
        Act::RecordDecision,
        Act::ProposeClassification,
        Act::AgreeClassification,
        Act::SignOffAssessment,
        Act::ApproveD3,
        Act::OverrideStableClosure,
    ];

    /// The roles that may take this step.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Act::RecordDecision | Act::ProposeClassification => {
                &[SocialWorker, TeamManager, NominatedOfficer]
            }
            Act::AgreeClassification | Act::SignOffAssessment | Act::OverrideStableClosure => {
                &[TeamManager, NominatedOfficer]
            }
            Act::ApproveD3 => &[NominatedOfficer],
        }
    }

    /// What the refusal says.
    fn refusal(self) -> &'static str {
        match self {
            Act::RecordDecision => {
                "only a social worker, team manager or nominated officer records a decision"
            }
            Act::ProposeClassification => {
                "only a social worker, team manager or nominated officer proposes a risk classification"
            }
            Act::AgreeClassification => {
                "only a team manager or nominated officer agrees a risk classification"
            }
            Act::SignOffAssessment => {
                "only a team manager or nominated officer signs off an assessment"
            }
            Act::ApproveD3 => "only a nominated officer approves this decision",
            Act::OverrideStableClosure => {
                "only a team manager or nominated officer may close as stable without RC3 or the full support"
            }
        }
    }
}

/// Whether a caller holding `roles` may take the step.
pub fn may(act: Act, roles: &[Role]) -> bool {
    act.roles().iter().any(|r| roles.contains(r))
}

/// `FORBIDDEN` unless a caller holding `roles` may take the step.
pub fn require(act: Act, roles: &[Role]) -> ApiResult<()> {
    if may(act, roles) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(act.refusal().into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Role::*;

    #[test]
    fn who_may_do_what() {
        // (act, role, may)
        let table = [
            (Act::RecordDecision, SocialWorker, true),
            (Act::RecordDecision, TeamManager, true),
            (Act::RecordDecision, NominatedOfficer, true),
            (Act::RecordDecision, FamilySupport, false),
            (Act::RecordDecision, VendorSystem, false),
            (Act::RecordDecision, LaAdmin, false),
            (Act::RecordDecision, Iro, false),
            (Act::ProposeClassification, SocialWorker, true),
            (Act::ProposeClassification, FamilySupport, false),
            (Act::AgreeClassification, SocialWorker, false),
            (Act::AgreeClassification, TeamManager, true),
            (Act::AgreeClassification, NominatedOfficer, true),
            (Act::SignOffAssessment, SocialWorker, false),
            (Act::SignOffAssessment, TeamManager, true),
            (Act::ApproveD3, TeamManager, false),
            (Act::ApproveD3, NominatedOfficer, true),
            (Act::OverrideStableClosure, SocialWorker, false),
            (Act::OverrideStableClosure, TeamManager, true),
        ];
        for (act, role, expected) in table {
            assert_eq!(may(act, &[role]), expected, "{act:?} by {role:?}");
            assert_eq!(
                require(act, &[role]).is_ok(),
                expected,
                "{act:?} by {role:?}"
            );
        }
        // Any one of several roles is enough.
        assert!(may(Act::ApproveD3, &[SocialWorker, NominatedOfficer]));
        assert!(!may(Act::ApproveD3, &[]));
    }
}
