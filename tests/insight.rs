//! Aggregates over HTTP: the case facts follow every write (a re-entry found from a later episode
//! of care, a child going home twice), small counts are withheld from data analysts, and the
//! facts are rebuilt by `migrate` when missing.

use serde_json::{Value, json};

use crate::support::{
    Caller, TestApp, classify, complete_required, days_ago, decide, open_case, sign_off,
};

const RETURNS: &str = "query($f: InsightFilter, $g: [Dimension!]) {
  insight(filter: $f, groupBy: $g) {
    returns { key { dimension value } planned { value suppressed } unplanned { value suppressed } children { value suppressed } }
    reentries { months children { value } count { value } rate }
    cases { key { dimension value } cases { value suppressed } }
  } }";

async fn insight(c: &Caller, filter: Value, group_by: Value) -> Value {
    c.ok(RETURNS, json!({ "f": filter, "g": group_by })).await["insight"].clone()
}

/// Child 1 goes home unplanned 300 days ago, its case closes, it comes back into care 250 days
/// ago (a new episode) and goes home again, unplanned, 100 days ago on a second case; child 2
/// goes home unplanned 150 days ago.
async fn fixture(w: &Caller) {
    let first = open_case(w, "INSIGHT1", 400).await;
    let home = |case: String, days: i64| {
        w.must(
            "returnRecord",
            "case { stage }",
            json!({ "caseId": case, "returnedOn": days_ago(days), "unplanned": true }),
        )
    };
    home(first.case.clone(), 300).await;
    w.must(
        "caseClose",
        "case { status }",
        json!({ "caseId": first.case, "reason": "OTHER", "rationale": "Synthetic.", "closedOn": days_ago(260) }),
    )
    .await;
    let episode = w
        .must(
            "episodeOpen",
            "episode { id }",
            json!({ "childId": first.child, "startedOn": days_ago(250), "legalStatus": "V2",
                    "categoryOfNeed": "N1", "placementType": "U6" }),
        )
        .await["episode"]["id"]
        .clone();
    let second = w
        .must(
            "caseOpen",
            "case { id attemptNumber }",
            json!({ "childId": first.child, "episodeId": episode, "team": "South", "openedOn": days_ago(249) }),
        )
        .await["case"]
        .clone();
    assert_eq!(second["attemptNumber"], 2);
    home(second["id"].as_str().unwrap().to_owned(), 100).await;
    let other = open_case(w, "INSIGHT2", 200).await;
    home(other.case, 150).await;
}

