//! Children, the people around them, and their episodes of care.

pub mod loaders;
pub mod resolvers;
pub mod service;
pub mod ssda903;
pub mod types;

pub use resolvers::{ChildrenMutation, ChildrenQuery};
