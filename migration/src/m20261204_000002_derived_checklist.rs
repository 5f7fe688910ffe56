//! Checklist actions a record proves: the template names the evidence (`derived_from`), each
//! case's item carries it and, once completed by the record, which record (`evidence`). The
//! default template keys take their evidence in every LA that still has them unset.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The default template's keys and the evidence that proves each (as `DEFAULT_CHECKLIST`).
const DEFAULTS: &[(&str, &str)] = &[
    ("return_considered", "CASE_OPENED"),
    ("childs_views_recorded", "CHILD_VIEWS"),
    ("parents_assessed", "PARENTS_ASSESSED"),
    ("household_assessed", "HOUSEHOLD_ASSESSED"),
    ("agreement_written", "AGREEMENT_IN_FORCE"),
    ("services_in_place", "SERVICES_IN_PLACE"),
    ("progress_reviewed", "GOALS_REVIEWED"),
    ("contingency_plan", "CONTINGENCY_PLAN"),
    ("trusted_adult", "TRUSTED_ADULT"),
    ("iro_consulted", "LOOKED_AFTER_REVIEW"),
    ("support_package", "SUPPORT_PACKAGE"),
    ("child_seen_alone", "CHILD_SEEN_ALONE"),
    ("plan_reviewed", "PLAN_REVIEWED"),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("checklist_template_item", "derived_from"),
            ("checklist_item", "derived_from"),
            ("checklist_item", "evidence"),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(text_null(column))
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        for (key, evidence) in DEFAULTS {
            // Constants of this file only: nothing from outside is spliced in.
            db.execute_unprepared(&format!(
                "UPDATE checklist_template_item SET derived_from = '{evidence}' \
                 WHERE \"key\" = '{key}' AND derived_from IS NULL"
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column) in [
            ("checklist_item", "evidence"),
            ("checklist_item", "derived_from"),
            ("checklist_template_item", "derived_from"),
        ] {
            manager
                .alter_table(Table::alter().table(table).drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
