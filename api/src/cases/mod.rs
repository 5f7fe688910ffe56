//! Reunification cases: opening, allocation, listing and the case record itself.

pub mod loaders;
pub mod resolvers;
pub mod service;
pub mod store;
pub mod types;

pub use resolvers::{CasesMutation, CasesQuery};
