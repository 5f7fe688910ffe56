//! The GraphQL schema: root objects merged from the features, limits, and the SDL.

use async_graphql::{MergedObject, SDLExportOptions, Schema};

use crate::assessments::AssessmentsMutation;
use crate::audit::extension::FieldAudit;
use crate::audit::resolvers::AuditQuery;
use crate::cases::{CasesMutation, CasesQuery};
use crate::children::{ChildrenMutation, ChildrenQuery};
use crate::config::Config;
use crate::context::AppData;
use crate::goals::GoalsMutation;
use crate::insight::InsightQuery;
use crate::limits::Limits;
use crate::live::LiveSubscription;
use crate::node::NodeQuery;
use crate::outcomes::OutcomesMutation;
use crate::retention::{RetentionMutation, RetentionQuery};
use crate::stages::StagesMutation;
use crate::support_plans::SupportPlansMutation;
use crate::sync::{SyncMutation, SyncQuery};
use crate::tenancy::resolvers::{TenancyMutation, TenancyQuery};
use crate::visits::VisitsMutation;
use crate::webhooks::resolvers::{WebhooksMutation, WebhooksQuery};

/// Every query.
#[derive(MergedObject, Default)]
pub struct Query(
    NodeQuery,
    TenancyQuery,
    ChildrenQuery,
    SyncQuery,
    CasesQuery,
    AuditQuery,
    RetentionQuery,
    WebhooksQuery,
    InsightQuery,
);

/// Every mutation.
#[derive(MergedObject, Default)]
pub struct Mutation(
    TenancyMutation,
    ChildrenMutation,
    SyncMutation,
    CasesMutation,
    StagesMutation,
    GoalsMutation,
    AssessmentsMutation,
    SupportPlansMutation,
    VisitsMutation,
    OutcomesMutation,
    RetentionMutation,
    WebhooksMutation,
);

/// The schema type.
pub type AppSchema = Schema<Query, Mutation, LiveSubscription>;

fn builder() -> async_graphql::SchemaBuilder<Query, Mutation, LiveSubscription> {
    Schema::build(Query::default(), Mutation::default(), LiveSubscription)
}

/// Builds the schema with its shared data and limits. Every limit is checked before any resolver
/// runs.
pub fn build(data: AppData, config: &Config) -> AppSchema {
    let mut schema = builder()
        .data(data)
        .data(config.webhook_policy())
        .limit_depth(config.max_query_depth)
        .limit_recursive_depth(config.max_query_depth.saturating_mul(2).max(32))
        .limit_complexity(config.max_query_complexity)
        .limit_directives(config.max_directives)
        .extension(Limits {
            max_aliases: config.max_aliases,
            max_fields: config.max_fields,
        })
        .extension(FieldAudit)
        .extension(crate::metrics::Observe);
    if !config.introspection() {
        schema = schema.disable_introspection().disable_suggestions();
    }
    schema.finish()
}

/// The SDL the server serves (sorted, so diffs are stable).
pub fn sdl() -> String {
    builder().finish().sdl_with_options(
        SDLExportOptions::new()
            .sorted_fields()
            .sorted_arguments()
            .sorted_enum_items(),
    )
}
