//! The framework's shared vocabulary: stages, decisions, levels and the other closed lists.
//!
//! The closed lists themselves (stages, statuses, …) are defined once, with the tables that store
//! them, in [`entities::vocabulary`], and re-exported here: the API, the rules and the storage
//! speak one vocabulary.

pub mod dates;
pub mod identifiers;
pub mod reference;

use crate::error::{ApiError, ApiResult, UserErrorCode};

/// Free text given in input: trimmed, 1 to `max` characters, or a user error naming `field`.
pub fn text(value: &str, field: &str, max: usize) -> ApiResult<String> {
    let t = value.trim();
    let n = t.chars().count();
    if n == 0 || n > max {
        Err(ApiError::user(
            UserErrorCode::Invalid,
            &[field],
            format!("give 1 to {max} characters"),
        ))
    } else {
        Ok(t.to_owned())
    }
}

/// Free text the framework calls optional: trimmed, at most `max` characters; absent or blank is
/// stored as empty.
pub fn optional_text(value: Option<&str>, field: &str, max: usize) -> ApiResult<String> {
    match value.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => text(t, field, max),
        None => Ok(String::new()),
    }
}

pub use entities::vocabulary::*;
