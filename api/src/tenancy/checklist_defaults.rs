//! The framework's practice actions per stage, given to every new LA as its starting checklist.

use crate::domain::Stage;

/// (stage, key, label, required) for every default practice action, in order.
pub const DEFAULT_CHECKLIST: &[(Stage, &str, &str, bool)] = &[
    (
        Stage::Identification,
        "return_considered",
        "Return home identified as a possible plan for the child",
        true,
    ),
    (
        Stage::Identification,
        "parents_informed",
        "Parents told that a return home is being considered",
        false,
    ),
    (
        Stage::Assessment,
        "documents_gathered",
        "Relevant documents and history gathered",
        false,
    ),
    (
        Stage::Assessment,
        "analytical_chronology",
        "Analytical chronology completed",
        true,
    ),
    (
        Stage::Assessment,
        "childs_views_recorded",
        "Child's wishes and feelings recorded",
        true,
    ),
    (
        Stage::Assessment,
        "parents_assessed",
        "Each parent assessed, including capacity to change",
        true,
    ),
    (
        Stage::Assessment,
        "household_assessed",
        "Every household member assessed (new partners and siblings included)",
        true,
    ),
    (
        Stage::Assessment,
        "network_assessed",
        "Family network assessed",
        false,
    ),
    (
        Stage::Assessment,
        "agencies_consulted",
        "Other agencies consulted (adult services included)",
        false,
    ),
    (
        Stage::GoalsAndServices,
        "agreement_written",
        "Parental agreement written with goals for each parent",
        true,
    ),
    (
        Stage::GoalsAndServices,
        "services_in_place",
        "Services put in place for the child and family",
        true,
    ),
    (
        Stage::GoalsAndServices,
        "progress_reviewed",
        "Progress on each goal reviewed (red/amber/green)",
        false,
    ),
    (
        Stage::ReturnDecision,
        "reunification_plan",
        "Reunification plan agreed: transition steps, support and key timescales",
        true,
    ),
    (
        Stage::ReturnDecision,
        "contingency_plan",
        "Contingency plan agreed",
        true,
    ),
    (
        Stage::ReturnDecision,
        "trusted_adult",
        "Trusted adult for the child identified",
        true,
    ),
    (
        Stage::ReturnDecision,
        "iro_consulted",
        "IRO or looked-after review consulted",
        false,
    ),
    (
        Stage::ReturnDecision,
        "panel_consulted",
        "Permanence panel consulted where required",
        false,
    ),
    (
        Stage::ReturnAndSupport,
        "support_package",
        "Support package in place for at least 6 months",
        true,
    ),
    (
        Stage::ReturnAndSupport,
        "child_seen_alone",
        "Child seen alone on visits",
        false,
    ),
    (
        Stage::ReturnAndSupport,
        "plan_reviewed",
        "Plan reviewed after return",
        false,
    ),
    (
        Stage::ReturnAndSupport,
        "outcome_tools_rerun",
        "Outcome tools re-run at 6 months",
        false,
    ),
];
