//! A page of cases with everything under them costs a constant number of SQL statements,
//! whatever the page size: nested fields load through DataLoaders, never a query per row.

use api::audit::acting::Acting;
use api::auth::Role;
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
    agreement { parties { householdMember { relationship } } }
    goals { description latestRating householdMember { relationship } reviews { rating reviewedBy { id } } revisions { reason } }
    services { serviceType needLevel months }
    supportPlan { trustedAdult }
    visits(first: 5) { totalCount nodes { childSeen } }
    reviews { kind }
    factors { category }
    childViews { inOwnWords }
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
    let actor = Acting::system(
        la.id,
        actor_id,
        "seed",
        vec![Role::SocialWorker],
        &["cases:read", "cases:write"],
    );
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
                details: Default::default(),
                external_ids: vec![api::children::service::ExternalId {
                    system: "LCS".into(),
                    value: format!("L{i}"),
                }],
            },
        )
        .await
        .unwrap();
        let member = api::children::service::add_member(
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
        let member = api::ids::HouseholdMemberId(member.id);
        let episode = api::children::service::open_episode(
            &app.db,
            &actor,
            api::children::service::NewEpisode {
                child_id: ChildId(child.id),
                fields: api::children::service::EpisodeFields {
                    details: Default::default(),
                    started_on: today - chrono::Duration::days(100),
                    legal_status: "C2".into(),
                    category_of_need: "N1".into(),
                    placement_type: "U6".into(),
                    ended_on: None,
                    reason_ceased: None,
                },
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
                without_parental_responsibility: false,
                expected_version: None,
            },
        )
        .await
        .unwrap();
        let agreement = api::goals::service::create_agreement(
            &app.db,
            &actor,
            CaseId(case.id),
            Some(vec![api::goals::service::NewParty {
                member,
                strengths: Some("S.".into()),
                concerns: Some("C.".into()),
            }]),
        )
        .await
        .unwrap();
        let goal = api::goals::service::add_goal(
            &app.db,
            &actor,
            api::goals::service::NewGoal {
                agreement: api::ids::AgreementId(agreement.id),
                member: Some(member),
                description: "G.".into(),
                steps: Some("S.".into()),
                responsible: Some("R.".into()),
                support_offered: Some("S.".into()),
                target_date: today,
            },
        )
        .await
        .unwrap();
        api::goals::service::review_goal(
            &app.db,
            &actor,
            api::goals::service::ReviewGoal {
                goal: api::ids::GoalId(goal.id),
                rating: api::domain::Rating::Green,
                note: Some("N.".into()),
                evidence: Some("E.".into()),
                reviewed_on: None,
            },
        )
        .await
        .unwrap();
        api::support_plans::service::add_service(
            &app.db,
            &actor,
            api::support_plans::service::NewService {
                case_id: CaseId(case.id),
                service_type: api::domain::ServiceType::ParentingSupport,
                provider: "P.".into(),
                need_level: api::domain::NeedLevel::High,
                starts_on: today,
                ends_on: None,
                frequency: None,
                status: api::domain::ServiceStatus::Active,
                cost_pence: None,
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
    // One statement per loader and nesting level. A loader reached at two depths (household
    // members through agreement parties and through goals) shares one batch only when the whole
    // page resolves inside one batching window, so a large page may take a handful more; that is
    // bounded by the query's shape. A query per case would add at least 45.
    let mut counts = Vec::new();
    for n in [5, 50] {
        let mut fewest = u64::MAX;
        for _ in 0..6 {
            let before = app.statement_count();
            let data = w.ok(PAGE, json!({ "n": n })).await;
            fewest = fewest.min(app.statement_count() - before);
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
            assert!(
                nodes
                    .iter()
                    .all(|c| c["goals"].as_array().unwrap().len() == 1)
            );
            assert!(
                nodes
                    .iter()
                    .all(|c| c["goals"][0]["reviews"].as_array().unwrap().len() == 1)
            );
            assert!(
                nodes
                    .iter()
                    .all(|c| c["services"].as_array().unwrap().len() == 1)
            );
        }
        counts.push(fewest);
    }
    assert!(
        counts[1] <= counts[0] + 4,
        "SQL statements for 5 vs 50 cases: {counts:?}"
    );
    // Two more per request whatever its shape: setting the tenant, and writing the audit rows.
    assert!(counts[1] <= 32, "a page costs {} statements", counts[1]);
    // On PostgreSQL every level of the query is one statement (a UNION ALL of the parts it asks
    // for): 7 for this page of fifteen lookups, against 26 on SQLite's statement per table.
    if app.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        assert!(
            counts[1] <= 10,
            "on PostgreSQL a page costs {} statements",
            counts[1]
        );
    }
}

/// A request that reads no record (`__typename`, introspection) runs no SQL at all, token or
/// not: no transaction, no tenant. One that reads a record still runs in its unit of work. (On
/// SQLite an empty transaction runs no counted statement; on PostgreSQL its `set_config` counts.)
#[tokio::test]
async fn a_request_that_reads_no_record_runs_no_sql() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    w.ok("{ me { id } }", json!({})).await; // warm the actor cache
    // The fewest of a few tries: the server's background work (webhook deliveries) runs SQL of
    // its own now and then.
    let fewest = |counts: Vec<u64>| counts.into_iter().min().unwrap();
    for query in [
        "{ __typename }",
        "query Named { __typename __type(name: \"Case\") { name } }",
        "{ __schema { queryType { name } } }",
        "mutation { __typename }",
    ] {
        let mut counts = Vec::new();
        for _ in 0..3 {
            let before = app.statement_count();
            let data = w.ok(query, json!({})).await;
            counts.push(app.statement_count() - before);
            assert!(data.as_object().is_some_and(|o| !o.is_empty()), "{data}");
        }
        assert_eq!(fewest(counts), 0, "{query} ran SQL");
    }
    let mut counts = Vec::new();
    for _ in 0..3 {
        let before = app.statement_count();
        let data = w.ok("{ __typename me { id } }", json!({})).await;
        counts.push(app.statement_count() - before);
        assert_eq!(data["__typename"], "Query");
        assert!(data["me"]["id"].is_string());
    }
    assert!(fewest(counts) > 0, "reading a record runs SQL");
    // Nor does the rate limit cost a round trip per request: on PostgreSQL, where it is shared
    // by the replicas, a caller's points are drawn a sixteenth of the bucket at a time (12 of the
    // default 200), mostly in the background.
    let before = app.statement_count();
    for _ in 0..96 {
        w.ok("{ __typename }", json!({})).await;
    }
    let spent = app.statement_count() - before;
    assert!(spent <= 96 / 12 + 4, "{spent} statements for 96 requests");
}
