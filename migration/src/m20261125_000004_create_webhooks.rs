//! Webhooks for vendor systems: `webhook` (an LA's registered endpoint, its signing secret and the
//! event types it wants) and `webhook_delivery` (one row per event per webhook, written in the
//! same transaction as the event, so no delivery is lost across a restart; its attempts, next
//! attempt and outcome form the delivery log).

use sea_orm_migration::{prelude::*, schema::*};

use crate::{rls, tables};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("webhook")
                    .col(big_pk_auto("id"))
                    .col(big_integer("la_id"))
                    .col(string_len("url", 2048))
                    .col(string_len("secret", 200))
                    .col(text("event_types"))
                    .col(boolean("active").default(true).take())
                    .col(integer("version").default(1).take())
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .col(big_integer_null("created_by"))
                    .col(big_integer_null("updated_by"))
                    .foreign_key(&mut tables::la_fk("webhook"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_delivery")
                    .col(big_pk_auto("id"))
                    .col(big_integer("la_id"))
                    .col(big_integer("webhook_id"))
                    .col(big_integer("event_id"))
                    .col(big_integer("ordering_key"))
                    .col(string_len("status", 20))
                    .col(integer("attempts").default(0).take())
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone("give_up_at"))
                    .col(timestamp_with_time_zone_null("leased_until"))
                    .col(integer_null("last_status"))
                    .col(string_len_null("last_error", 200))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(&mut tables::la_fk("webhook_delivery"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_delivery_webhook_id")
                            .from("webhook_delivery", "webhook_id")
                            .to("webhook", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_webhook_delivery_event_id")
                            .from("webhook_delivery", "event_id")
                            .to("case_event", "id")
                            .on_delete(ForeignKeyAction::Restrict),
                    )
                    .to_owned(),
            )
            .await?;
        tables::create_indexes(
            manager,
            "webhook",
            &[("ix_webhook_la_id", &["la_id", "id"])],
        )
        .await?;
        tables::create_indexes(
            manager,
            "webhook_delivery",
            &[
                (
                    "ix_webhook_delivery_due",
                    &["la_id", "status", "next_attempt_at"],
                ),
                (
                    "ix_webhook_delivery_order",
                    &["webhook_id", "ordering_key", "status", "id"],
                ),
            ],
        )
        .await?;
        for table in ["webhook", "webhook_delivery"] {
            rls::protect(manager, table, rls::Access::ReadWrite).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["webhook_delivery", "webhook"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }

    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}
