//! Local authorities (tenants), their settings and checklists, and the actors acting for them.

pub mod checklist_defaults;
pub mod directory;
pub mod loaders;
pub mod resolvers;
pub mod service;
pub mod settings;
pub mod types;
