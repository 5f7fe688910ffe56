//! What a request's arguments may hold, checked once for the whole document before any resolver
//! runs (so a request that breaks a rule changes nothing and reads nothing), the same on SQLite
//! and PostgreSQL:
//! - text holds no control character but tab, line feed and carriage return ([`control_char`]);
//! - `first` and `last` are 1 to [`MAX_PAGE`].
//!
//! Literals and variables are checked alike: each argument is checked as the field receives it.

use std::collections::HashMap;
use std::convert::Infallible;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Name, ServerError, Value, Variables};

use crate::pagination::MAX_PAGE;

/// The first character of `text` that Reunify refuses to store: a control character (Unicode
/// category Cc: U+0000–U+001F, U+007F–U+009F) other than tab, line feed and carriage return.
/// PostgreSQL cannot store U+0000 in text at all; the others have no place in a record and hide
/// text from the person reading it.
pub fn control_char(text: &str) -> Option<char> {
    text.chars()
        .find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
}

/// The path (from the argument) and character of the first string in `value` that
/// [`control_char`] refuses.
pub fn find_control_char(value: &Value, path: &mut Vec<String>) -> Option<char> {
    match value {
        Value::String(s) => control_char(s),
        Value::List(items) => items.iter().enumerate().find_map(|(i, v)| {
            path.push(i.to_string());
            let found = find_control_char(v, path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        Value::Object(fields) => fields.iter().find_map(|(k, v)| {
            path.push(k.to_string());
            let found = find_control_char(v, path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        _ => None,
    }
}

/// What a client is told about a control character in its input.
pub fn control_char_message(path: &[String], c: char) -> String {
    format!(
        "`{}` holds the control character U+{:04X}; text may hold tab, line feed and carriage \
         return but no other control character",
        path.join("."),
        u32::from(c)
    )
}

/// A `BAD_USER_INPUT` error naming the input path at fault.
fn bad_input(message: String, field: &[String]) -> ServerError {
    let mut err = crate::error::ErrorCode::BadUserInput.server_error(message);
    err.extensions
        .get_or_insert_with(ErrorExtensionValues::default)
        .set(
            "field",
            Value::List(field.iter().map(|f| Value::String(f.clone())).collect()),
        );
    err
}

/// The variables' values as the document's operations define them (given, else default).
fn resolved(doc: &ExecutableDocument, given: &Variables) -> HashMap<Name, Value> {
    let mut out = HashMap::new();
    for (_, op) in doc.operations.iter() {
        for def in &op.node.variable_definitions {
            let name = &def.node.name.node;
            if let Some(v) = given
                .get(name)
                .cloned()
                .or_else(|| def.node.default_value.as_ref().map(|d| d.node.clone()))
            {
                out.entry(name.clone()).or_insert(v);
            }
        }
    }
    out
}

/// Checks every argument of every field and directive in `set` (fragment spreads are checked
/// where the fragment is defined).
fn check_set(set: &SelectionSet, vars: &HashMap<Name, Value>) -> Result<(), ServerError> {
    for selection in &set.items {
        match &selection.node {
            Selection::Field(field) => {
                let field = &field.node;
                let directive_args = field
                    .directives
                    .iter()
                    .flat_map(|d| d.node.arguments.iter());
                for (name, value) in field.arguments.iter().chain(directive_args) {
                    let value = value
                        .node
                        .clone()
                        .into_const_with(|v| {
                            Ok::<_, Infallible>(vars.get(&v).cloned().unwrap_or(Value::Null))
                        })
                        .unwrap_or(Value::Null);
                    check_argument(field.name.node.as_str(), name.node.as_str(), &value)?;
                }
                check_set(&field.selection_set.node, vars)?;
            }
            Selection::InlineFragment(inline) => check_set(&inline.node.selection_set.node, vars)?,
            Selection::FragmentSpread(_) => {}
        }
    }
    Ok(())
}

/// The rules for one argument of `field`.
fn check_argument(field: &str, argument: &str, value: &Value) -> Result<(), ServerError> {
    if matches!(argument, "first" | "last")
        && let Value::Number(n) = value
        && !n
            .as_i64()
            .is_some_and(|n| (1..=i64::from(MAX_PAGE)).contains(&n))
    {
        return Err(bad_input(
            format!(
                "`{field}({argument}: {n})`: `first` and `last` must be between 1 and {MAX_PAGE}"
            ),
            &[argument.to_owned()],
        ));
    }
    let mut path = vec![argument.to_owned()];
    if let Some(c) = find_control_char(value, &mut path) {
        return Err(bad_input(
            format!("{field}: {}", control_char_message(&path, c)),
            &path,
        ));
    }
    Ok(())
}

/// Checks a request's document and variables; the first rule broken is the error.
pub fn check(doc: &ExecutableDocument, given: &Variables) -> Result<(), ServerError> {
    let vars = resolved(doc, given);
    for (_, op) in doc.operations.iter() {
        check_set(&op.node.selection_set.node, &vars)?;
    }
    for fragment in doc.fragments.values() {
        check_set(&fragment.node.selection_set.node, &vars)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_characters_are_refused() {
        for (text, refused) in [
            ("North", None),
            ("two\nlines\r\n\tindented", None),
            ("North\u{0}x", Some('\u{0}')),
            ("bell\u{7}", Some('\u{7}')),
            ("escape\u{1b}[31m", Some('\u{1b}')),
            ("delete\u{7f}", Some('\u{7f}')),
            ("c1\u{85}", Some('\u{85}')),
            ("zero\u{200b}width", None),
            ("Zoë O’Brien 🙂", None),
        ] {
            assert_eq!(control_char(text), refused, "{text:?}");
        }
    }

    fn run(query: &str, variables: serde_json::Value) -> Result<(), String> {
        let doc = async_graphql::parser::parse_query(query).map_err(|e| e.to_string())?;
        let vars = Variables::from_json(variables);
        check(&doc, &vars).map_err(|e| e.message)
    }

    #[test]
    fn arguments_are_checked_as_the_field_receives_them() {
        let assign = "mutation($i: CaseAssignInput!) { caseAssign(input: $i) { case { id } } }";
        assert!(run(assign, serde_json::json!({ "i": { "team": "North" } })).is_ok());
        let err = run(
            assign,
            serde_json::json!({ "i": { "team": "North\u{0}x" } }),
        )
        .unwrap_err();
        assert!(
            err.contains("`input.team` holds the control character U+0000"),
            "{err}"
        );
        let literal = r#"mutation { caseAssign(input: { caseId: "x", notes: ["a", "b\u0007"] }) { case { id } } }"#;
        let err = run(literal, serde_json::json!({})).unwrap_err();
        assert!(err.contains("`input.notes.1`"), "{err}");
        // An unused variable reaches no field.
        assert!(run("{ me { id } }", serde_json::json!({ "x": "\u{0}" })).is_ok());

        for (query, vars, ok) in [
            (
                "{ cases(first: 100) { totalCount } }",
                serde_json::json!({}),
                true,
            ),
            (
                "{ cases(first: 101) { totalCount } }",
                serde_json::json!({}),
                false,
            ),
            (
                "{ cases(last: 0) { totalCount } }",
                serde_json::json!({}),
                false,
            ),
            (
                "{ cases(first: -1) { totalCount } }",
                serde_json::json!({}),
                false,
            ),
            (
                "query($n: Int) { cases(first: $n) { totalCount } }",
                serde_json::json!({ "n": 100000 }),
                false,
            ),
            (
                "query($n: Int = 500) { cases(first: $n) { totalCount } }",
                serde_json::json!({}),
                false,
            ),
            (
                "query($n: Int) { cases(first: $n) { totalCount } }",
                serde_json::json!({}),
                true,
            ),
            (
                "mutation($i: CaseAssignInput!) { caseAssign(input: $i) { case { ...V } } } fragment V on Case { visits(first: 100000) { totalCount } }",
                serde_json::json!({ "i": {} }),
                false,
            ),
            (
                "{ case(id: \"x\") { ... on Case { events(last: 1000) { totalCount } } } }",
                serde_json::json!({}),
                false,
            ),
        ] {
            assert_eq!(run(query, vars).is_ok(), ok, "{query}");
        }
    }
}
