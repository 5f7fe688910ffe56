//! Which record an audit row or event is about, what was done to it and how it ended.

use std::str::FromStr as _;

use sea_orm::{EntityName, EntityTrait, ModelTrait, Value};

pub use entities::vocabulary::{Action, Outcome};

/// Which record: its table, id, and the case and child it belongs to (where it has them).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Record {
    /// The table, e.g. `reunification_case`.
    pub kind: String,
    /// The row id.
    pub id: i64,
    /// The case it belongs to.
    pub case_id: Option<i64>,
    /// The child it is about.
    pub child_id: Option<i64>,
}

fn as_i64(v: Value) -> Option<i64> {
    match v {
        Value::BigInt(v) => v,
        Value::Int(v) => v.map(i64::from),
        _ => None,
    }
}

/// The value of a column named `name`, if the entity has one.
fn column<M: ModelTrait>(m: &M, name: &str) -> Option<i64> {
    <M::Entity as EntityTrait>::Column::from_str(name)
        .ok()
        .and_then(|c| as_i64(m.get(c)))
}

impl Record {
    /// The record a row stands for.
    pub fn of<M: ModelTrait>(m: &M) -> Self {
        let kind = <M::Entity as Default>::default().table_name().to_owned();
        let id = column(m, "id").unwrap_or_default();
        let case_id = if kind == "reunification_case" {
            Some(id)
        } else {
            column(m, "case_id")
        };
        let child_id = if kind == "child" {
            Some(id)
        } else {
            column(m, "child_id")
        };
        Record {
            kind,
            id,
            case_id,
            child_id,
        }
    }

    /// A record known by table and id only (for example one that was not found).
    pub fn bare(kind: &str, id: i64) -> Self {
        Record {
            kind: kind.to_owned(),
            id,
            case_id: (kind == "reunification_case").then_some(id),
            child_id: (kind == "child").then_some(id),
        }
    }
}
