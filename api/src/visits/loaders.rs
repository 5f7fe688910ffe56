//! Batched lookups of visits and reviews.

use crate::many_loader;

many_loader!(/// Visits of a case, in order of recording.
    VisitsOf, visit, CaseId, case_id, Id);
many_loader!(/// Reviews of a case, oldest first.
    ReviewsOf, review, CaseId, case_id, HeldOn);
