//! The directory token verification reads: an LA by its DfE code, and the actor row of a
//! token's subject (registered the first time it acts). A floor beneath the features.

use chrono::Utc;
use entities::{actor, local_authority};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::db::Db;
use crate::error::{ApiResult, OptionExt as _};

/// The LA with a DfE code.
pub async fn find_by_code(
    db: &impl ConnectionTrait,
    dfe_code: &str,
) -> ApiResult<Option<local_authority::Model>> {
    Ok(local_authority::Entity::find()
        .filter(local_authority::Column::DfeCode.eq(dfe_code))
        .one(db)
        .await?)
}

/// The actor row for a token subject in an LA, created on first sight.
pub async fn ensure_actor(
    db: &impl Db,
    la_id: i64,
    subject: &str,
    kind: &str,
    roles: &[String],
) -> ApiResult<i64> {
    let find = || {
        actor::Entity::find()
            .filter(actor::Column::LaId.eq(la_id))
            .filter(actor::Column::Subject.eq(subject))
            .one(db)
    };
    if let Some(a) = find().await? {
        return Ok(a.id);
    }
    let now = Utc::now();
    // In a savepoint: on PostgreSQL a failed insert would otherwise abort the whole transaction.
    let savepoint = db.begin().await?;
    let inserted = actor::ActiveModel {
        la_id: Set(la_id),
        subject: Set(subject.to_owned()),
        kind: Set(kind.to_owned()),
        display_name: Set(None),
        roles: Set(roles.join(",")),
        first_seen_at: Set(now),
        last_seen_at: Set(now),
        ..Default::default()
    }
    .insert(&savepoint)
    .await;
    match inserted {
        Ok(a) => {
            savepoint.commit().await?;
            Ok(a.id)
        }
        // Another request inserted it first.
        Err(_) => {
            savepoint.rollback().await?;
            find().await?.map(|a| a.id).or_not_found()
        }
    }
}
