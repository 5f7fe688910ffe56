//! The who-and-when columns every mutable row carries: `version`, `created_at`, `updated_at`,
//! `created_by`, `updated_by`.

use chrono::Utc;
use sea_orm::Set;

use crate::auth::Actor;

/// Sets the who-and-when columns of a row being created or changed.
pub trait Stamped: Sized {
    /// A new row: version 1, created and updated now by the actor.
    fn created(self, actor: &Actor) -> Self;
    /// A changed row: the version after `current`, updated now by the actor.
    fn changed(self, actor: &Actor, current: i32) -> Self;
}

macro_rules! stamped {
    ($($table:ident),+ $(,)?) => {
        $(
            impl Stamped for entities::$table::ActiveModel {
                fn created(mut self, actor: &Actor) -> Self {
                    let now = Utc::now();
                    self.version = Set(1);
                    self.created_at = Set(now);
                    self.updated_at = Set(now);
                    self.created_by = Set(Some(actor.actor_id));
                    self.updated_by = Set(Some(actor.actor_id));
                    self
                }
                fn changed(mut self, actor: &Actor, current: i32) -> Self {
                    self.version = Set(current + 1);
                    self.updated_at = Set(Utc::now());
                    self.updated_by = Set(Some(actor.actor_id));
                    self
                }
            }
        )+
    };
}

stamped!(
    child,
    household_member,
    care_episode,
    reunification_case,
    checklist_template_item,
    checklist_item,
    decision,
    risk_classification,
    assessment_factor,
    child_view,
    parental_agreement,
    agreement_party,
    goal,
    support_plan,
    support_service,
    visit,
    review,
    outcome,
    webhook,
);
