//! The GraphQL schema: root objects merged from the features, limits, and the SDL.

use std::borrow::Cow;

use async_graphql::parser::types::{Field, OperationType};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, MergedObject, ObjectType, OutputType, Positioned,
    Request, Response, SDLExportOptions, Schema, ServerResult, Value,
};
use futures_util::StreamExt as _;
use tracing::Instrument as _;

use crate::assessments::AssessmentsMutation;
use crate::audit::acting::Acting;
use crate::audit::resolvers::AuditQuery;
use crate::cases::{CasesMutation, CasesQuery};
use crate::children::{ChildrenMutation, ChildrenQuery};
use crate::config::Config;
use crate::context::AppData;
use crate::goals::GoalsMutation;
use crate::insight::InsightQuery;
use crate::limits::Limits;
use crate::live::LiveSubscription;
use crate::metrics::OperationSlot;
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

/// A root of the schema (`Query`, or `Mutation` with `MUTATION`): each root field gets a span of
/// its own, and each root mutation field its savepoint ([`crate::audit::fields::in_savepoint`]).
/// Done here rather than in a schema extension: async-graphql runs every field of every request
/// through each extension's `resolve` (a boxed future apiece, and type names formatted for each
/// list item) once any extension is registered, and the schema registers none.
pub struct Root<T, const MUTATION: bool>(T);

impl<T: ObjectType, const MUTATION: bool> ContainerType for Root<T, MUTATION> {
    async fn resolve_field(&self, ctx: &Context<'_>) -> ServerResult<Option<Value>> {
        let span = tracing::info_span!(
            "graphql field",
            graphql.field = ctx.item.node.name.node.as_str(),
            graphql.parent_type = if MUTATION { "Mutation" } else { "Query" },
        );
        // On the heap: a root field's future holds its whole resolver (a mutation's service
        // work), too large for a test thread's stack in a debug build when held inline.
        let resolve = Box::pin(self.0.resolve_field(ctx));
        if MUTATION {
            crate::audit::fields::in_savepoint(ctx, resolve)
                .instrument(span)
                .await
        } else {
            resolve.instrument(span).await
        }
    }

    async fn find_entity(&self, ctx: &Context<'_>, params: &Value) -> ServerResult<Option<Value>> {
        self.0.find_entity(ctx, params).await
    }
}

impl<T: ObjectType, const MUTATION: bool> OutputType for Root<T, MUTATION> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        _field: &Positioned<Field>,
    ) -> ServerResult<async_graphql::Value> {
        async_graphql::resolver_utils::resolve_container(ctx, self).await
    }
}

impl<T: ObjectType, const MUTATION: bool> ObjectType for Root<T, MUTATION> {}

type Inner = Schema<Root<Query, false>, Root<Mutation, true>, LiveSubscription>;

/// The schema, and what every request passes before and after it: the limits ([`Limits`]), the
/// operation named for metrics and traces ([`OperationSlot`]), and the refusals in its
/// answers audited ([`crate::audit::fields::refusals`]).
#[derive(Clone)]
pub struct AppSchema {
    inner: Inner,
    limits: Limits,
    introspection: bool,
}

impl AppSchema {
    /// Checks the request's limits and names its operation in `slot` (when given); with whether
    /// it is a mutation, or the error to answer at once when it fails them.
    fn prepare(
        &self,
        request: Request,
        slot: Option<&OperationSlot>,
    ) -> ServerResult<(Request, bool)> {
        let mut request = self.limits.check(request)?;
        let name = request.operation_name.clone();
        let doc = request.parsed_query()?;
        let operation = crate::document::operation(doc, name.as_deref());
        // Where introspection is off, asking for it is an error a code generator can report, not
        // the silent `null` async-graphql answers.
        if !self.introspection
            && let Some(op) = operation
            && crate::document::introspects(doc, &op.node.selection_set.node)
        {
            return Err(crate::error::ErrorCode::IntrospectionDisabled.server_error(
                "introspection is off on this server (production mode); the schema is published \
                 as schema.graphql, or set REUNIFY_INTROSPECTION=true",
            ));
        }
        let mutation = operation.is_some_and(|op| op.node.ty == OperationType::Mutation);
        if let Some(slot) = slot {
            slot.parsed(doc);
        }
        Ok((request, mutation))
    }

    /// After the request ran: its refusals noted on the caller's trail, its operation's label
    /// kept once it validated.
    fn answered(mutation: bool, response: &Response, actor: &Acting, slot: Option<&OperationSlot>) {
        crate::audit::fields::refusals(&actor.trail, &response.errors, mutation);
        if let Some(slot) = slot
            && ran(response)
        {
            slot.validated();
        }
    }

    /// Runs a query or mutation as `actor` (whose trail notes its refusals).
    pub async fn execute(
        &self,
        request: Request,
        actor: &Acting,
        slot: Option<&OperationSlot>,
    ) -> Response {
        let (request, mutation) = match self.prepare(request, slot) {
            Ok(ready) => ready,
            Err(e) => return Response::from_errors(vec![e]),
        };
        let response = self.inner.execute(request).await;
        Self::answered(mutation, &response, actor, slot);
        response
    }

    /// Runs an operation (a subscription's root field once, or a query) as `actor` and collects
    /// every answer it gives.
    pub async fn execute_all(&self, request: Request, actor: &Acting) -> Vec<Response> {
        let (request, mutation) = match self.prepare(request, None) {
            Ok(ready) => ready,
            Err(e) => return vec![Response::from_errors(vec![e])],
        };
        let responses: Vec<Response> = self.inner.execute_stream(request).collect().await;
        for response in &responses {
            Self::answered(mutation, response, actor, None);
        }
        responses
    }
}

/// Whether an answer comes from a document that ran: one that did not parse, validate (the
/// limits included) or coerce its variables is answered with errors at no path and no data.
pub fn ran(response: &Response) -> bool {
    response.errors.is_empty()
        || response.data != async_graphql::Value::Null
        || response.errors.iter().any(|e| !e.path.is_empty())
}

fn builder()
-> async_graphql::SchemaBuilder<Root<Query, false>, Root<Mutation, true>, LiveSubscription> {
    Schema::build(
        Root(Query::default()),
        Root(Mutation::default()),
        LiveSubscription,
    )
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
        .limit_directives(config.max_directives);
    if !config.introspection() {
        schema = schema.disable_introspection().disable_suggestions();
    }
    AppSchema {
        inner: schema.finish(),
        limits: Limits {
            max_aliases: config.max_aliases,
            max_fields: config.max_fields,
        },
        introspection: config.introspection(),
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
