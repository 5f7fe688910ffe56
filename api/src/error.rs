//! The one error type, its stable codes, and the two exits: `userErrors` and top-level errors.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

/// Stable codes of business-rule and validation failures, returned in `userErrors`.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UserErrorCode {
    /// A value has the wrong form (a malformed ID, a string too long, an empty required value).
    Invalid,
    /// A statutory code is not in the list valid for the record's collection year.
    InvalidCode,
    /// A date is impossible or out of order (in the future, before birth, end before start).
    InvalidDate,
    /// An NHS number, UPN or LA child ID fails its format or check-character rule.
    InvalidIdentifier,
    /// A referenced record does not exist for this local authority.
    NotFound,
    /// The record already exists (for example the LA child ID is in use).
    Duplicate,
    /// The record was changed by someone else: `expectedVersion` is stale.
    Conflict,
    /// The case is closed; closed cases cannot change.
    CaseClosed,
    /// The action belongs to another stage of the framework than the case's current one.
    WrongStage,
    /// The required practice actions of the current stage are not all completed.
    ChecklistIncomplete,
    /// The risk classification this step depends on is missing or not yet agreed.
    RiskClassificationRequired,
    /// The decision this step depends on is missing, not "yes", or not yet approved.
    DecisionRequired,
    /// A "no" decision needs the alternative permanence plan.
    AlternativePlanRequired,
    /// This decision needs approval by a role the caller does not hold, or is not awaiting approval.
    ApprovalRequired,
    /// The LA's sustained-risk policy is not met (risk has not stayed Medium or Low long enough).
    RiskNotSustained,
    /// An active parental agreement with at least one goal is required first.
    AgreementRequired,
    /// This was already recorded and can be recorded only once.
    AlreadyRecorded,
    /// A closure needs outcome details that are missing (for example the re-entry date).
    OutcomeRequired,
    /// The goals are not all reviewed and met, or green for the LA's sustained period.
    GoalsNotSustained,
    /// D2 needs the team manager's sign-off of the Return Home Assessment first.
    SignOffRequired,
    /// Four eyes: the caller recorded or proposed this, so another person must approve or agree it.
    FourEyes,
    /// A party with parental responsibility has not accepted the agreement, and no reason to
    /// proceed without their acceptance is given.
    AcceptanceRequired,
    /// Support after the return has not covered the LA's support months.
    SupportIncomplete,
    /// This practice action is completed by the record that proves it, not by hand.
    DerivedFromRecord,
    /// The answer contradicts the records Reunify holds (the care episodes say otherwise).
    ContradictsRecords,
}

/// The stable codes of top-level errors: `errors[].extensions.code` of a GraphQL answer, of a
/// subscription's `error` message, and of every JSON error body an endpoint answers. The one
/// table: nothing else names a top-level code, and the README's error section lists each.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// The request is malformed: not GraphQL, fails validation, a bad argument or header, an
    /// unsupported method or media type (HTTP 400, 405, 415, or in a GraphQL answer).
    BadUserInput,
    /// No valid credentials (HTTP 401).
    Unauthenticated,
    /// Valid credentials, but not for this (HTTP 403, or a field's error).
    Forbidden,
    /// No such record in the caller's LA, or no such endpoint (HTTP 404).
    NotFound,
    /// The first request with this `Idempotency-Key` is still running (HTTP 409).
    Conflict,
    /// This `Idempotency-Key` came with a different request (HTTP 422).
    IdempotencyKeyReused,
    /// Over the caller's (or an address's) rate limit (HTTP 429, with `Retry-After`).
    RateLimited,
    /// Over a query limit: aliases, fields, depth, complexity or directives.
    QueryTooComplex,
    /// A body over its endpoint's size limit (HTTP 413).
    PayloadTooLarge,
    /// The operation asks for `__schema` or `__type` where introspection is off (production,
    /// unless `REUNIFY_INTROSPECTION=true`); `schema.graphql` is the published schema.
    IntrospectionDisabled,
    /// Past the request deadline; nothing it did was kept (HTTP 503).
    Timeout,
    /// A fault on our side; the detail is logged, never sent (HTTP 500).
    Internal,
}

impl ErrorCode {
    /// Every code, in the README's order.
    pub const ALL: [ErrorCode; 12] = [
        ErrorCode::BadUserInput,
        ErrorCode::Unauthenticated,
        ErrorCode::Forbidden,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::RateLimited,
        ErrorCode::QueryTooComplex,
        ErrorCode::PayloadTooLarge,
        ErrorCode::IntrospectionDisabled,
        ErrorCode::Timeout,
        ErrorCode::Internal,
    ];

