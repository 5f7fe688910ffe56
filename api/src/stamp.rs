//! The who-and-when columns every mutable row carries: `version`, `created_at`, `updated_at`,
//! `created_by`, `updated_by`.

use chrono::Utc;
use sea_orm::{
    ActiveModelBehavior, ActiveModelTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Set,
};

use crate::audit::AuditedWrite as _;
use crate::audit::acting::Acting;
use crate::domain::EventType;
use crate::error::ApiResult;

/// Brings `current` (at `version`) to what `set` gives, writing — version moved on, audited —
/// only the columns that differ, as the domain event `event`; `None` when nothing does (a change
/// to nothing is no change, and no event).
pub async fn update_changed<A>(
    db: &impl ConnectionTrait,
    actor: &Acting,
    current: &<A::Entity as EntityTrait>::Model,
    version: i32,
    event: EventType,
    set: impl FnOnce(&mut A),
) -> ApiResult<Option<<A::Entity as EntityTrait>::Model>>
where
    A: ActiveModelTrait + ActiveModelBehavior + Send + Stamped,
    <A::Entity as EntityTrait>::Model: IntoActiveModel<A> + Clone,
{
    let mut am: A = current.clone().into_active_model();
    set(&mut am);
    crate::audit::unset_unchanged(&mut am, current);
    if crate::audit::set_fields(&am).is_empty() {
        return Ok(None);
    }
    Ok(Some(
        am.changed(actor, version)
            .update_by(db, actor, event)
            .await?,
    ))
}

/// Sets the who-and-when columns of a row being created or changed.
pub trait Stamped: Sized {
    /// A new row: version 1, created and updated now by the actor.
    fn created(self, actor: &Acting) -> Self;
    /// A changed row: the version after `current`, updated now by the actor.
    fn changed(self, actor: &Acting, current: i32) -> Self;
}

macro_rules! stamped {
    ($($table:ident),+ $(,)?) => {
        $(
            impl Stamped for entities::$table::ActiveModel {
                fn created(mut self, actor: &Acting) -> Self {
                    let now = Utc::now();
                    self.version = Set(1);
                    self.created_at = Set(now);
                    self.updated_at = Set(now);
                    self.created_by = Set(Some(actor.actor_id));
                    self.updated_by = Set(Some(actor.actor_id));
                    self
                }
                fn changed(mut self, actor: &Acting, current: i32) -> Self {
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
