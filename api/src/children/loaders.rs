//! Batched lookups for children, episodes, household members and external identifiers.

use crate::many_loader;

many_loader!(/// A child by id.
    ChildKey, child, Id, id, Id);
many_loader!(/// A care episode by id.
    EpisodeKey, care_episode, Id, id, Id);
many_loader!(/// Household members of a child.
    HouseholdOf, household_member, ChildId, child_id, Id);
many_loader!(/// Episodes of a child, oldest first.
    EpisodesOf, care_episode, ChildId, child_id, StartedOn);
many_loader!(/// A household member by id.
    MemberKey, household_member, Id, id, Id);

/// External identifiers of a record: its `owner_kind` (one of the service's `*_OWNER`) and id.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExternalIdsOf(pub &'static str, pub i64);

impl async_graphql::dataloader::Loader<ExternalIdsOf> for crate::loaders::DbLoader {
    type Value = Vec<entities::external_identifier::Model>;
    type Error = crate::loaders::LoadError;

    async fn load(
        &self,
        keys: &[ExternalIdsOf],
    ) -> crate::loaders::Batch<ExternalIdsOf, Self::Value> {
        use entities::external_identifier::{Column, Entity};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let kinds = [
            super::service::CHILD_OWNER,
            super::service::EPISODE_OWNER,
            super::service::CASE_OWNER,
        ];
        let rows = Entity::find()
            .filter(Column::LaId.eq(self.la_id))
            .filter(Column::OwnerKind.is_in(keys.iter().map(|k| k.0)))
            .filter(Column::OwnerId.is_in(keys.iter().map(|k| k.1)))
            .order_by_asc(Column::Id)
            .all(self.db.as_ref())
            .await?;
        let mut by_owner = std::collections::HashMap::<_, Vec<_>>::new();
        for row in rows {
            if let Some(kind) = kinds.into_iter().find(|k| *k == row.owner_kind) {
                by_owner
                    .entry(ExternalIdsOf(kind, row.owner_id))
                    .or_default()
                    .push(row);
            }
        }
        Ok(by_owner)
    }
}