#[tokio::test]
async fn aggregates_follow_the_records() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    fixture(&w).await;

    // All time: each child once, by its last return; both unplanned (E4B).
    let all = insight(&m, json!({}), json!([])).await;
    let r = &all["returns"][0];
    assert_eq!(r["unplanned"]["value"], 2, "{all:#}");
    assert_eq!(r["planned"]["value"], 0);
    // Both last returns are past their 3-month window and neither child came back.
    assert_eq!(
        all["reentries"],
        json!([{ "months": 3, "children": { "value": 2 }, "count": { "value": 0 }, "rate": 0.0 }])
    );

    // The first return alone: the new episode 50 days later is a re-entry within 3 and 12 months.
    let first = insight(
        &m,
        json!({ "from": days_ago(310), "to": days_ago(290) }),
        json!([]),
    )
    .await;
    assert_eq!(first["returns"][0]["children"]["value"], 1, "{first:#}");
    assert_eq!(
        first["reentries"],
        json!([
            { "months": 3, "children": { "value": 1 }, "count": { "value": 1 }, "rate": 1.0 },
            { "months": 12, "children": { "value": 1 }, "count": { "value": 1 }, "rate": 1.0 }
        ])
    );

    // Grouped by attempt and filtered by legal status (of each case's own episode).
    let by_attempt = insight(&m, json!({ "legalStatuses": ["V2"] }), json!(["ATTEMPT"])).await;
    assert_eq!(
        by_attempt["cases"],
        json!([{ "key": [{ "dimension": "ATTEMPT", "value": "2" }], "cases": { "value": 1, "suppressed": false } }])
    );

    // A data analyst sees counts below 5 withheld; rounding is the caller's choice.
    let analyst = app.caller("201", &["data_analyst"]);
    let seen = insight(&analyst, json!({}), json!(["TEAM"])).await;
    for group in seen["returns"].as_array().unwrap() {
        assert_eq!(
            group["children"],
            json!({ "value": null, "suppressed": true }),
            "{seen:#}"
        );
    }
    assert_eq!(seen["reentries"][0]["rate"], Value::Null);
    // Another LA's analyst sees nothing of LA 201.
    let elsewhere = insight(&app.caller("202", &["data_analyst"]), json!({}), json!([])).await;
    assert_eq!(elsewhere["returns"], json!([]));
    assert_eq!(elsewhere["cases"], json!([]));
    // A caller without aggregates:read is refused.
    let iro = app.caller("201", &["iro"]).gql(RETURNS, json!({})).await;
    assert_eq!(
        iro["errors"][0]["extensions"]["code"], "FORBIDDEN",
        "{iro:#}"
    );
    // Bad filters are user errors naming the field.
    for (filter, named) in [
        (json!({ "ageBands": ["TEENS"] }), "TEENS"),
        (json!({ "legalStatuses": ["Z9"] }), "Z9"),
        (json!({ "teams": [] }), "at least one value"),
    ] {
        let bad = m.gql(RETURNS, json!({ "f": filter, "g": [] })).await;
        assert_eq!(
            bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
            "{bad:#}"
        );
        assert!(
            bad["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains(named),
            "{bad:#}"
        );
    }

    // The savings calculator fills in the LA's own figures: two children home in the last 12
    // months, no services recorded (low need); no return is 12 months old, so the breakdown rate
    // must be given. The LA's unit costs come before the published ones.
    let savings = "query($i: SavingsInput!) { reunificationSavings(input: $i) { returns supportCost costOfBreakdownsAvoided netSaving fromRecords } }";
    let refused = analyst
        .gql(savings, json!({ "i": { "targetRate": 0.25 } }))
        .await;
    assert_eq!(
        refused["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{refused:#}"
    );
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("breakdown rate")
    );
    // A rate given as a percentage: the error names the field, in its message and its path.
    let percent = analyst
        .gql(
            savings,
            json!({ "i": { "targetRate": 0.25, "breakdownRate": 47 } }),
        )
        .await;
    let error = &percent["errors"][0];
    assert_eq!(error["extensions"]["code"], "BAD_USER_INPUT", "{percent:#}");
    assert_eq!(
        error["extensions"]["field"],
        json!(["input", "breakdownRate"]),
        "{percent:#}"
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("input.breakdownRate: give a share between 0 and 1"),
        "{percent:#}"
    );
    let admin = app.caller("201", &["la_admin"]);
    admin
        .must(
            "localAuthoritySettingsUpdate",
            "localAuthority { unitCosts { reentry lowNeedSupport highNeedSupport } supportMonths }",
            json!({ "unitCosts": { "reentry": 100000.0, "lowNeedSupport": 2000.0 }, "supportMonths": 12 }),
        )
        .await;
    admin
        .refused(
            "localAuthoritySettingsUpdate",
            "localAuthority { id }",
            json!({ "unitCosts": { "reentry": -1.0 } }),
            "INVALID",
        )
        .await;
    let e = analyst
        .ok(
            savings,
            json!({ "i": { "targetRate": 0.25, "breakdownRate": 0.5 } }),
        )
        .await["reunificationSavings"]
        .clone();
    assert_eq!(
        e,
        json!({ "returns": 2.0, "supportCost": 4000.0, "costOfBreakdownsAvoided": 50000.0,
                "netSaving": 46000.0, "fromRecords": ["returns"] })
    );

    // The facts the aggregates load are the bodies of the rows the entity reads.
    use sea_orm::{EntityTrait as _, QueryOrder as _};
    let by_entity: Vec<_> = entities::case_fact::Entity::find()
        .order_by_asc(entities::case_fact::Column::CaseId)
        .all(&app.db)
        .await
        .unwrap()
        .into_iter()
        .map(|m| api::insight::facts::CaseFacts::read(&m.body).unwrap())
        .collect();
    let mut loaded = api::insight::facts::load(&app.db, 1).await.unwrap();
    loaded.sort_by_key(|f| f.case_id);
    assert_eq!(loaded, by_entity);

    // The facts are derived: dropped, `migrate` builds them again, and the figures are the same.
    let facts = app.scalar("SELECT COUNT(*) FROM case_fact").await;
    assert_eq!(facts, 3);
    use sea_orm::ConnectionTrait as _;
    app.db
        .execute_unprepared("DELETE FROM case_fact")
        .await
        .unwrap();
    assert_eq!(insight(&m, json!({}), json!([])).await["cases"], json!([]));
    api::server::migrate(&app.config()).await.unwrap();
    assert_eq!(app.scalar("SELECT COUNT(*) FROM case_fact").await, 3);
    assert_eq!(insight(&m, json!({}), json!([])).await, all);
}

