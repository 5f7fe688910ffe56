//! Batched lookups for cases and actors.

use crate::many_loader;

many_loader!(/// A case by id.
    CaseKey, reunification_case, Id, id, Id);
many_loader!(/// Cases of a child, oldest first.
    CasesOfChild, reunification_case, ChildId, child_id, Id);
many_loader!(/// An actor by id.
    ActorKey, actor, Id, id, Id);