    /// The code as sent.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadUserInput => "BAD_USER_INPUT",
            ErrorCode::Unauthenticated => "UNAUTHENTICATED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::QueryTooComplex => "QUERY_TOO_COMPLEX",
            ErrorCode::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            ErrorCode::IntrospectionDisabled => "INTROSPECTION_DISABLED",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Internal => "INTERNAL",
        }
    }

    /// Whether a GraphQL error's extensions carry this code.
    pub fn is_on(self, extensions: Option<&async_graphql::ErrorExtensionValues>) -> bool {
        matches!(
            extensions.and_then(|x| x.get("code")),
            Some(async_graphql::Value::String(c)) if c == self.as_str()
        )
    }

    /// A top-level error with this code (raised outside a resolver).
    pub fn server_error(self, message: impl Into<String>) -> async_graphql::ServerError {
        let mut err = async_graphql::ServerError::new(message, None);
        let mut ext = async_graphql::ErrorExtensionValues::default();
        ext.set("code", self.as_str());
        err.extensions = Some(ext);
        err
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A business-rule or validation failure, shown to the caller in `userErrors`.
#[derive(async_graphql::SimpleObject, Clone, Debug, PartialEq, Eq)]
pub struct UserError {
    /// Path to the input field at fault, starting at `input` (null when the whole input is at fault).
    pub field: Option<Vec<String>>,
    /// A human-readable explanation, in English, for the person at the keyboard.
    pub message: String,
    /// A stable code for programs to branch on.
    pub code: UserErrorCode,
}

/// Everything fallible in Reunify returns this. Deliberately not `Display`: the only way out to a
/// client is through [`ApiError::into_graphql`], which sets a stable code.
#[derive(Debug)]
pub enum ApiError {
    /// One or more user-facing failures: a mutation turns them into `userErrors`.
    User(Vec<UserError>),
    /// No valid credentials.
    Unauthenticated(&'static str),
    /// Valid credentials, but this caller may not do this.
    Forbidden(std::borrow::Cow<'static, str>),
    /// The record does not exist (or belongs to another LA, which looks the same).
    NotFound,
    /// The request is malformed in a way GraphQL validation could not catch.
    BadInput(String),
    /// A fault on our side; the detail is logged and never sent.
    Internal(String),
    /// A database fault, kept whole so a caller can tell a unique violation from the rest.
    Database(DbErr),
}

/// Result alias used throughout the crate.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A single user error.
    pub fn user(code: UserErrorCode, field: &[&str], message: impl Into<String>) -> Self {
        ApiError::User(vec![UserError {
            field: if field.is_empty() {
                None
            } else {
                Some(
                    std::iter::once("input")
                        .chain(field.iter().copied())
                        .map(str::to_owned)
                        .collect(),
                )
            },
            message: message.into(),
            code,
        }])
    }

    /// The same error with its user errors' fields moved under `path` in the input (an error
    /// about a goal's `description` becomes one about `goals.2.description`): for mutations that
    /// do several records' work at once.
    pub fn nested(self, path: &[&str]) -> Self {
        match self {
            ApiError::User(errors) => ApiError::User(
                errors
                    .into_iter()
                    .map(|mut u| {
                        if let Some(field) = u.field.as_mut() {
                            let rest = field.split_off(1.min(field.len()));
                            field.extend(path.iter().map(|p| (*p).to_owned()));
                            field.extend(rest);
                        }
                        u
                    })
                    .collect(),
            ),
            other => other,
        }
    }

    /// Runs `f` on each item in turn (in the caller's transaction), naming a failing item's
    /// place in its user errors (`path.2.field`): for mutations that write several records.
    pub async fn each_at<T, R, Fut>(
        items: Vec<T>,
        path: &str,
        mut f: impl FnMut(T) -> Fut,
    ) -> ApiResult<Vec<R>>
    where
        Fut: std::future::Future<Output = ApiResult<R>>,
    {
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            out.push(
                f(item)
                    .await
                    .map_err(|e| e.nested(&[path, &i.to_string()]))?,
            );
        }
        Ok(out)
    }

    /// A fault on our side, with a description for the log.
    pub fn internal(detail: impl Into<String>) -> Self {
        ApiError::Internal(detail.into())
    }

    /// A stale `expectedVersion`.
    pub fn stale(current: i32) -> Self {
        Self::user(
            UserErrorCode::Conflict,
            &["expectedVersion"],
            format!("the record was changed by someone else; its current version is {current}"),
        )
    }

    /// `Ok` unless the caller said which version it last saw and the record has moved on.
    pub fn check_version(expected: Option<i32>, current: i32) -> ApiResult<()> {
        match expected {
            Some(v) if v != current => Err(Self::stale(current)),
            _ => Ok(()),
        }
    }

    /// The stable code for a top-level error.
    fn code(&self) -> ErrorCode {
        match self {
            ApiError::User(_) | ApiError::BadInput(_) => ErrorCode::BadUserInput,
            ApiError::Unauthenticated(_) => ErrorCode::Unauthenticated,
            ApiError::Forbidden(_) => ErrorCode::Forbidden,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::Internal(_) | ApiError::Database(_) => ErrorCode::Internal,
        }
    }

    /// Logs a fault that ends a request with no GraphQL answer to carry it (the caller gets a
    /// bare `INTERNAL`): the detail goes to the log once, as [`ApiError::into_graphql`] would.
    pub fn log(self) {
        drop(self.into_graphql());
    }

    /// Turns the error into a top-level GraphQL error with `extensions.code`.
    /// Internal detail is logged here, once, and replaced by a generic message.
    pub fn into_graphql(self) -> async_graphql::Error {
        let code = self.code();
        // Outside a mutation's `userErrors` (a query's argument at fault), the message names the
        // field, and `extensions.field` holds the first error's path.
        let mut field = None;
        let message = match self {
            ApiError::User(errors) => {
                field = errors.first().and_then(|e| e.field.clone());
                errors
                    .into_iter()
                    .map(|e| match &e.field {
                        Some(path) => format!("{}: {}", path.join("."), e.message),
                        None => e.message,
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            }
            ApiError::Unauthenticated(m) => (*m).to_owned(),
            ApiError::Forbidden(m) => m.to_string(),
            ApiError::NotFound => "not found".to_owned(),
            ApiError::BadInput(m) => m,
            ApiError::Internal(detail) => {
                tracing::error!(error.detail = %detail, "internal error");
                "internal error".to_owned()
            }
            ApiError::Database(err) => {
                tracing::error!(error.detail = %err, "database error");
                "internal error".to_owned()
            }
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", code.as_str());
            if let Some(path) = field {
                ext.set("field", path);
            }
        })
    }
}

/// A top-level `INTERNAL` error raised around a resolver rather than by it (a root mutation's
/// savepoint); the detail is logged.
pub fn internal_server_error(detail: impl std::fmt::Display) -> async_graphql::ServerError {
    tracing::error!(error.detail = %detail, "internal error");
    ErrorCode::Internal.server_error("internal error")
}

impl From<ApiError> for async_graphql::Error {
    fn from(err: ApiError) -> Self {
        err.into_graphql()
    }
}

impl From<DbErr> for ApiError {
    fn from(err: DbErr) -> Self {
        ApiError::Database(err)
    }
}

/// Named helpers for common error conversions.
pub trait ResultExt<T> {
    /// Maps a unique-constraint violation to the given error; everything else stays internal.
    fn on_unique(self, f: impl FnOnce() -> ApiError) -> ApiResult<T>;
}

impl<T> ResultExt<T> for Result<T, DbErr> {
    fn on_unique(self, f: impl FnOnce() -> ApiError) -> ApiResult<T> {
        self.map_err(ApiError::from).on_unique(f)
    }
}

impl<T> ResultExt<T> for ApiResult<T> {
    fn on_unique(self, f: impl FnOnce() -> ApiError) -> ApiResult<T> {
        self.map_err(|err| match err {
            ApiError::Database(e)
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                f()
            }
            other => other,
        })
    }
}

/// Turns `None` into [`ApiError::NotFound`].
pub trait OptionExt<T> {
    /// `None` becomes `NOT_FOUND`.
    fn or_not_found(self) -> ApiResult<T>;
    /// `None` becomes a `NOT_FOUND` user error on the named input field.
    fn or_user_not_found(self, field: &[&str], what: &str) -> ApiResult<T>;
}

impl<T> OptionExt<T> for Option<T> {
    fn or_not_found(self) -> ApiResult<T> {
        self.ok_or(ApiError::NotFound)
    }
    fn or_user_not_found(self, field: &[&str], what: &str) -> ApiResult<T> {
        self.ok_or_else(|| {
            ApiError::user(
                UserErrorCode::NotFound,
                field,
                format!("no {what} with this ID exists"),
            )
        })
    }
}

/// Collects validation failures so one response can name every bad field at once.
#[derive(Debug, Default)]
pub struct Problems(Vec<UserError>);

impl Problems {
    /// Records one failure.
    pub fn push(&mut self, code: UserErrorCode, field: &[&str], message: impl Into<String>) {
        if let ApiError::User(mut errs) = ApiError::user(code, field, message) {
            self.0.append(&mut errs);
        }
    }
    /// Records the failure of a validation result, if any, and returns its value.
    pub fn check<T>(&mut self, result: ApiResult<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(ApiError::User(mut errs)) => {
                self.0.append(&mut errs);
                None
            }
            Err(_) => None,
        }
    }
    /// `Ok(())` when nothing failed.
    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(ApiError::User(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorCode;

    #[test]
    fn the_readme_lists_every_top_level_code() {
        let readme = include_str!("../../README.md");
        for code in ErrorCode::ALL {
            assert!(
                readme.contains(&format!("| `{code}` |")),
                "README's error codes table lacks {code}"
            );
        }
        let listed = readme
            .lines()
            .skip_while(|l| !l.starts_with("| code | HTTP | meaning |"))
            .skip(2)
            .take_while(|l| l.starts_with("| `"))
            .count();
        assert_eq!(
            listed,
            ErrorCode::ALL.len(),
            "README lists a code the code does not have"
        );
    }
}
