//! The SSDA903 return in its own shape: the Header and Episodes tables over HTTP, with the DfE's
//! exact columns, every 903 field the records hold, and — where CI provides the DfE's validator
//! (`REUNIFY_903_PYTHON`, the Python of a virtual environment with `.ci/requirements-903.txt`) —
//! the demo LA's return judged by the DfE rules for the current collection year: 0 failures.

use std::path::PathBuf;

use serde_json::json;

use crate::support::{Caller, TestApp, open_case};

#[tokio::test]
async fn a_generated_la_of_several_hundred_histories_passes_the_dfe_rules() {
    let app = TestApp::spawn().await;
    let summary = api::seed::generated(&app.app_db, "998", 400, 903)
        .await
        .unwrap();
    eprintln!("{summary}");
    let manager = app.caller("998", &["team_manager"]);
    let (status, header) = get(&app, &manager, "/exports/ssda903/header.csv").await;
    assert_eq!(status, 200, "{header}");
    let (_, episodes) = get(&app, &manager, "/exports/ssda903/episodes.csv").await;
    let rows = episodes.lines().count() - 1;
    assert!(header.lines().count() > 200, "{header}");
    // Realistic histories: placement changes, placed with parents, each way of going home.
    for code in [",X1,", ",P1,PR0,", ",E4A,", ",E4B,", ",E13,", ",P,"] {
        assert!(episodes.contains(code), "no {code} in the generated return");
    }
    eprintln!(
        "generated return: {} children, {rows} episodes",
        header.lines().count() - 1
    );
    validate("generated", &header, &episodes);
}

/// GETs an export as text; the status too.
async fn get(app: &TestApp, c: &Caller, path: &str) -> (u16, String) {
    let resp = app
        .http()
        .get(format!("{}{path}", app.base))
        .bearer_auth(&c.token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.text().await.unwrap())
}

