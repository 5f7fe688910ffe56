//! Many replicas on one PostgreSQL database: `reunify serve` processes started at the same moment
//! on a fresh database, and again on the database they migrated. All come up; the migrations are
//! applied once (each is logged as applied by one process only); there is one development key and
//! one demo LA; a token minted by `reunify token` is accepted by every instance; and a caller who
//! has spent the limit is refused by whichever instance it reaches — the limit is the cluster's,
//! not each replica's. PostgreSQL only: SQLite is one instance by design.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sea_orm::{ConnectionTrait as _, Database, DatabaseConnection};
use serde_json::{Value, json};

use crate::support::{APP_LOGIN, count, drop_database, ensure_roles};

const BINARY: &str = env!("CARGO_BIN_EXE_reunify-under-test");

/// The limit under test: a bucket of 12 refilled at one point a minute, so the test's own
/// seconds add nothing to it.
const BURST: u32 = 12;

/// A fresh PostgreSQL database, dropped at the end.
struct FreshDatabase {
    admin: String,
    name: String,
    owner_url: String,
    app_url: String,
}

impl FreshDatabase {
    async fn create(admin: String) -> (FreshDatabase, DatabaseConnection) {
        let name = format!("reunify_replicas_{}", std::process::id());
        let conn = Database::connect(&admin).await.unwrap();
        ensure_roles(&conn).await;
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .unwrap();
        conn.execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
        let (scheme, rest) = base.split_once("://").unwrap();
        let host = rest.rsplit_once('@').map_or(rest, |(_, h)| h);
        let fresh = FreshDatabase {
            owner_url: format!("{base}/{name}"),
            app_url: format!("{scheme}://{APP_LOGIN}@{host}/{name}?sslmode=disable"),
            admin,
            name,
        };
        let owner = Database::connect(&fresh.owner_url).await.unwrap();
        (fresh, owner)
    }

