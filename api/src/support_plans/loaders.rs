//! Batched lookups of support plans and services.

use crate::many_loader;

many_loader!(/// The support plan of a case (at most one).
    SupportPlanOf, support_plan, CaseId, case_id, Id);
many_loader!(/// Services of a case, by start date.
    ServicesOf, support_service, CaseId, case_id, StartsOn);
