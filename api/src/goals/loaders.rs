//! Batched lookups of agreements, parties, goals, reviews and revisions.

use crate::many_loader;

many_loader!(/// Agreement versions of a case, oldest first.
    AgreementsOf, parental_agreement, CaseId, case_id, Number);
many_loader!(/// Parties of an agreement.
    PartiesOf, agreement_party, AgreementId, agreement_id, Id);
many_loader!(/// Goals of an agreement.
    GoalsOfAgreement, goal, AgreementId, agreement_id, Id);
many_loader!(/// Goals of a case (of every agreement version).
    GoalsOfCase, goal, CaseId, case_id, Id);
many_loader!(/// Reviews of a goal, oldest first.
    ReviewsOfGoal, goal_review, GoalId, goal_id, ReviewedOn);
many_loader!(/// Revisions of a goal, oldest first.
    RevisionsOfGoal, goal_revision, GoalId, goal_id, Id);
