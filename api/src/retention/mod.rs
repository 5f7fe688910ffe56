//! Data protection duties: how long a child's record is kept, legal holds that keep it longer,
//! the purge of what is past its date, and the subject-access export.
//!
//! The rule for looked-after children's case records (The Arrangements for Placement of Children
//! Regulations and the Care Planning Regulations, as LAs apply them): keep until the 75th
//! birthday, or for 15 years after death if the child died before 18.

pub mod policy;
pub mod resolvers;
pub mod service;

pub use resolvers::{RetentionMutation, RetentionQuery};