const WORKLIST: &str = "query($f: WorklistFilter, $first: Int, $after: String) {
  worklist(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { kind dueOn overdue daysOverdue recordId case { id } }
  } }";

async fn worklist(c: &Caller, filter: Value) -> Vec<(String, String, String)> {
    let data = c.ok(WORKLIST, json!({ "f": filter })).await;
    data["worklist"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["kind"].as_str().unwrap().to_owned(),
                n["dueOn"].as_str().unwrap().to_owned(),
                n["case"]["id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn worklists_put_the_most_overdue_first() {
    let app = TestApp::spawn().await;
    let (w, m, o) = (app.worker(), app.manager(), app.officer());
    // This LA counts a goal green at its latest review as sustained (the setting's floor).
    app.caller("201", &["la_admin"])
        .must(
            "localAuthoritySettingsUpdate",
            "localAuthority { goalSustainedWeeks }",
            json!({ "goalSustainedWeeks": 0 }),
        )
        .await;
    // A: its review was due three days ago.
    let a = open_case(&w, "WORK1", 100).await;
    w.must("reviewRecord", "review { id }", json!({ "caseId": a.case, "kind": "LOOKED_AFTER", "heldOn": days_ago(30), "decisions": "Synthetic.", "nextReviewOn": days_ago(3) })).await;
    // B: went home 200 days ago with no support: support "ended" that day, RC3 was due at six months.
    let b = open_case(&w, "WORK2", 300).await;
    w.must(
        "returnRecord",
        "case { stage }",
        json!({ "caseId": b.case, "returnedOn": days_ago(200), "unplanned": true }),
    )
    .await;
    // C: a goal due in five days, and D3 awaiting the nominated officer since today.
    let c = open_case(&w, "WORK3", 60).await;
    let mother = w.must("householdMemberAdd", "householdMember { id }", json!({ "childId": c.child, "relationship": "MOTHER", "hasParentalResponsibility": true, "livesWithChild": true })).await["householdMember"]["id"].clone();
    complete_required(&w, &c.case).await;
    decide(&w, &c.case, "D1", "YES", json!({})).await;
    complete_required(&w, &c.case).await;
    classify(&w, &m, &c.case, "RC1", "MEDIUM", 0).await;
    sign_off(&m, &c.case, 0).await;
    decide(&w, &c.case, "D2", "YES", json!({})).await;
    let agreement = w.must("agreementCreate", "agreement { id }", json!({ "caseId": c.case, "parties": [{ "householdMemberId": mother, "strengths": "Synthetic.", "concerns": "Synthetic." }] })).await["agreement"]["id"].clone();
    let goal = w.must("goalAdd", "goal { id }", json!({ "agreementId": agreement, "householdMemberId": mother, "description": "Synthetic goal.", "steps": "Synthetic.", "responsible": "Mother", "supportOffered": "Synthetic.", "targetDate": days_ago(-5) })).await["goal"]["id"].clone();
    w.must(
        "agreementAgree",
        "agreement { status }",
        json!({ "agreementId": agreement, "agreedOn": days_ago(0) , "withoutAcceptanceReason": "Synthetic: acceptance to follow." }),
    )
    .await;
    w.must("goalReview", "goal { id }", json!({ "goalId": goal, "rating": "GREEN", "note": "Synthetic.", "evidence": "Synthetic.", "reviewedOn": days_ago(0) })).await;
    w.must("serviceAdd", "service { id }", json!({ "caseId": c.case, "serviceType": "PARENTING_SUPPORT", "provider": "Synthetic provider", "needLevel": "HIGH", "startsOn": days_ago(5), "status": "ACTIVE" })).await;
    w.must(
        "supportPlanUpdate",
        "supportPlan { id }",
        json!({ "caseId": c.case, "contingencyPlan": "Synthetic.", "trustedAdult": "Synthetic" }),
    )
    .await;
    complete_required(&w, &c.case).await;
    w.must(
        "goalsStageComplete",
        "case { stage }",
        json!({ "caseId": c.case }),
    )
    .await;
    classify(&w, &m, &c.case, "RC2", "LOW", 0).await;
    complete_required(&w, &c.case).await;
    let d3 = decide(&w, &c.case, "D3", "YES", json!({})).await;
    assert_eq!(d3["decision"]["approvalStatus"], "PENDING");

    let rc3_due = (chrono::Utc::now().date_naive() - chrono::Duration::days(200))
        .checked_add_months(chrono::Months::new(6))
        .unwrap()
        .to_string();
    // B has had no visit since it went home: one was due six weeks (the LA's frequency) after.
    let expected = vec![
        ("SUPPORT_ENDING".to_owned(), days_ago(200), b.case.clone()),
        ("VISIT_DUE".to_owned(), days_ago(158), b.case.clone()),
        ("RC3_DUE".to_owned(), rc3_due, b.case.clone()),
        ("REVIEW_DUE".to_owned(), days_ago(3), a.case.clone()),
        ("APPROVAL_AWAITED".to_owned(), days_ago(0), c.case.clone()),
        ("GOAL_TARGET".to_owned(), days_ago(-5), c.case.clone()),
    ];
    assert_eq!(worklist(&m, json!({})).await, expected);
    let first = m.ok(WORKLIST, json!({ "first": 2 })).await["worklist"].clone();
    assert_eq!(first["totalCount"], 6);
    assert_eq!(first["nodes"][0]["overdue"], true);
    assert_eq!(first["nodes"][0]["daysOverdue"], 200);
    let rest = m
        .ok(
            WORKLIST,
            json!({ "first": 10, "after": first["pageInfo"]["endCursor"] }),
        )
        .await["worklist"]["nodes"]
        .clone();
    assert_eq!(rest.as_array().unwrap().len(), 4, "{rest:#}");
    assert_eq!(rest[0]["kind"], "RC3_DUE");
    assert_eq!(rest[1]["kind"], "REVIEW_DUE");
    assert_eq!(rest[2]["recordId"], d3["decision"]["id"]);
    assert_eq!(rest[3]["recordId"], goal);
    assert_eq!(rest[3]["daysOverdue"], -5);

    // Narrowing: the horizon, kinds, teams, the caller's own cases.
    assert_eq!(
        worklist(&m, json!({ "withinDays": 0 })).await,
        expected[..5]
    );
    assert_eq!(
        worklist(&m, json!({ "kinds": ["RC3_DUE"] })).await,
        expected[2..3]
    );
    assert_eq!(worklist(&m, json!({ "teams": ["South"] })).await, []);
    assert_eq!(worklist(&w, json!({ "mine": true })).await, expected);
    assert_eq!(worklist(&m, json!({ "mine": true })).await, []);
    // Done things leave the list: RC3 agreed, D3 approved.
    classify(&w, &m, &b.case, "RC3", "LOW", 0).await;
    o.must(
        "decisionApprove",
        "decision { approvalStatus }",
        json!({ "decisionId": d3["decision"]["id"] }),
    )
    .await;
    let kinds: Vec<String> = worklist(&m, json!({}))
        .await
        .into_iter()
        .map(|i| i.0)
        .collect();
    assert_eq!(
        kinds,
        ["SUPPORT_ENDING", "VISIT_DUE", "REVIEW_DUE", "GOAL_TARGET"]
    );
    // Child-level: a data analyst may not see worklists; a bad horizon is a user error.
    let analyst = app
        .caller("201", &["data_analyst"])
        .gql(WORKLIST, json!({}))
        .await;
    assert_eq!(analyst["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let bad = m.gql(WORKLIST, json!({ "f": { "withinDays": 400 } })).await;
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad:#}"
    );
    // Another LA's manager sees none of it.
    assert_eq!(
        worklist(&app.caller("202", &["team_manager"]), json!({})).await,
        []
    );
}

/// `YYYY-MM-DD` → SSDA903's `DD/MM/YYYY`.
fn ssda(iso: &str) -> String {
    let d: chrono::NaiveDate = iso.parse().unwrap();
    d.format("%d/%m/%Y").to_string()
}

async fn get(app: &TestApp, c: Option<&Caller>, path: &str) -> (u16, String, String) {
    let mut req = app.http().get(format!("{}{path}", app.base));
    if let Some(c) = c {
        req = req.bearer_auth(&c.token);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, ct, resp.text().await.unwrap())
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[tokio::test]
async fn exports_stream_ssda903_codes_and_aggregates_and_are_audited() {
    let app = TestApp::spawn().await;
    let (w, m) = (app.worker(), app.manager());
    fixture(&w).await;

    let (status, ct, text) = get(&app, Some(&m), "/exports/episodes.csv").await;
    assert_eq!(status, 200, "{text}");
    assert!(ct.starts_with("text/csv"), "{ct}");
    let (header, rows) = csv_rows(&text);
    assert_eq!(header, api::insight::export::EPISODE_COLUMNS);
    assert_eq!(rows.len(), 3);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    // Every row round-trips against what the API says of the same case.
    for row in &rows {
        let case = m
            .ok(
                "query($id: ID!) { case(id: $id) { attemptNumber stage status openedOn
                   child { laChildId sex dateOfBirth ethnicity upn }
                   episode { startedOn legalStatus categoryOfNeed placementType endedOn reasonCeased }
                   outcome { returnedOn returnType } } }",
                json!({ "id": row[col("REUNIFY_CASE_ID")] }),
            )
            .await["case"]
            .clone();
        let (child, ep) = (&case["child"], &case["episode"]);
        let text = |v: &Value| v.as_str().map(str::to_owned).unwrap_or_default();
        let date = |v: &Value| v.as_str().map(ssda).unwrap_or_default();
        let expected = [
            ("CHILD", text(&child["laChildId"])),
            ("SEX", text(&child["sex"])),
            ("DOB", date(&child["dateOfBirth"])),
            ("ETHNIC", text(&child["ethnicity"])),
            ("UPN", text(&child["upn"])),
            ("DECOM", date(&ep["startedOn"])),
            ("LS", text(&ep["legalStatus"])),
            ("CIN", text(&ep["categoryOfNeed"])),
            ("PLACE", text(&ep["placementType"])),
            ("DEC", date(&ep["endedOn"])),
            ("REC", text(&ep["reasonCeased"])),
            ("ATTEMPT", case["attemptNumber"].to_string()),
            ("STAGE", text(&case["stage"])),
            ("STATUS", text(&case["status"])),
            ("CASE_OPENED", date(&case["openedOn"])),
            ("RETURN_DATE", date(&case["outcome"]["returnedOn"])),
            ("RETURN_TYPE", text(&case["outcome"]["returnType"])),
        ];
        for (name, value) in expected {
            assert_eq!(row[col(name)], value, "{name} of {row:?}");
        }
    }
    // The first case: home unplanned (E4B) 300 days ago, back in care 250 days ago.
    let first = rows
        .iter()
        .find(|r| r[col("REC")] == "E4B" && r[col("ATTEMPT")] == "1")
        .unwrap();
    assert_eq!(first[col("CHILD")], "INSIGHT1");
    assert_eq!(first[col("DEC")], ssda(&days_ago(300)));
    assert_eq!(first[col("REENTRY_DATE")], ssda(&days_ago(250)));
    assert_eq!(first[col("CLOSURE_REASON")], "OTHER");

    // Paged output is the same file: read two cases at a time.
    let tx = api::db::begin_tenant_read(&app.app_db, 1, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    use futures_util::StreamExt as _;
    let chunks: Vec<_> = api::insight::export::episodes_csv(tx, 1, 2).collect().await;
    assert_eq!(chunks.len(), 3, "the header and two pages");
    let paged: Vec<u8> = chunks
        .into_iter()
        .flat_map(|c| c.unwrap().to_vec())
        .collect();
    assert_eq!(String::from_utf8(paged).unwrap(), text);

    // Aggregates as JSON Lines: every line an object naming its aggregate; an analyst's small
    // counts withheld.
    let analyst = app.caller("201", &["data_analyst"]);
    let (status, ct, text) = get(
        &app,
        Some(&analyst),
        "/exports/insight.jsonl?groupBy=TEAM,YEAR",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(ct, "application/jsonl");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let returns: Vec<&Value> = lines
        .iter()
        .filter(|l| l["aggregate"] == "returns")
        .collect();
    assert_eq!(returns.len(), 2, "{text}");
    for r in returns {
        assert_eq!(r["children"], json!({ "value": null, "suppressed": true }));
        assert_eq!(r["key"][0]["dimension"], "TEAM");
        assert_eq!(r["key"][1]["dimension"], "YEAR");
    }
    // The manager's export has the same figures as the GraphQL field.
    let (_, _, text) = get(&app, Some(&m), "/exports/insight.jsonl").await;
    let exported: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["aggregate"] == "reentries")
        .map(|mut l| {
            l.as_object_mut().unwrap().remove("aggregate");
            l.as_object_mut().unwrap().remove("key");
            l
        })
        .collect();
    let graphql = m
        .ok("{ insight { reentries { months children { value suppressed } count { value suppressed } rate } } }", json!({}))
        .await["insight"]["reentries"]
        .clone();
    assert_eq!(Value::Array(exported), graphql);

    // Refusals: no token, a social worker for records, an IRO for aggregates, bad parameters.
    assert_eq!(get(&app, None, "/exports/episodes.csv").await.0, 401);
    let (status, _, body) = get(&app, Some(&w), "/exports/episodes.csv").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("FORBIDDEN"));
    assert_eq!(
        get(&app, Some(&analyst), "/exports/episodes.csv").await.0,
        403
    );
    assert_eq!(
        get(
            &app,
            Some(&app.caller("201", &["iro"])),
            "/exports/insight.jsonl"
        )
        .await
        .0,
        403
    );
    for bad in [
        "groupBy=COLOUR",
        "from=2025-13-01",
        "from=2025-02-01&to=2025-01-01",
        "teams=North",
    ] {
        let (status, _, body) = get(&app, Some(&m), &format!("/exports/insight.jsonl?{bad}")).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(body.contains("BAD_USER_INPUT"), "{body}");
    }
    // Audited: one EXPORT row per export sent, one refusal per export refused.
    let exports = app
        .scalar("SELECT COUNT(*) FROM audit_event WHERE action = 'EXPORT' AND outcome = 'ALLOWED'")
        .await;
    assert_eq!(exports, 3);
    let refused = app
        .scalar("SELECT COUNT(*) FROM audit_event WHERE action = 'EXPORT' AND outcome = 'DENIED'")
        .await;
    assert_eq!(refused, 3);
}
