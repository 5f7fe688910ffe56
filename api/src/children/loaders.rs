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

/// External identifiers of a child.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExternalIdsOfChild(pub i64);

impl async_graphql::dataloader::Loader<ExternalIdsOfChild> for crate::loaders::DbLoader {
    type Value = Vec<entities::external_identifier::Model>;
    type Error = crate::loaders::LoadError;

    async fn load(
        &self,
        keys: &[ExternalIdsOfChild],
    ) -> crate::loaders::Batch<ExternalIdsOfChild, Self::Value> {
        use entities::external_identifier::{Column, Entity};
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
        let rows = Entity::find()
            .filter(Column::LaId.eq(self.la_id))
            .filter(Column::OwnerKind.eq(super::service::CHILD_OWNER))
            .filter(Column::OwnerId.is_in(keys.iter().map(|k| k.0)))
            .order_by_asc(Column::Id)
            .all(self.db.as_ref())
            .await?;
        Ok(crate::loaders::group(rows, |r| {
            ExternalIdsOfChild(r.owner_id)
        }))
    }
}
