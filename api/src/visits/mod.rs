//! Visits (the child seen, and seen alone) and review meetings with their next review date.

pub mod loaders;
pub mod resolvers;
pub mod service;
pub mod types;

pub use resolvers::VisitsMutation;
