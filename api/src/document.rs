//! What a request's document runs: the operation it selects, and whether it introspects.

use async_graphql::Positioned;
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection, SelectionSet,
};

/// The operation a request runs: the one it names, or the document's only one.
pub fn operation<'a>(
    doc: &'a ExecutableDocument,
    name: Option<&str>,
) -> Option<&'a Positioned<OperationDefinition>> {
    match (&doc.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next(),
        _ => None,
    }
}

/// Whether a root selection set asks for introspection (`__schema` or `__type`; `__typename` is
/// not introspection), through its fragments too. Fragments are followed at most 32 deep (the
/// document has not been validated yet, so one may be a cycle).
pub fn introspects(doc: &ExecutableDocument, root: &SelectionSet) -> bool {
    fn walk(doc: &ExecutableDocument, set: &SelectionSet, depth: u8) -> bool {
        depth < 32
            && set.items.iter().any(|s| match &s.node {
                Selection::Field(f) => matches!(f.node.name.node.as_str(), "__schema" | "__type"),
                Selection::InlineFragment(i) => walk(doc, &i.node.selection_set.node, depth + 1),
                Selection::FragmentSpread(s) => doc
                    .fragments
                    .get(&s.node.fragment_name.node)
                    .is_some_and(|f| walk(doc, &f.node.selection_set.node, depth + 1)),
            })
    }
    walk(doc, root, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn introspection_found_through_fragments_and_not_in_typename() {
        let cases = [
            ("{ __schema { types { name } } }", true),
            ("{ __type(name: \"Case\") { name } }", true),
            ("{ __typename }", false),
            ("{ me { roles } }", false),
            ("{ ... on Query { __schema { queryType { name } } } }", true),
            (
                "query { ...F } fragment F on Query { __type(name: \"X\") { name } }",
                true,
            ),
            ("query { ...F } fragment F on Query { ...F }", false),
            ("{ me { __typename } }", false),
        ];
        for (query, want) in cases {
            let doc = async_graphql::parser::parse_query(query).unwrap();
            let op = operation(&doc, None).unwrap();
            assert_eq!(
                introspects(&doc, &op.node.selection_set.node),
                want,
                "{query}"
            );
        }
    }
}
