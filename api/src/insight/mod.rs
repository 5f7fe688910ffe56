//! Insight for data teams and managers: aggregates with the statutory definitions, worklists, the
//! cost-and-savings calculator and exports. Data analysts see aggregates, never child-level
//! records.

pub mod aggregates;
pub mod calculator;
pub mod export;
pub mod facts;
pub mod resolvers;
pub mod service;
pub mod ssda903;
pub mod worklists;

pub use resolvers::InsightQuery;
