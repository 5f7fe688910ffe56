//! The committed `schema.graphql` is exactly what the server serves.

#[test]
fn schema_graphql_is_up_to_date() {
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql"))
            .expect("schema.graphql at the repository root");
    let current = api::schema::sdl();
    if committed != current {
        let first = committed
            .lines()
            .zip(current.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(committed.lines().count().min(current.lines().count()));
        panic!(
            "schema.graphql is stale (first difference at line {}).\nRegenerate it with:\n    cargo run --bin reunify -- schema > schema.graphql",
            first + 1
        );
    }
}

#[test]
fn every_type_and_field_is_described() {
    let sdl = api::schema::sdl();
    let mut undocumented = Vec::new();
    let mut previous = "";
    let mut in_description = false;
    for line in sdl.lines().take_while(|l| !l.starts_with("schema {")) {
        let t = line.trim();
        // Lines inside a block description are prose, whatever they contain.
        if t == "\"\"\"" {
            in_description = !in_description;
            previous = t;
            continue;
        }
        if in_description {
            continue;
        }
        let is_definition = (t.starts_with("type ")
            || t.starts_with("enum ")
            || t.starts_with("input ")
            || t.starts_with("interface ")
            || t.starts_with("scalar "))
            && !t.starts_with("type Query")
            && !t.starts_with("type Mutation")
            && !t.starts_with("type Subscription")
            // async-graphql generates connection types without a description.
            && !(t.starts_with("type ") && t.contains("Connection "));
        let is_field = line.starts_with('\t')
            && !line.starts_with("\t\t")
            && t.contains(':')
            && !t.starts_with('"');
        if (is_definition || is_field) && !previous.ends_with("\"\"\"") && !previous.ends_with('"')
        {
            undocumented.push(t.to_owned());
        }
        previous = t;
    }
    assert!(
        undocumented.is_empty(),
        "undescribed schema items: {undocumented:#?}"
    );
}
