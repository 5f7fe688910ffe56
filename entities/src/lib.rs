//! SeaORM entities, one module per table, and the vocabulary their columns hold ([`vocabulary`]:
//! stages, statuses and the other closed lists, typed, stored as their text).

pub mod actor;
pub mod agreement_party;
pub mod assessment_factor;
pub mod audit_event;
pub mod care_episode;
pub mod case_event;
pub mod case_fact;
pub mod checklist_item;
pub mod checklist_template_item;
pub mod child;
pub mod child_view;
pub mod decision;
pub mod development_key;
pub mod external_identifier;
pub mod goal;
pub mod goal_review;
pub mod goal_revision;
pub mod household_member;
pub mod idempotency_key;
pub mod local_authority;
pub mod outcome;
pub mod parental_agreement;
pub mod rate_bucket;
pub mod reunification_case;
pub mod review;
pub mod risk_classification;
pub mod stage_progress;
pub mod support_plan;
pub mod support_service;
pub mod visit;
pub mod vocabulary;
pub mod webhook;
pub mod webhook_delivery;

pub mod prelude;
