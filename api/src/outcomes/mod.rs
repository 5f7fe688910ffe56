//! Outcomes: the return, whether the child is still home at 3, 6 and 12 months, re-entry, closure.

pub mod loaders;
pub mod resolvers;
pub mod service;
pub mod types;

pub use resolvers::OutcomesMutation;
