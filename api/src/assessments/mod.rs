//! What is assessed: risk and protective factors per person, and the child's views.

pub mod loaders;
pub mod resolvers;
pub mod service;
pub mod types;

pub use resolvers::AssessmentsMutation;
