//! Limits checked before any resolver runs: what the arguments hold ([`crate::inputs`]), aliases
//! and fields per request (fragments expanded, before validation walks them), on top of
//! async-graphql's depth, complexity, recursion and directive limits set on the schema.

use std::collections::{HashMap, HashSet};

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{Name, Request, ServerError, ServerResult};

use crate::error::ErrorCode;

/// The limits of one request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Most aliased fields.
    pub max_aliases: usize,
    /// Most fields, fragments expanded.
    pub max_fields: usize,
}

/// A `QUERY_TOO_COMPLEX` error.
pub fn too_complex(message: &str) -> ServerError {
    ErrorCode::QueryTooComplex.server_error(message)
}

/// Counts (fields, aliases) of a selection set, expanding fragments once each (memoised); a
/// fragment that spreads itself counts as empty (validation rejects it afterwards).
fn count(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    memo: &mut HashMap<Name, (usize, usize)>,
    visiting: &mut HashSet<Name>,
) -> (usize, usize) {
    let mut total = (0usize, 0usize);
    for selection in &set.items {
        let (f, a) = match &selection.node {
            Selection::Field(field) => {
                let (f, a) = count(doc, &field.node.selection_set.node, memo, visiting);
                (
                    f.saturating_add(1),
                    a.saturating_add(usize::from(field.node.alias.is_some())),
                )
            }
            Selection::InlineFragment(inline) => {
                count(doc, &inline.node.selection_set.node, memo, visiting)
            }
            Selection::FragmentSpread(spread) => {
                let name = &spread.node.fragment_name.node;
                if let Some(done) = memo.get(name) {
                    *done
                } else if !visiting.insert(name.clone()) {
                    (0, 0)
                } else {
                    let counted = doc.fragments.get(name).map_or((0, 0), |fragment| {
                        count(doc, &fragment.node.selection_set.node, memo, visiting)
                    });
                    visiting.remove(name);
                    memo.insert(name.clone(), counted);
                    counted
                }
            }
        };
        total = (total.0.saturating_add(f), total.1.saturating_add(a));
    }
    total
}

impl Limits {
    /// Checks a request before it is validated (the schema calls it before anything else).
    pub fn check(&self, mut request: Request) -> ServerResult<Request> {
        // Held aside while the parsed document is borrowed, then put back.
        let variables = std::mem::take(&mut request.variables);
        let doc = request.parsed_query()?;
        let (mut memo, mut visiting) = (HashMap::new(), HashSet::new());
        let (fields, aliases) = doc
            .operations
            .iter()
            .map(|(_, op)| count(doc, &op.node.selection_set.node, &mut memo, &mut visiting))
            .fold((0usize, 0usize), |x, y| {
                (x.0.saturating_add(y.0), x.1.saturating_add(y.1))
            });
        if aliases > self.max_aliases {
            return Err(too_complex(&format!(
                "the request uses {aliases} aliases; at most {} are allowed",
                self.max_aliases
            )));
        }
        if fields > self.max_fields {
            return Err(too_complex(&format!(
                "the request selects {fields} fields; at most {} are allowed",
                self.max_fields
            )));
        }
        crate::inputs::check(doc, &variables)?;
        request.variables = variables;
        Ok(request)
    }
}
