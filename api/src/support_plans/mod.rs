//! The support plan: services before and after the return, the contingency plan, the trusted adult.

pub mod loaders;
pub mod resolvers;
pub mod service;
pub mod types;

pub use resolvers::SupportPlansMutation;