/// Runs the DfE rules over a return, when CI gives the validator; the report on failure.
fn validate(name: &str, header: &str, episodes: &str) {
    let Ok(python) = std::env::var("REUNIFY_903_PYTHON") else {
        eprintln!("REUNIFY_903_PYTHON not set: the DfE rules are run by .ci/run");
        return;
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("ssda903-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let (h, e) = (dir.join("header.csv"), dir.join("episodes.csv"));
    std::fs::write(&h, header).unwrap();
    std::fs::write(&e, episodes).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../.ci/validate903.py");
    let out = std::process::Command::new(python)
        .args([script, "--la", api::seed::AREA])
        .arg(&h)
        .arg(&e)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the DfE 903 rules refuse the {name} return:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("{name}: {report}");
}

#[tokio::test]
async fn the_demo_las_return_is_in_the_903_shape_and_passes_the_dfe_rules() {
    let app = TestApp::spawn().await;
    api::seed::demo(&app.app_db).await.unwrap();
    let manager = app.caller("999", &["team_manager"]);
    let (status, header) = get(&app, &manager, "/exports/ssda903/header.csv").await;
    assert_eq!(status, 200, "{header}");
    let (status, episodes) = get(&app, &manager, "/exports/ssda903/episodes.csv").await;
    assert_eq!(status, 200, "{episodes}");
    assert_eq!(
        header.lines().next().unwrap(),
        "CHILD,SEX,DOB,ETHNIC,UPN,MOTHER,MC_DOB"
    );
    assert_eq!(
        episodes.lines().next().unwrap(),
        "CHILD,DECOM,RNE,LS,CIN,PLACE,PLACE_PROVIDER,DEC,REC,REASON_PLACE_CHANGE,HOME_POST,PL_POST,URN"
    );
    // The children looked after at some time this year (one went home before it began).
    assert!(header.lines().count() > 7, "{header}");
    // Every cell the demo's records can fill is filled.
    for line in header.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert!(cells[..5].iter().all(|c| !c.is_empty()), "{line}");
        assert_eq!(
            cells[5].is_empty(),
            cells[1] == "M",
            "MOTHER for girls: {line}"
        );
    }
    validate("demo", &header, &episodes);
}

#[tokio::test]
async fn the_return_holds_what_the_vendor_sent_and_what_follows_from_the_records() {
    let app = TestApp::spawn().await;
    let w = app.worker();
    let f = open_case(&w, "R903A", 30).await;
    // A child of the vendor's with every 903 field.
    let child = w
        .must(
            "childCreate",
            "child { id isMother motherChildDateOfBirth }",
            json!({ "laChildId": "R903B", "dateOfBirth": "2010-02-03", "sex": "F", "ethnicity": "WBRI",
                    "upnUnknownReason": "UN2", "isMother": true, "motherChildDateOfBirth": "2025-01-02" }),
        )
        .await;
    assert_eq!(child["child"]["isMother"], true);
    let episode = w
        .must(
            "episodeOpen",
            "episode { reasonNewEpisode placementProvider homePostcode placementPostcode urn }",
            json!({ "childId": child["child"]["id"], "startedOn": "2026-05-01", "legalStatus": "C2",
                    "categoryOfNeed": "N1", "placementType": "U4", "reasonNewEpisode": "S",
                    "placementProvider": "PR4", "homePostcode": "tw1  1aa", "placementPostcode": "TW1 1AF",
                    "urn": "sc123456" }),
        )
        .await;
    assert_eq!(
        episode["episode"],
        json!({ "reasonNewEpisode": "S", "placementProvider": "PR4", "homePostcode": "TW1 1AA",
                "placementPostcode": "TW1 1AF", "urn": "SC123456" })
    );
    // What the 903 rules for one record refuse is a user error naming the field.
    for (extra, field) in [
        (json!({ "placementProvider": "PR0" }), "placementProvider"),
        (json!({ "urn": "12" }), "urn"),
        (json!({ "homePostcode": "NOT A POSTCODE" }), "homePostcode"),
        (json!({ "reasonPlaceChange": "CARPL" }), "reasonPlaceChange"),
        (json!({ "reasonPlaceChange": "NOPE" }), "reasonPlaceChange"),
        (json!({ "reasonNewEpisode": "Q" }), "reasonNewEpisode"),
    ] {
        let mut input = json!({ "childId": f.child, "startedOn": "2026-05-01", "legalStatus": "C2",
                                "categoryOfNeed": "N1", "placementType": "U4" });
        input
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let p = w.mutate("episodeOpen", "episode { id }", input).await;
        assert_eq!(
            p["userErrors"][0]["field"],
            json!(["input", field]),
            "{p:#}"
        );
    }
    let boy = w
        .mutate(
            "childCreate",
            "child { id }",
            json!({ "laChildId": "R903C", "dateOfBirth": "2010-02-03", "sex": "M", "ethnicity": "WBRI",
                    "isMother": false }),
        )
        .await;
    assert_eq!(boy["userErrors"][0]["field"], json!(["input", "isMother"]));

    let manager = app.manager();
    let (_, header) = get(&app, &manager, "/exports/ssda903/header.csv?year=2026-27").await;
    assert!(
        header.contains("R903B,F,03/02/2010,WBRI,UN2,1,02/01/2025"),
        "the UPN-unknown code stands in the UPN: {header}"
    );
    let (_, episodes) = get(&app, &manager, "/exports/ssda903/episodes.csv?year=2026-27").await;
    assert!(
        episodes.contains("R903B,01/05/2026,S,C2,N1,U4,PR4,,,,TW1 1AA,TW1 1AF,SC123456"),
        "{episodes}"
    );
    // Another year holds none of them; a bad year is a JSON error; a worker may not export.
    let (_, old) = get(&app, &manager, "/exports/ssda903/header.csv?year=2019-20").await;
    assert_eq!(old.lines().count(), 1, "{old}");
    let (status, bad) = get(&app, &manager, "/exports/ssda903/header.csv?year=2026").await;
    assert_eq!(status, 400, "{bad}");
    let (status, _) = get(&app, &w, "/exports/ssda903/episodes.csv").await;
    assert_eq!(status, 403);
}
