//! Batched lookup of a case's outcome.

use crate::many_loader;

many_loader!(/// The outcome row of a case (at most one).
    OutcomeOf, outcome, CaseId, case_id, Id);
