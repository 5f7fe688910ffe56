//! Keeping Reunify in step with case-management systems: episodes and cases upserted and looked
//! up by the sending system's identifiers, duplicate children merged, and bulk import (a mutation
//! of up to 500 records and a JSON Lines upload).

pub mod import;
pub mod records;
pub mod resolvers;
pub mod service;
pub mod types;

pub use resolvers::{SyncMutation, SyncQuery};
