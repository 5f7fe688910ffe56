//! Every table's `Entity`, named after the table: `use entities::prelude::*;`.

pub use super::actor::Entity as Actor;
pub use super::agreement_party::Entity as AgreementParty;
pub use super::assessment_factor::Entity as AssessmentFactor;
pub use super::audit_event::Entity as AuditEvent;
pub use super::care_episode::Entity as CareEpisode;
pub use super::checklist_item::Entity as ChecklistItem;
pub use super::checklist_template_item::Entity as ChecklistTemplateItem;
pub use super::child::Entity as Child;
pub use super::child_view::Entity as ChildView;
pub use super::decision::Entity as Decision;
pub use super::development_key::Entity as DevelopmentKey;
pub use super::external_identifier::Entity as ExternalIdentifier;
pub use super::goal::Entity as Goal;
pub use super::goal_review::Entity as GoalReview;
pub use super::goal_revision::Entity as GoalRevision;
pub use super::household_member::Entity as HouseholdMember;
pub use super::local_authority::Entity as LocalAuthority;
pub use super::outcome::Entity as Outcome;
pub use super::parental_agreement::Entity as ParentalAgreement;
pub use super::reunification_case::Entity as ReunificationCase;
pub use super::review::Entity as Review;
pub use super::risk_classification::Entity as RiskClassification;
pub use super::stage_progress::Entity as StageProgress;
pub use super::support_plan::Entity as SupportPlan;
pub use super::support_service::Entity as SupportService;
pub use super::visit::Entity as Visit;
