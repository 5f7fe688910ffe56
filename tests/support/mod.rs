//! `TestApp::spawn()`: the real server on 127.0.0.1:0 with a fresh database, plus helpers to call
//! it as different actors.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use api::auth::keys::DevKey;
use api::config::Config;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{Value, json};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The login role the server connects as on PostgreSQL: a member of `reunify_app`, owning nothing.
pub const APP_LOGIN: &str = "reunify_test_login";

/// Creates the application roles once per test process (they are cluster-wide).
pub async fn ensure_roles(admin: &DatabaseConnection) {
    static ROLES: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    ROLES
        .get_or_init(|| async {
            for (role, create) in [
                ("reunify_app", "CREATE ROLE reunify_app NOLOGIN".to_owned()),
                (APP_LOGIN, format!("CREATE ROLE {APP_LOGIN} LOGIN IN ROLE reunify_app")),
            ] {
                admin
                    .execute_unprepared(&format!(
                        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') \
                         THEN {create}; END IF; \
                         EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
                    ))
                    .await
                    .unwrap();
            }
        })
        .await;
}

/// A running server with its own database.
pub struct TestApp {
    pub base: String,
    /// The schema owner's connection (bypasses nothing on SQLite; a superuser on PostgreSQL, so
    /// row-level security does not bind it): for fixtures and for checking what was stored.
    pub db: DatabaseConnection,
    /// The server's own pool (on PostgreSQL the non-owner application role).
    pub app_db: DatabaseConnection,
    /// The database URL the server uses.
    pub app_url: String,
    /// Whether the database is PostgreSQL.
    pub postgres: bool,
    pub statements: Arc<AtomicU64>,
    client: reqwest::Client,
    key: DevKey,
    /// The schema owner's database URL.
    pub owner_url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

/// A caller: a token for one LA and set of roles.
#[derive(Clone)]
pub struct Caller {
    pub token: String,
    base: String,
    client: reqwest::Client,
}

impl TestApp {
    /// Starts a server on a fresh database (SQLite file, or a new PostgreSQL database when
    /// `TEST_DATABASE_URL` is set) with LAs 201 and 202 registered.
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// As [`TestApp::spawn`], with the configuration adjusted first.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> TestApp {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let (owner_url, url, dir, pg) = match std::env::var("TEST_DATABASE_URL") {
            Ok(admin) if !admin.is_empty() => {
                let name = format!("reunify_test_{}_{n}", std::process::id());
                let conn = Database::connect(&admin)
                    .await
                    .expect("connect to TEST_DATABASE_URL");
                ensure_roles(&conn).await;
                conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
                let (scheme, rest) = base.split_once("://").unwrap();
                let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
                let app = format!("{scheme}://{APP_LOGIN}@{host}/{name}");
                (format!("{base}/{name}"), app, None, Some((admin, name)))
            }
            _ => {
                let dir = tempfile::tempdir().unwrap();
                let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
                (url.clone(), url, Some(dir), None)
            }
        };
        let mut config = Config::for_database(&url);
        config.migration_database_url = Some(owner_url.clone().into());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database_pool_size = 5;
        adjust(&mut config);
        let server = api::server::build(config).await.expect("server builds");
        let addr = server.local_addr().unwrap();
        let app_db = server.db();
        let statements = server.statement_counter();
        tokio::spawn(server.run());
        let db = Database::connect(&owner_url).await.unwrap();
        for la in ["201", "202"] {
            api::tenancy::service::register(&app_db, la, None, Default::default())
                .await
                .unwrap();
        }
        let key = DevKey::load_or_create(&app_db).await.unwrap();
        TestApp {
            base: format!("http://{addr}"),
            db,
            app_db,
            postgres: pg.is_some(),
            app_url: url,
            owner_url: owner_url.clone(),
            statements,
            client: reqwest::Client::new(),
            key,
            _dir: dir,
            pg,
        }
    }

    /// The configuration a second instance on this app's database would use.
    pub fn config(&self) -> Config {
        let mut config = Config::for_database(&self.app_url);
        config.migration_database_url = Some(self.owner_url.clone().into());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.database_pool_size = 5;
        config
    }

    /// The development signing key the server trusts.
    pub fn key(&self) -> &DevKey {
        &self.key
    }

    /// A caller holding exactly this bearer token.
    pub fn with_token(&self, token: &str) -> Caller {
        Caller {
            token: token.to_owned(),
            base: self.base.clone(),
            client: self.client.clone(),
        }
    }

    /// A caller for LA `la` with the given roles (scopes as `reunify token` gives them).
    pub fn caller(&self, la: &str, roles: &[&str]) -> Caller {
        let mut scopes: Vec<String> = roles
            .iter()
            .filter_map(|r| api::auth::Role::from_claim(r))
            .flat_map(|r| r.default_scopes())
            .map(|s| (*s).to_owned())
            .collect();
        scopes.sort();
        scopes.dedup();
        let roles: Vec<String> = roles.iter().map(|r| (*r).to_owned()).collect();
        let subject = format!("test-{la}-{}", roles.join("+"));
        let token = self
            .key
            .mint("reunify", la, &subject, &roles, &scopes, 60)
            .unwrap();
        Caller {
            token,
            base: self.base.clone(),
            client: self.client.clone(),
        }
    }

    /// A social worker of LA 201.
    pub fn worker(&self) -> Caller {
        self.caller("201", &["social_worker"])
    }

    /// A team manager of LA 201.
    pub fn manager(&self) -> Caller {
        self.caller("201", &["team_manager"])
    }

    /// A nominated officer of LA 201.
    pub fn officer(&self) -> Caller {
        self.caller("201", &["nominated_officer"])
    }

    /// An HTTP client for raw requests.
    pub fn http(&self) -> &reqwest::Client {
        &self.client
    }

    /// The one integer a SQL query returns, read as the schema owner.
    pub async fn scalar(&self, sql: &str) -> i64 {
        use sea_orm::Statement;
        self.db
            .query_one_raw(Statement::from_string(self.db.get_database_backend(), sql))
            .await
            .unwrap()
            .unwrap()
            .try_get_by_index::<i64>(0)
            .unwrap()
    }

    /// Asserts that `body` is a `FORBIDDEN` refusal of `operation` and that its request left
    /// exactly one audit row, a `DENIED` one naming the operation.
    pub async fn assert_refusal_audited(&self, body: &Value, operation: &str) {
        let err = &body["errors"][0];
        assert_eq!(err["extensions"]["code"], "FORBIDDEN", "{body:#}");
        let rid = err["extensions"]["requestId"]
            .as_str()
            .expect("a request id");
        let denied = self
            .scalar(&format!(
                "SELECT COUNT(*) FROM audit_event WHERE request_id = '{rid}' \
                 AND outcome = 'DENIED' AND operation = '{operation}' AND record_id IS NULL"
            ))
            .await;
        let all = self
            .scalar(&format!(
                "SELECT COUNT(*) FROM audit_event WHERE request_id = '{rid}'"
            ))
            .await;
        assert_eq!(
            (denied, all),
            (1, 1),
            "the refusal of {operation} is audited once: {body:#}"
        );
    }

    /// SQL statements executed so far by the server.
    pub fn statement_count(&self) -> u64 {
        self.statements.load(Ordering::SeqCst)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((admin, name)) = self.pg.take() {
            drop_database(admin, name);
        }
    }
}

