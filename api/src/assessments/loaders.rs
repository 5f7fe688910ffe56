//! Batched lookups of a case's factors and the child's views.

use crate::many_loader;

many_loader!(/// Risk and protective factors of a case.
    FactorsOf, assessment_factor, CaseId, case_id, Id);
many_loader!(/// Records of the child's views, oldest first.
    ChildViewsOf, child_view, CaseId, case_id, RecordedOn);
