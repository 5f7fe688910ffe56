//! The caller's LA, loaded once per request (for its settings, such as risk-level labels).

use std::collections::HashMap;

use crate::loaders::{Batch, DbLoader};
use crate::many_loader;

many_loader!(/// An actor by id.
    ActorKey, actor, Id, id, Id);

/// The caller's LA.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct CallerLa;

impl async_graphql::dataloader::Loader<CallerLa> for DbLoader {
    type Value = entities::local_authority::Model;
    type Error = crate::loaders::LoadError;

    async fn load(&self, _: &[CallerLa]) -> Batch<CallerLa, Self::Value> {
        use sea_orm::EntityTrait;
        let la = entities::local_authority::Entity::find_by_id(self.la_id)
            .one(self.db.as_ref())
            .await?;
        Ok(la
            .map(|la| HashMap::from([(CallerLa, la)]))
            .unwrap_or_default())
    }
}

/// The caller's LA's label for a risk level.
pub async fn risk_label(
    ctx: &async_graphql::Context<'_>,
    level: crate::domain::RiskLevel,
) -> async_graphql::Result<String> {
    use crate::context::ContextExt;
    let la = ctx
        .loaders()?
        .db
        .load_one(CallerLa)
        .await
        .map_err(crate::error::ApiError::from)?;
    let labels = la
        .map(|la| super::service::settings(&la).risk_level_labels)
        .unwrap_or_default();
    Ok(labels
        .get((level.rank() - 1) as usize)
        .cloned()
        .unwrap_or_default())
}
