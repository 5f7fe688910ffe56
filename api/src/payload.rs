//! Mutation payloads: the changed object plus `userErrors`, and the one place that splits
//! user-facing failures from top-level errors.

use std::future::Future;

use crate::error::{ApiError, ApiResult, UserError};

/// A mutation payload that can carry user errors instead of a result.
pub trait Payload: Sized {
    /// A payload holding only user errors.
    fn from_errors(errors: Vec<UserError>) -> Self;
}

/// Runs a mutation body: user-facing failures become `userErrors`; anything else is a top-level error.
pub async fn run<P: Payload>(body: impl Future<Output = ApiResult<P>>) -> async_graphql::Result<P> {
    match body.await {
        Ok(p) => Ok(p),
        Err(ApiError::User(errors)) => Ok(P::from_errors(errors)),
        Err(other) => Err(other.into()),
    }
}

/// Declares a payload type with one result field and `userErrors`.
#[macro_export]
macro_rules! payload {
    ($(#[$m:meta])* $name:ident { $(#[$fm:meta])* $field:ident : $ty:ty }) => {
        $(#[$m])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            $(#[$fm])*
            pub $field: Option<$ty>,
            /// What was wrong with the input or broke a rule; empty on success.
            pub user_errors: Vec<$crate::error::UserError>,
        }

        impl $name {
            /// A successful payload.
            pub fn ok(value: impl Into<$ty>) -> Self {
                Self { $field: Some(value.into()), user_errors: Vec::new() }
            }
        }

        impl $crate::payload::Payload for $name {
            fn from_errors(errors: Vec<$crate::error::UserError>) -> Self {
                Self { $field: None, user_errors: errors }
            }
        }
    };
}

/// Declares an upsert's payload: the record, what the upsert did, and `userErrors`.
#[macro_export]
macro_rules! upsert_payload {
    ($(#[$m:meta])* $name:ident { $(#[$fm:meta])* $field:ident : $ty:ty }) => {
        $(#[$m])*
        #[derive(async_graphql::SimpleObject)]
        pub struct $name {
            $(#[$fm])*
            pub $field: Option<$ty>,
            /// Whether it was created, updated or already as sent.
            pub result: Option<$crate::payload::UpsertResult>,
            /// What was wrong with the input or broke a rule; empty on success.
            pub user_errors: Vec<$crate::error::UserError>,
        }

        impl $name {
            /// A successful payload.
            pub fn done(
                value: impl Into<$ty>,
                result: $crate::payload::UpsertResult,
            ) -> Self {
                Self { $field: Some(value.into()), result: Some(result), user_errors: Vec::new() }
            }
        }

        impl $crate::payload::Payload for $name {
            fn from_errors(errors: Vec<$crate::error::UserError>) -> Self {
                Self { $field: None, result: None, user_errors: errors }
            }
        }
    };
}

/// What an upsert did.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum UpsertResult {
    /// No record had the external identifier: one was created with it.
    Created,
    /// The record with the external identifier was changed.
    Updated,
    /// The record with the external identifier already held what was sent.
    Unchanged,
}
