//! The rule table for people: each rule of the framework as Reunify enforces it — the stage, the
//! mutation, what it needs, the code when refused, and who may take it. `reunify rules` prints it
//! as Markdown; the README's process section is that output (a test fails when they drift).

use super::roles::Act;
use crate::auth::Role;

/// One row of the rule table.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// The stage it applies in (`any` for all).
    pub stage: &'static str,
    /// The mutation (and the case of it).
    pub action: &'static str,
    /// What it needs, in words, naming the LA settings that adjust it.
    pub needs: &'static str,
    /// The codes it is refused with (user errors, or `FORBIDDEN` for the role).
    pub codes: &'static [&'static str],
    /// The framework step only some roles take; `None`: anyone who changes records.
    pub who: Option<Act>,
}

/// The rules, in the order of the process.
pub const RULES: &[Rule] = &[
    Rule {
        stage: "any",
        action: "every dated record (decision, classification, sign-off, agreement, review, visit, return, closure)",
        needs: "not in the future, and not before the stage or case it belongs to",
        codes: &["INVALID_DATE"],
        who: None,
    },
    Rule {
        stage: "any",
        action: "`checklistItemComplete` (by `itemId`, or by `caseId`, `stage` and `key`)",
        needs: "an active case; an action a record proves (`derivedFrom`: the child's views, parents and household assessed, agreement in force, services, goals reviewed, contingency plan, trusted adult, a looked-after review, support package, child seen alone, plan reviewed, the case opened) completes itself from that record and is not ticked by hand; a required action of a stage the case has left stays done",
        codes: &["CASE_CLOSED", "DERIVED_FROM_RECORD", "WRONG_STAGE"],
        who: None,
    },
    Rule {
        stage: "–",
        action: "`caseOpen`",
        needs: "the child's episode of care is open and began by the opening date; no other active case for the child (the case is the child's next attempt)",
        codes: &["INVALID", "INVALID_DATE", "DUPLICATE"],
        who: None,
    },
    Rule {
        stage: "`IDENTIFICATION`",
        action: "`decisionRecord` D1",
        needs: "yes: the stage's required actions; no: the alternative permanence plan (Annex A, not a return home) and the case closes as not pursued; deferred: the case stays",
        codes: &[
            "FORBIDDEN",
            "CHECKLIST_INCOMPLETE",
            "ALTERNATIVE_PLAN_REQUIRED",
            "INVALID_CODE",
        ],
        who: Some(Act::RecordDecision),
    },
    Rule {
        stage: "`ASSESSMENT`, `RETURN_DECISION`, `RETURN_AND_SUPPORT`",
        action: "`riskClassificationPropose` RC1, RC2, RC3",
        needs: "the classification's own stage; once agreed, not again",
        codes: &["FORBIDDEN", "WRONG_STAGE", "ALREADY_RECORDED"],
        who: Some(Act::ProposeClassification),
    },
    Rule {
        stage: "`ASSESSMENT`, `RETURN_DECISION`, `RETURN_AND_SUPPORT`",
        action: "`riskClassificationAgree`",
        needs: "four eyes: someone other than the proposer; the case takes the level",
        codes: &["FORBIDDEN", "FOUR_EYES", "ALREADY_RECORDED"],
        who: Some(Act::AgreeClassification),
    },
    Rule {
        stage: "`ASSESSMENT`",
        action: "`assessmentSignOff`",
        needs: "the stage's required actions; once",
        codes: &["FORBIDDEN", "CHECKLIST_INCOMPLETE", "ALREADY_RECORDED"],
        who: Some(Act::SignOffAssessment),
    },
    Rule {
        stage: "`ASSESSMENT`",
        action: "`decisionRecord` D2",
        needs: "an agreed RC1; yes or no: the assessment signed off; yes: the stage's required actions",
        codes: &[
            "FORBIDDEN",
            "RISK_CLASSIFICATION_REQUIRED",
            "SIGN_OFF_REQUIRED",
            "CHECKLIST_INCOMPLETE",
        ],
        who: Some(Act::RecordDecision),
    },
    Rule {
        stage: "`GOALS_AND_SERVICES` on",
        action: "`agreementPartyUpsert` / `bulkImport` / `/imports` (a party as the case-management system holds it)",
        needs: "a parent or carer with parental responsibility or living with the child; goes to the open draft (named or added); else to the version in force when it names them as sent (a signature recorded, never withdrawn); else a new draft carrying over the version in force's parties, to be agreed again",
        codes: &["WRONG_STAGE", "INVALID", "INVALID_DATE"],
        who: None,
    },
    Rule {
        stage: "`GOALS_AND_SERVICES` on",
        action: "`agreementAgree`",
        needs: "a draft with a goal; accepted by every party with parental responsibility (`agreementPartyAccept`), or `withoutAcceptanceReason`",
        codes: &[
            "AGREEMENT_REQUIRED",
            "ACCEPTANCE_REQUIRED",
            "ALREADY_RECORDED",
        ],
        who: None,
    },
    Rule {
        stage: "`GOALS_AND_SERVICES` on",
        action: "`goalRevise` to MET",
        needs: "a green review behind it",
        codes: &["GOALS_NOT_SUSTAINED"],
        who: None,
    },
    Rule {
        stage: "`GOALS_AND_SERVICES`",
        action: "`goalsStageComplete`",
        needs: "an agreement in force with a goal; every goal reviewed and met, or green for the LA's `goalSustainedWeeks` (12); the stage's required actions",
        codes: &[
            "AGREEMENT_REQUIRED",
            "GOALS_NOT_SUSTAINED",
            "CHECKLIST_INCOMPLETE",
        ],
        who: None,
    },
    Rule {
        stage: "`RETURN_DECISION`",
        action: "`decisionRecord` D3 = yes",
        needs: "an agreed RC2; the stage's required actions; goals met and sustained as above; the LA's sustained-risk policy (`sustainedRiskMonths`, off by default: after a High in any attempt, counted from sustained change); once. Awaits approval when the child has been looked after `d3ApprovalWorkingDays` (20, the statutory most) or more",
        codes: &[
            "FORBIDDEN",
            "RISK_CLASSIFICATION_REQUIRED",
            "CHECKLIST_INCOMPLETE",
            "GOALS_NOT_SUSTAINED",
            "AGREEMENT_REQUIRED",
            "RISK_NOT_SUSTAINED",
            "ALREADY_RECORDED",
        ],
        who: Some(Act::RecordDecision),
    },
    Rule {
        stage: "`RETURN_DECISION`",
        action: "`decisionRecord` D3 = no",
        needs: "an agreed RC2; the alternative permanence plan; the case closes as not pursued",
        codes: &[
            "FORBIDDEN",
            "RISK_CLASSIFICATION_REQUIRED",
            "ALTERNATIVE_PLAN_REQUIRED",
        ],
        who: Some(Act::RecordDecision),
    },
    Rule {
        stage: "`RETURN_DECISION`",
        action: "`decisionApprove`",
        needs: "a decision awaiting approval; four eyes: not its recorder (a nominated officer who recorded D3 included)",
        codes: &["FORBIDDEN", "FOUR_EYES", "APPROVAL_REQUIRED"],
        who: Some(Act::ApproveD3),
    },
    Rule {
        stage: "`RETURN_DECISION`",
        action: "`returnRecord` (planned, E4A)",
        needs: "D3 = yes, approved where it must be; not before D3",
        codes: &["DECISION_REQUIRED", "WRONG_STAGE"],
        who: None,
    },
    Rule {
        stage: "before `RETURN_AND_SUPPORT`",
        action: "`returnRecord` unplanned (E4B)",
        needs: "nothing more: the case enters stage 4 flagged unplanned",
        codes: &["ALREADY_RECORDED"],
        who: None,
    },
    Rule {
        stage: "before `RETURN_AND_SUPPORT`",
        action: "`returnRecord` to relatives or friends without parental responsibility (`withoutParentalResponsibility`, E13), or placed with parents (`endsCare: false`)",
        needs: "E13 ends care; placed with parents keeps the child looked after — the episode ends X1 (`CARPL`) and a P1 episode (`RNE` P, `PR0`) begins that day, which the case follows — and needs a care order (not section 20) and no E13",
        codes: &["INVALID"],
        who: None,
    },
    Rule {
        stage: "before `RETURN_AND_SUPPORT`",
        action: "`episodeUpsert` / `bulkImport` / `/imports` ending the case's episode E4A, E4B or E13",
        needs: "records the return as `returnRecord` would — planned where an approved D3 = yes allows it, unplanned otherwise — and keeps the episode as sent; an end the case cannot take (before it opened) refuses the upsert, naming `endedOn`",
        codes: &["INVALID_DATE"],
        who: None,
    },
    Rule {
        stage: "`RETURN_AND_SUPPORT`",
        action: "`caseClose` STABLE_AT_HOME",
        needs: "the stage's required actions; an agreed RC3; services (active or ended) covering the LA's `supportMonths` (6) after the return — or a team manager's `overrideReason`",
        codes: &[
            "CHECKLIST_INCOMPLETE",
            "RISK_CLASSIFICATION_REQUIRED",
            "SUPPORT_INCOMPLETE",
        ],
        who: None,
    },
    Rule {
        stage: "`RETURN_AND_SUPPORT`",
        action: "`caseClose` STABLE_AT_HOME with `overrideReason`",
        needs: "the reason, recorded on the closure",
        codes: &["FORBIDDEN"],
        who: Some(Act::OverrideStableClosure),
    },
    Rule {
        stage: "`RETURN_AND_SUPPORT`",
        action: "`caseClose` BROKE_DOWN",
        needs: "the date the child re-entered care, on or after the return: taken from the care episodes when the return ended one and a later one began (a date they contradict is refused)",
        codes: &["OUTCOME_REQUIRED", "INVALID_DATE", "CONTRADICTS_RECORDS"],
        who: None,
    },
    Rule {
        stage: "after the return, closed or not",
        action: "`outcomeFollowUp`",
        needs: "each answer once its time has come; at home at 3/6/12 months and the re-entry come from the care episodes where the return ended one, and an answer they contradict is refused",
        codes: &["WRONG_STAGE", "INVALID_DATE", "CONTRADICTS_RECORDS"],
        who: None,
    },
    Rule {
        stage: "before `RETURN_AND_SUPPORT`",
        action: "`caseClose` NOT_PURSUED",
        needs: "the alternative permanence plan",
        codes: &["ALTERNATIVE_PLAN_REQUIRED", "WRONG_STAGE"],
        who: None,
    },
    Rule {
        stage: "any",
        action: "`caseClose` REACHED_18",
        needs: "the child is 18 on the closing date",
        codes: &["INVALID_DATE"],
        who: None,
    },
    Rule {
        stage: "any",
        action: "`caseClose` MOVED_LA, OTHER",
        needs: "the reason in words (`rationale`)",
        codes: &["OUTCOME_REQUIRED"],
        who: None,
    },
];

