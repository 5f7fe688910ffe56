//! Batched lookups for cases.

use crate::many_loader;

many_loader!(/// A case by id.
    CaseKey, reunification_case, Id, id, Id);
many_loader!(/// Cases of a child, oldest first.
    CasesOfChild, reunification_case, ChildId, child_id, Id);
