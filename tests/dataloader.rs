//! A page of cases with everything under them costs a constant number of SQL statements,
//! whatever the page size: nested fields load through DataLoaders, never a query per row.

use api::auth::{Actor, Role};
use api::ids::{CaseId, ChildId, EpisodeId};
use serde_json::json;

use crate::support::TestApp;

const PAGE: &str = "query($n: Int!) { cases(first: $n) { totalCount nodes {
    id stage riskLevel allocatedWorker { id }
    child { laChildId externalIds { system } householdMembers { relationship } episodes { id } }
    episode { legalStatus }
    stages { stage completeness checklist { key completed completedBy { id } } }
    decisions { kind decidedBy { id } }
    riskClassifications { kind level }
    outcome { returnType }
} } }";

async fn seed(app: &TestApp, n: usize) {
    let la = api::tenancy::service::find_by_code(&app.db, "201")
        .await
        .unwrap()
        .unwrap();
    let actor_id = api::tenancy::service::ensure_actor(&app.db, la.id, "seed", "client", &[])
        .await
        .unwrap();
    let actor = Actor {
        la_id: la.id,
        actor_id,
        roles: vec![Role::SocialWorker],
        scopes: vec!["cases:read".into(), "cases:write".into()],
    };
    let today = chrono::Utc::now().date_naive();
    for i in 0..n {
        let child = api::children::service::create_child(
            &app.db,
            &actor,
            api::children::service::NewChild {
                la_child_id: format!("N{i}"),
                date_of_birth: today - chrono::Duration::days(3000),
                sex: "M".into(),
                ethnicity: "WBRI".into(),
                upn: None,
                upn_unknown_reason: None,
                nhs_number: None,
                external_ids: vec![api::children::service::ExternalId {
                    system: "LCS".into(),
                    value: format!("L{i}"),
                }],
            },
        )
        .await
        .unwrap();
        api::children::service::add_member(
            &app.db,
            &actor,
            api::children::service::NewMember {
                child_id: ChildId(child.id),
                relationship: api::domain::Relationship::Mother,
                label: None,
                has_parental_responsibility: true,
                lives_with_child: true,
            },
        )
        .await
        .unwrap();
        let episode = api::children::service::open_episode(
            &app.db,
            &actor,
            api::children::service::NewEpisode {
                child_id: ChildId(child.id),
                started_on: today - chrono::Duration::days(100),
                legal_status: "C2".into(),
                category_of_need: "N1".into(),
                placement_type: "U6".into(),
            },
        )
        .await
        .unwrap();
        let case = api::cases::service::open_case(
            &app.db,
            &actor,
            api::cases::service::NewCase {
                child_id: ChildId(child.id),
                episode_id: EpisodeId(episode.id),
                worker_id: None,
                team: None,
                opened_on: None,
            },
        )
        .await
        .unwrap();
        api::stages::service::record_return(
            &app.db,
            &actor,
            api::stages::service::RecordReturn {
                case_id: CaseId(case.id),
                returned_on: today,
                unplanned: true,
                ends_care: true,
                expected_version: None,
            },
        )
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn statements_per_page_do_not_grow_with_page_size() {
    let app = TestApp::spawn().await;
    seed(&app, 50).await;
    let w = app.worker();
    w.ok("{ me { id } }", json!({})).await; // warm the actor cache
    let mut counts = Vec::new();
    for n in [5, 50] {
        let before = app.statement_count();
        let data = w.ok(PAGE, json!({ "n": n })).await;
        counts.push(app.statement_count() - before);
        let nodes = data["cases"]["nodes"].as_array().unwrap();
        assert_eq!(nodes.len(), n);
        assert!(
            nodes
                .iter()
                .all(|c| c["stages"].as_array().unwrap().len() == 2)
        );
        assert!(
            nodes
                .iter()
                .all(|c| c["outcome"]["returnType"] == "UNPLANNED")
        );
    }
    assert_eq!(
        counts[0], counts[1],
        "SQL statements for 5 vs 50 cases: {counts:?}"
    );
    assert!(counts[1] <= 20, "a page costs {} statements", counts[1]);
}
