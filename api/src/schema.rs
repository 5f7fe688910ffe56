//! The GraphQL schema: root objects merged from the features, limits, and the SDL.

use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextPrepareRequest, NextResolve,
    NextValidation, ResolveInfo,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{
    MergedObject, Request, SDLExportOptions, Schema, ServerError, ServerResult, ValidationResult,
    Value, Variables,
};

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
        .extension(Hooks(Limits {
            max_aliases: config.max_aliases,
            max_fields: config.max_fields,
        }));
    if !config.introspection() {
        schema = schema.disable_introspection().disable_suggestions();
    }
    schema.finish()
}

/// The schema's one extension: the request's limits ([`Limits`]), its operation named for metrics
/// and traces ([`crate::metrics::observe`]), and every field's audit ([`FieldAudit`]). One
/// extension, not one per concern: async-graphql runs every field of every request through each
/// extension's `resolve`, a boxed future apiece, and with three of them that layer was a tenth of
/// the server's CPU under a page of 50 cases (`perf`, bench/README.md).
struct Hooks(Limits);

impl ExtensionFactory for Hooks {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(RequestHooks {
            limits: self.0,
            audit: FieldAudit::default(),
        })
    }
}

/// One request's [`Hooks`].
struct RequestHooks {
    limits: Limits,
    audit: FieldAudit,
}

#[async_trait::async_trait]
impl Extension for RequestHooks {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let request = self.limits.check(request)?;
        next.run(ctx, request).await
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let doc = next.run(ctx, query, variables).await?;
        crate::metrics::observe::parsed(ctx, &doc);
        Ok(doc)
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await;
        if result.is_ok() {
            crate::metrics::observe::validated(ctx);
        }
        result
    }

    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        match crate::metrics::observe::field_span(&info) {
            None => self.audit.resolve(ctx, info, next).await,
            Some(span) => {
                tracing::Instrument::instrument(self.audit.resolve(ctx, info, next), span).await
            }
        }
    }
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