fn role_name(r: Role) -> &'static str {
    match r {
        Role::SocialWorker => "social worker",
        Role::TeamManager => "team manager",
        Role::NominatedOfficer => "nominated officer",
        Role::Iro => "IRO",
        Role::FamilySupport => "family-support worker",
        Role::DataAnalyst => "data analyst",
        Role::LaAdmin => "LA administrator",
        Role::VendorSystem => "vendor system",
    }
}

/// The table as Markdown (what `reunify rules` prints).
pub fn markdown() -> String {
    let mut out =
        String::from("| Stage | Action | Needs | Refused with | Who |\n|---|---|---|---|---|\n");
    for r in RULES {
        let who = match r.who {
            Some(act) => act
                .roles()
                .iter()
                .map(|r| role_name(*r))
                .collect::<Vec<_>>()
                .join(", "),
            None => "anyone who changes records".to_owned(),
        };
        let codes = r
            .codes
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.stage, r.action, r.needs, codes, who
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UserErrorCode;
    use async_graphql::{InputType as _, Name, Value};

    #[test]
    fn every_code_is_a_real_one() {
        for r in RULES {
            for code in r.codes {
                if *code == "FORBIDDEN" {
                    assert!(
                        r.who.is_some(),
                        "{}: FORBIDDEN without a role rule",
                        r.action
                    );
                    continue;
                }
                assert!(
                    UserErrorCode::parse(Some(Value::Enum(Name::new(code)))).is_ok(),
                    "{}: {code} is not a user error code",
                    r.action
                );
            }
        }
        for act in Act::ALL {
            assert!(
                RULES.iter().any(|r| r.who == Some(*act)),
                "{act:?} has no row"
            );
        }
    }

    #[test]
    fn the_readme_shows_the_rules() {
        let readme = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"));
        let start = "<!-- reunify rules: start -->\n";
        let end = "<!-- reunify rules: end -->";
        let shown = readme
            .split_once(start)
            .and_then(|(_, rest)| rest.split_once(end))
            .map(|(table, _)| table);
        assert_eq!(
            shown,
            Some(markdown().as_str()),
            "README.md's process section is stale: replace it with `reunify rules`"
        );
    }
}
