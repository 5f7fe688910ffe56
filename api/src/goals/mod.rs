//! The parental agreement (versioned), its parties, goals, goal reviews and revisions.

pub mod loaders;
pub mod resolvers;
pub mod service;
pub mod types;

pub use resolvers::GoalsMutation;
