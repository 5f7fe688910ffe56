//! Stages and their checklists, decisions, risk classifications, the return home and closure.

pub mod derived;
pub mod loaders;
pub mod resolvers;
pub mod service;
pub mod types;

pub use resolvers::StagesMutation;