    fn env(&self) -> Vec<(String, String)> {
        [
            ("REUNIFY_DATABASE_URL", self.app_url.as_str()),
            ("REUNIFY_MIGRATION_DATABASE_URL", self.owner_url.as_str()),
            ("REUNIFY_MODE", "development"),
            ("REUNIFY_DATABASE_POOL_SIZE", "3"),
            ("REUNIFY_RATE_LIMIT_PER_MINUTE", "1"),
            ("REUNIFY_RATE_LIMIT_BURST", "12"),
            ("RUST_LOG", "sea_orm_migration=info,warn"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }
}

impl Drop for FreshDatabase {
    fn drop(&mut self) {
        drop_database(self.admin.clone(), self.name.clone());
    }
}

/// A `reunify serve` process, killed when dropped; its log kept in a file.
struct Instance {
    child: Child,
    base: String,
    log: tempfile::NamedTempFile,
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Instance {
    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap()
    }
}

/// Starts `n` instances at once and waits until every one is ready (failing with the log of one
/// that exits instead).
async fn start_together(db: &FreshDatabase, n: usize) -> Vec<Instance> {
    let mut instances: Vec<Instance> = (0..n)
        .map(|_| {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let log = tempfile::NamedTempFile::new().unwrap();
            let child = Command::new(BINARY)
                .arg("serve")
                .envs(db.env())
                .env("REUNIFY_LISTEN", format!("127.0.0.1:{port}"))
                .stdout(Stdio::null())
                .stderr(log.reopen().unwrap())
                .spawn()
                .unwrap();
            Instance {
                child,
                base: format!("http://127.0.0.1:{port}"),
                log,
            }
        })
        .collect();
    let http = reqwest::Client::new();
    for (i, instance) in instances.iter_mut().enumerate() {
        let mut ready = false;
        for _ in 0..600 {
            if let Some(status) = instance.child.try_wait().unwrap() {
                panic!("instance {i} exited ({status}):\n{}", instance.log());
            }
            if let Ok(r) = http.get(format!("{}/readyz", instance.base)).send().await
                && r.status() == 200
            {
                ready = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(
            ready,
            "instance {i} never became ready:\n{}",
            instance.log()
        );
    }
    instances
}

/// How many times the instances' logs say a migration was applied.
fn applied(instances: &[Instance]) -> usize {
    instances
        .iter()
        .map(|i| i.log().matches("has been applied").count())
        .sum()
}

fn token(db: &FreshDatabase) -> String {
    let out = Command::new(BINARY)
        .args(["token", "--la", "999", "--role", "social_worker"])
        .envs(db.env())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn me(http: &reqwest::Client, base: &str, token: &str) -> (u16, Value) {
    let r = http
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ me { localAuthority { name } } }" }))
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn replicas_started_together_migrate_once_share_one_key_one_demo_and_one_limit() {
    let admin = match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => {
            eprintln!("SQLite: replicas need PostgreSQL; skipped");
            return;
        }
    };
    let (db, owner) = FreshDatabase::create(admin).await;

    // A fresh database, four instances at once.
    let instances = start_together(&db, 4).await;
    let migrations = count(&owner, "SELECT count(*) FROM seaql_migrations").await;
    assert!(migrations >= 16, "{migrations}");
    assert_eq!(
        applied(&instances) as i64,
        migrations,
        "each migration applied by one instance only"
    );
    assert_eq!(
        count(&owner, "SELECT count(*) FROM development_key").await,
        1
    );
    assert_eq!(
        count(
            &owner,
            "SELECT count(*) FROM local_authority WHERE dfe_code = '999'"
        )
        .await,
        1
    );
    let demo_children = count(
        &owner,
        "SELECT count(*) FROM child c JOIN local_authority l ON l.id = c.la_id \
         WHERE l.dfe_code = '999'",
    )
    .await;
    assert_eq!(demo_children, 8, "the demo seeded once");

    // One token, every instance; then the caller's bucket of 12, spent across all four: once it
    // is empty every instance refuses, and no more than 12 were answered in all.
    let token = token(&db);
    let http = reqwest::Client::new();
    let mut answered = 0;
    let mut answered_by = vec![0; instances.len()];
    let mut refused_round = false;
    for _round in 0..10 {
        let mut refused = 0;
        for (i, instance) in instances.iter().enumerate() {
            let (status, body) = me(&http, &instance.base, &token).await;
            match status {
                200 => {
                    assert_eq!(
                        body["data"]["me"]["localAuthority"]["name"], "Demo Borough (synthetic)",
                        "{body:#}"
                    );
                    answered += 1;
                    answered_by[i] += 1;
                }
                429 => {
                    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
                    refused += 1;
                }
                other => panic!("instance {i} answered {other}: {body:#}"),
            }
        }
        if refused == instances.len() {
            refused_round = true;
            break;
        }
        // Let each instance's background top-up land before its next turn.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        answered_by.iter().all(|n| *n > 0),
        "the token is accepted by every instance: {answered_by:?}"
    );
    assert!(
        refused_round,
        "every instance refuses the caller once the limit is spent"
    );
    assert_eq!(
        answered, BURST,
        "the limit is the cluster's: {answered_by:?} answered"
    );
    drop(instances);

    // The database they migrated, three instances at once: nothing to apply, nothing to add, and
    // the token still good everywhere (a new caller's bucket: the old one is empty).
    let instances = start_together(&db, 3).await;
    assert_eq!(applied(&instances), 0, "nothing left to apply");
    assert_eq!(
        count(&owner, "SELECT count(*) FROM seaql_migrations").await,
        migrations
    );
    assert_eq!(
        count(&owner, "SELECT count(*) FROM development_key").await,
        1
    );
    assert_eq!(
        count(
            &owner,
            "SELECT count(*) FROM child c JOIN local_authority l ON l.id = c.la_id \
             WHERE l.dfe_code = '999'",
        )
        .await,
        8
    );
    let other = Command::new(BINARY)
        .args([
            "token",
            "--la",
            "999",
            "--role",
            "team_manager",
            "--subject",
            "replica-check",
        ])
        .envs(db.env())
        .output()
        .unwrap();
    assert!(
        other.status.success(),
        "{}",
        String::from_utf8_lossy(&other.stderr)
    );
    let other = String::from_utf8(other.stdout).unwrap().trim().to_owned();
    for (i, instance) in instances.iter().enumerate() {
        let (status, body) = me(&http, &instance.base, &other).await;
        assert_eq!(status, 200, "instance {i}: {body:#}");
    }
    drop(owner);
}
