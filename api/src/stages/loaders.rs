//! Batched lookups of a case's stages, checklist, decisions and classifications.

use crate::many_loader;

many_loader!(/// Stage progress rows of a case, in order of entry.
    StagesOf, stage_progress, CaseId, case_id, Id);
many_loader!(/// Checklist items of a case, in template order.
    ChecklistOf, checklist_item, CaseId, case_id, Position);
many_loader!(/// Decisions of a case, in order of recording.
    DecisionsOf, decision, CaseId, case_id, Id);
many_loader!(/// Risk classifications of a case, in order of recording.
    ClassificationsOf, risk_classification, CaseId, case_id, Id);