/// Drops a test database, from a thread of its own (for `Drop`, which cannot await).
pub fn drop_database(admin: String, name: String) {
    let _ = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            if let Ok(conn) = Database::connect(&admin).await {
                let _ = conn
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
            }
        });
    })
    .join();
}

/// The first column of the first row of `sql`, as a number.
pub async fn count(db: &impl ConnectionTrait, sql: &str) -> i64 {
    db.query_one_raw(sea_orm::Statement::from_string(
        db.get_database_backend(),
        sql,
    ))
    .await
    .unwrap()
    .unwrap()
    .try_get_by_index::<i64>(0)
    .unwrap()
}

impl Caller {
    /// Sends a GraphQL request; returns the HTTP status, the `x-request-id` header and the body.
    pub async fn send(&self, query: &str, variables: Value) -> (u16, String, Value) {
        let resp = self
            .client
            .post(format!("{}/graphql", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let rid = resp
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, rid, resp.json().await.unwrap())
    }

    /// Sends a GraphQL request and returns the whole JSON response.
    pub async fn gql(&self, query: &str, variables: Value) -> Value {
        self.send(query, variables).await.2
    }

    /// Sends a GraphQL request and returns `data`, failing on any top-level error.
    pub async fn ok(&self, query: &str, variables: Value) -> Value {
        let body = self.gql(query, variables).await;
        assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
        body["data"].clone()
    }

    /// Runs a mutation (`{ name(input: $input) { ... userErrors { field message code } } }`) and
    /// returns its payload, failing on top-level errors.
    pub async fn mutate(&self, name: &str, selection: &str, input: Value) -> Value {
        let q = format!(
            "mutation($input: {}Input!) {{ {name}(input: $input) {{ {selection} userErrors {{ field message code }} }} }}",
            capitalise(name)
        );
        let data = self.ok(&q, json!({ "input": input })).await;
        data[name].clone()
    }

    /// Runs a mutation that must succeed, returning its payload.
    pub async fn must(&self, name: &str, selection: &str, input: Value) -> Value {
        let p = self.mutate(name, selection, input).await;
        assert_eq!(p["userErrors"], json!([]), "{name} failed: {p:#}");
        p
    }

    /// Runs a mutation that must fail with a user error of `code`; returns the payload.
    pub async fn refused(&self, name: &str, selection: &str, input: Value, code: &str) -> Value {
        let p = self.mutate(name, selection, input).await;
        let codes: Vec<&str> = p["userErrors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(&code), "{name}: expected {code}, got {p:#}");
        p
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// Days before today as `YYYY-MM-DD`.
pub fn days_ago(n: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(n))
        .format("%Y-%m-%d")
        .to_string()
}

/// Fixtures: a child with an open episode and a case in IDENTIFICATION, as the given caller.
pub struct Fixture {
    pub child: String,
    pub episode: String,
    pub case: String,
}

/// Creates a child (LA child ID `id`), its episode (started `started_days_ago`) and a case.
pub async fn open_case(c: &Caller, id: &str, started_days_ago: i64) -> Fixture {
    let child = c
        .must(
            "childCreate",
            "child { id }",
            json!({ "laChildId": id, "dateOfBirth": "2015-06-01", "sex": "F", "ethnicity": "WBRI",
                    "nhsNumber": "9990000018", "upn": "X201000025001" }),
        )
        .await["child"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let episode = c
        .must(
            "episodeOpen",
            "episode { id }",
            json!({ "childId": child, "startedOn": days_ago(started_days_ago), "legalStatus": "C2",
                    "categoryOfNeed": "N1", "placementType": "U6" }),
        )
        .await["episode"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = c
        .must(
            "caseOpen",
            "case { id }",
            json!({ "childId": child, "episodeId": episode, "team": "North", "openedOn": days_ago(started_days_ago - 1) }),
        )
        .await["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        child,
        episode,
        case,
    }
}

/// Completes every required checklist item of the case's current stage: ticks the ones workers
/// tick, and makes the record that proves each derived one (the child's views, a parent and the
/// household assessed, a service, the support plan) where the case lacks it. Agreements and
/// support after a return are the test's own to make.
pub async fn complete_required(c: &Caller, case: &str) {
    let data = c
        .ok(
            "query($id: ID!) { case(id: $id) { stage child { id householdMembers { id hasParentalResponsibility } }
               stages { stage checklist { id required completed derivedFrom } } } }",
            json!({ "id": case }),
        )
        .await;
    let current = data["case"]["stage"].clone();
    for s in data["case"]["stages"].as_array().unwrap() {
        if s["stage"] != current {
            continue;
        }
        for item in s["checklist"].as_array().unwrap() {
            if item["required"] != json!(true) || item["completed"] == json!(true) {
                continue;
            }
            match item["derivedFrom"].as_str() {
                None => {
                    c.must(
                        "checklistItemComplete",
                        "item { id }",
                        json!({ "itemId": item["id"] }),
                    )
                    .await;
                }
                Some(kind) => prove(c, case, &data["case"]["child"], kind).await,
            }
        }
    }
}

/// Makes the record that proves a derived checklist action.
async fn prove(c: &Caller, case: &str, child: &Value, kind: &str) {
    match kind {
        "CHILD_VIEWS" => {
            c.must(
                "childViewRecord",
                "childView { id }",
                json!({ "caseId": case, "inOwnWords": true, "content": "Synthetic words." }),
            )
            .await;
        }
        "PARENTS_ASSESSED" | "HOUSEHOLD_ASSESSED" => {
            let mut members: Vec<Value> = child["householdMembers"].as_array().unwrap().clone();
            if !members
                .iter()
                .any(|m| m["hasParentalResponsibility"] == json!(true))
            {
                let m = c.must("householdMemberAdd", "householdMember { id hasParentalResponsibility }", json!({ "childId": child["id"], "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true })).await;
                members.push(m["householdMember"].clone());
            }
            for m in members {
                c.must("assessmentFactorRecord", "factor { id }", json!({ "caseId": case, "householdMemberId": m["id"], "kind": "PROTECTIVE", "category": "ENGAGEMENT_WITH_SERVICES", "evidence": "Synthetic." })).await;
            }
        }
        "SERVICES_IN_PLACE" => {
            c.must("serviceAdd", "service { id }", json!({ "caseId": case, "serviceType": "PARENTING_SUPPORT", "provider": "Synthetic provider", "needLevel": "MEDIUM", "startsOn": days_ago(0), "status": "ACTIVE" })).await;
        }
        "CONTINGENCY_PLAN" | "TRUSTED_ADULT" => {
            c.must("supportPlanUpdate", "supportPlan { id }", json!({ "caseId": case, "contingencyPlan": "Synthetic plan.", "trustedAdult": "Synthetic adult" })).await;
        }
        _ => {}
    }
}

/// Proposes a classification as `worker` and agrees it as `manager`.
pub async fn classify(
    worker: &Caller,
    manager: &Caller,
    case: &str,
    kind: &str,
    level: &str,
    days_ago_on: i64,
) {
    let id = worker
        .must(
            "riskClassificationPropose",
            "classification { id }",
            json!({ "caseId": case, "kind": kind, "level": level, "rationale": "Synthetic test rationale.",
                    "classifiedOn": days_ago(days_ago_on) }),
        )
        .await["classification"]["id"]
        .clone();
    manager
        .must(
            "riskClassificationAgree",
            "classification { agreed }",
            json!({ "classificationId": id, "agreedOn": days_ago(days_ago_on) }),
        )
        .await;
}

/// A team manager signs off the Return Home Assessment (D2 needs it).
pub async fn sign_off(manager: &Caller, case: &str, days_ago_on: i64) {
    manager
        .must(
            "assessmentSignOff",
            "stage { signedOffOn }",
            json!({ "caseId": case, "signedOffOn": days_ago(days_ago_on) }),
        )
        .await;
}

/// Records a decision that must succeed.
pub async fn decide(c: &Caller, case: &str, kind: &str, outcome: &str, extra: Value) -> Value {
    let mut input = json!({ "caseId": case, "kind": kind, "outcome": outcome, "rationale": "Synthetic test rationale." });
    if let (Some(o), Some(e)) = (input.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    c.must(
        "decisionRecord",
        "decision { id approvalStatus } case { stage status version }",
        input,
    )
    .await
}

/// Takes a case in ASSESSMENT from RC1 (`level`, `rc1` days ago) to D3 = yes asked for today,
/// with its one goal green since `green` days ago and RC2 Low 30 days ago; returns the payload.
pub async fn to_d3(app: &TestApp, f: &Fixture, level: &str, rc1: i64, green: i64) -> Value {
    let (w, m) = (app.worker(), app.manager());
    complete_required(&w, &f.case).await;
    classify(&w, &m, &f.case, "RC1", level, rc1).await;
    sign_off(&m, &f.case, rc1).await;
    decide(
        &w,
        &f.case,
        "D2",
        "YES",
        json!({ "decidedOn": days_ago(rc1) }),
    )
    .await;
    let mother = w
        .ok(
            "query($id: ID!) { child(id: $id) { householdMembers { id } } }",
            json!({ "id": f.child }),
        )
        .await["child"]["householdMembers"][0]["id"]
        .clone();
    let a = w.must("agreementCreate", "agreement { goals { id } }", json!({ "caseId": f.case,
        "parties": [{ "householdMemberId": mother, "acceptedOn": days_ago(rc1) }],
        "goals": [{ "householdMemberId": mother, "description": "G.", "targetDate": days_ago(-30) }],
        "agree": { "agreedOn": days_ago(rc1) } })).await;
    let goal = a["agreement"]["goals"][0]["id"].clone();
    w.must("goalReviewRound", "goals { id }", json!({ "reviewedOn": days_ago(green), "reviews": [{ "goalId": goal, "rating": "GREEN" }] })).await;
    complete_required(&w, &f.case).await;
    w.must(
        "goalsStageComplete",
        "case { id }",
        json!({ "caseId": f.case, "completedOn": days_ago(40) }),
    )
    .await;
    classify(&w, &m, &f.case, "RC2", "LOW", 30).await;
    complete_required(&w, &f.case).await;
    w.mutate(
        "decisionRecord",
        "decision { approvalStatus } case { stage }",
        json!({ "caseId": f.case, "kind": "D3", "outcome": "YES", "rationale": "R." }),
    )
    .await
}

/// A child, episode and case as a case-management system sends them (identifiers `LCS/<id>`,
/// `LCS/EP-<id>`, `LCS/CASE-<id>`), the episode begun `started_days_ago`, with a mother who holds
/// parental responsibility.
pub async fn synced_case(
    c: &Caller,
    id: &str,
    started_days_ago: i64,
    legal_status: &str,
) -> Fixture {
    let ext = |v: String| json!({ "system": "LCS", "value": v });
    let child = c
        .must(
            "childUpsert",
            "child { id }",
            json!({ "externalId": ext(id.to_owned()), "laChildId": id, "dateOfBirth": "2015-06-01",
                    "sex": "F", "ethnicity": "WBRI", "upn": "X201000025001" }),
        )
        .await["child"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    c.must(
        "householdMemberAdd",
        "householdMember { id }",
        json!({ "childId": child, "relationship": "MOTHER", "hasParentalResponsibility": true,
                "livesWithChild": true }),
    )
    .await;
    let episode = c
        .must(
            "episodeUpsert",
            "episode { id }",
            json!({ "externalId": ext(format!("EP-{id}")), "childId": child,
                    "startedOn": days_ago(started_days_ago), "legalStatus": legal_status,
                    "categoryOfNeed": "N1", "placementType": "U6" }),
        )
        .await["episode"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let case = c
        .must(
            "caseUpsert",
            "case { id }",
            json!({ "externalId": ext(format!("CASE-{id}")), "childId": child, "episodeId": episode,
                    "team": "North", "openedOn": days_ago(started_days_ago - 1) }),
        )
        .await["case"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    Fixture {
        child,
        episode,
        case,
    }
}
