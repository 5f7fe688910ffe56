//! Scenario `insight`: seeds a PostgreSQL database with L LAs × C synthetic cases with full
//! histories (stages, decisions, classifications, agreements and goals, services, checklists,
//! outcomes, re-entries), builds the case facts as `reunify migrate` does, starts the release
//! server on it and times the `insight` query (every aggregate) for one LA over HTTP, and the
//! cross-LA figures (`reunify insight --all-las`, in process).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{Days, NaiveDate};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::json;

use crate::{Server, percentile};

#[derive(clap::Args)]
pub struct InsightArgs {
    /// Local authorities.
    #[arg(long, default_value_t = 50)]
    las: usize,
    /// Cases per LA.
    #[arg(long, default_value_t = 2000)]
    cases: usize,
    /// Runs of each query per LA sampled.
    #[arg(long, default_value_t = 20)]
    runs: usize,
    /// Runs of the all-LA figures.
    #[arg(long, default_value_t = 15)]
    all_runs: usize,
    /// LAs sampled for the per-LA queries.
    #[arg(long, default_value_t = 5)]
    sample: usize,
    /// An empty PostgreSQL database (the schema owner's URL; it is migrated and seeded).
    #[arg(long)]
    database_url: String,
    /// The server binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/reunify")]
    binary: PathBuf,
    /// Where to write the results table (Markdown).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Drop every case fact of a database seeded earlier and time building them all again.
    #[arg(long)]
    rebuild_facts: bool,
}

/// A deterministic generator (xorshift64*): the same database every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn days(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

/// Multi-row `INSERT`s of one table (sent, all tables in foreign-key order, once any holds 1,000
/// rows).
struct Batch {
    table: &'static str,
    columns: &'static str,
    rows: Vec<String>,
}

impl Batch {
    fn new(table: &'static str, columns: &'static str) -> Self {
        Self {
            table,
            columns,
            rows: Vec::new(),
        }
    }
    fn push(&mut self, row: String) {
        self.rows.push(row);
    }
    async fn flush(&mut self, db: &DatabaseConnection) -> anyhow::Result<()> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.table,
            self.columns,
            self.rows.join("),(")
        );
        db.execute_unprepared(&sql)
            .await
            .with_context(|| format!("inserting into {}", self.table))?;
        self.rows.clear();
        Ok(())
    }
}

fn q(d: NaiveDate) -> String {
    format!("'{d}'")
}

fn opt(d: Option<NaiveDate>) -> String {
    d.map_or_else(|| "NULL".to_owned(), q)
}

const STAGES: [&str; 5] = [
    "IDENTIFICATION",
    "ASSESSMENT",
    "GOALS_AND_SERVICES",
    "RETURN_DECISION",
    "RETURN_AND_SUPPORT",
];
const SERVICES: [&str; 6] = [
    "PARENTING_SUPPORT",
    "ADULT_MENTAL_HEALTH",
    "DRUG_AND_ALCOHOL",
    "DOMESTIC_ABUSE",
    "CHILD_MENTAL_HEALTH",
    "FAMILY_SUPPORT_WORKER",
];
const FACTORS: [&str; 6] = [
    "ALCOHOL_MISUSE",
    "DRUG_MISUSE",
    "DOMESTIC_ABUSE",
    "PARENTAL_MENTAL_HEALTH",
    "NEGLECT",
    "SEXUAL_HARM",
];
const NEEDS: [&str; 3] = ["HIGH", "MEDIUM", "LOW"];
const LEGAL: [&str; 4] = ["C2", "C1", "V2", "V2"];

/// All the tables a case's history touches.
struct Tables {
    child: Batch,
    episode: Batch,
    case: Batch,
    stage: Batch,
    decision: Batch,
    classification: Batch,
    agreement: Batch,
    goal: Batch,
    service: Batch,
    checklist: Batch,
    outcome: Batch,
    goal_review: Batch,
    factor: Batch,
    view: Batch,
    review: Batch,
    plan: Batch,
    visit: Batch,
}

impl Tables {
    fn new() -> Self {
        Self {
            child: Batch::new(
                "child",
                "id, la_id, la_child_id, date_of_birth, sex, ethnicity, legal_hold, version, created_at, updated_at",
            ),
            episode: Batch::new(
                "care_episode",
                "id, la_id, child_id, started_on, legal_status, category_of_need, placement_type, ended_on, reason_ceased, version, created_at, updated_at",
            ),
            case: Batch::new(
                "reunification_case",
                "id, la_id, child_id, episode_id, attempt_number, team, stage, status, return_type, alternative_plan, risk_level, opened_on, closed_on, next_review_on, version, created_at, updated_at",
            ),
            stage: Batch::new(
                "stage_progress",
                "la_id, case_id, stage, entered_on, completed_on, created_at",
            ),
            decision: Batch::new(
                "decision",
                "la_id, case_id, kind, outcome, rationale, decided_on, approval_status, alternative_plan, version, created_at, updated_at",
            ),
            classification: Batch::new(
                "risk_classification",
                "la_id, case_id, kind, level, rationale, classified_on, agreed_on, version, created_at, updated_at",
            ),
            agreement: Batch::new(
                "parental_agreement",
                "id, la_id, case_id, number, status, agreed_on, version, created_at, updated_at",
            ),
            goal: Batch::new(
                "goal",
                "id, la_id, case_id, agreement_id, description, steps, responsible, support_offered, target_date, status, latest_rating, sustained_since, version, created_at, updated_at",
            ),
            service: Batch::new(
                "support_service",
                "la_id, case_id, service_type, provider, need_level, starts_on, ends_on, status, version, created_at, updated_at",
            ),
            checklist: Batch::new(
                "checklist_item",
                "la_id, case_id, stage, key, label, required, position, completed_on, version, created_at, updated_at",
            ),
            outcome: Batch::new(
                "outcome",
                "la_id, case_id, return_on, return_type, reentered_care_on, closure_reason, closed_on, version, created_at, updated_at",
            ),
            goal_review: Batch::new(
                "goal_review",
                "la_id, goal_id, case_id, reviewed_on, rating, note, evidence, created_at",
            ),
            factor: Batch::new(
                "assessment_factor",
                "la_id, case_id, kind, category, status, evidence, recorded_on, version, created_at, updated_at",
            ),
            view: Batch::new(
                "child_view",
                "la_id, case_id, recorded_on, in_own_words, content, version, created_at, updated_at",
            ),
            review: Batch::new(
                "review",
                "la_id, case_id, kind, held_on, decisions, next_review_on, version, created_at, updated_at",
            ),
            plan: Batch::new(
                "support_plan",
                "la_id, case_id, contingency_plan, trusted_adult, version, created_at, updated_at",
            ),
            visit: Batch::new(
                "visit",
                "la_id, case_id, visited_on, child_seen, child_seen_alone, observations, version, created_at, updated_at",
            ),
        }
    }

    fn full(&self) -> bool {
        [
            &self.stage,
            &self.checklist,
            &self.goal,
            &self.case,
            &self.visit,
        ]
        .iter()
        .any(|b| b.rows.len() >= 1000)
    }

    async fn flush(&mut self, db: &DatabaseConnection) -> anyhow::Result<()> {
        for b in [
            &mut self.child,
            &mut self.episode,
            &mut self.case,
            &mut self.stage,
            &mut self.decision,
            &mut self.classification,
            &mut self.agreement,
            &mut self.goal,
            &mut self.service,
            &mut self.checklist,
            &mut self.outcome,
            &mut self.goal_review,
            &mut self.factor,
            &mut self.view,
            &mut self.review,
            &mut self.plan,
            &mut self.visit,
        ] {
            b.flush(db).await?;
        }
        Ok(())
    }
}

/// Seeds one LA's cases; ids are `la * 10^6 + n` so LAs never collide.
async fn seed_la(
    db: &DatabaseConnection,
    t: &mut Tables,
    la: i64,
    cases: usize,
    today: NaiveDate,
    rng: &mut Rng,
) -> anyhow::Result<()> {
    const N: &str = "1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP";
    const NOW: &str = "CURRENT_TIMESTAMP";
    let base = la * 1_000_000;
    let mut episode_id = base;
    for n in 1..=cases as i64 {
        let id = base + n;
        let child = id;
        episode_id += 1;
        let episode = episode_id;
        let opened = today - Days::new(rng.days(30, 1400));
        let care_started = opened - Days::new(rng.days(5, 300));
        let birth = care_started - Days::new(rng.days(100, 16 * 365));
        t.child.push(format!(
            "{child}, {la}, 'B{id}', {}, '{}', 'WBRI', false, {N}",
            q(birth),
            ["M", "F"][rng.below(2) as usize]
        ));
        // How far the case got: 0–4 the active stage, 5 went home and stayed, 6 broke down,
        // 7 not pursued.
        let fate = match rng.below(100) {
            0..=14 => 0,
            15..=29 => 1,
            30..=44 => 2,
            45..=54 => 3,
            55..=69 => 4,
            70..=81 => 5,
            82..=89 => 6,
            _ => 7,
        };
        let reached = match fate {
            0..=4 => fate,
            5 | 6 => 4,
            _ => rng.below(3),
        } as usize;
        let unplanned = reached == 4 && rng.chance(27);
        let mut day = opened;
        let mut entered = Vec::new();
        for stage in 0..=reached {
            // An unplanned return skips the stages between.
            if unplanned && stage > 0 && stage < 4 && stage > rng.below(3) as usize {
                continue;
            }
            entered.push((stage, day));
            let next = day + Days::new(rng.days(14, 120));
            if next >= today {
                break;
            }
            day = next;
        }
        let (&(last_stage, _), _) = entered.split_last().context("a stage")?;
        let returned = (last_stage == 4)
            .then(|| entered.last().map(|e| e.1))
            .flatten();
        let closed_status = fate >= 5 || fate == 7;
        let closed_on = closed_status.then(|| (day + Days::new(rng.days(30, 400))).min(today));
        let broke = fate == 6;
        let reentry = broke
            .then(|| returned.map(|r| (r + Days::new(rng.days(20, 500))).min(today)))
            .flatten();
        let ends_care = returned.is_some() && rng.chance(80);
        let legal = LEGAL[rng.below(4) as usize];
        t.episode.push(format!(
            "{episode}, {la}, {child}, {}, '{legal}', 'N1', '{}', {}, {}, {N}",
            q(care_started),
            if ends_care || returned.is_none() {
                "U4"
            } else {
                "P1"
            },
            opt(returned.filter(|_| ends_care)),
            if ends_care {
                if unplanned { "'E4B'" } else { "'E4A'" }
            } else {
                "NULL"
            },
        ));
        if let Some(r) = reentry {
            episode_id += 1;
            t.episode.push(format!(
                "{episode_id}, {la}, {child}, {}, 'C2', 'N1', 'U4', NULL, NULL, {N}",
                q(r)
            ));
        }
        let level = 1 + rng.below(4) as i64;
        let stage_name = STAGES[last_stage];
        let closure = match fate {
            5 => Some("STABLE_AT_HOME"),
            6 => Some("BROKE_DOWN"),
            7 => Some("NOT_PURSUED"),
            _ => None,
        };
        t.case
            .push(format!(
                "{id}, {la}, {child}, {episode}, {}, 'Team {}', '{stage_name}', '{}', {}, {}, {level}, {}, {}, {}, {N}",
                1 + i64::from(rng.chance(12)) + i64::from(rng.chance(3)),
                ["A", "B", "C", "D", "E"][rng.below(5) as usize],
                if closed_status { "CLOSED" } else { "ACTIVE" },
                returned.map_or("NULL".to_owned(), |_| format!("'{}'", if unplanned { "UNPLANNED" } else { "PLANNED" })),
                if fate == 7 { "'KINSHIP_CARE'" } else { "NULL" },
                q(opened),
                opt(closed_on),
                opt((!closed_status).then(|| today + Days::new(rng.days(0, 60)) - Days::new(30))),
            ));
        for (i, (stage, on)) in entered.iter().enumerate() {
            let completed = entered.get(i + 1).map(|e| e.1).or(closed_on);
            t.stage.push(format!(
                "{la}, {id}, '{}', {}, {}, {NOW}",
                STAGES[*stage],
                q(*on),
                opt(completed)
            ));
            for k in 0..4 {
                let done = completed.is_some() || rng.chance(60);
                t.checklist.push(format!(
                    "{la}, {id}, '{}', 'item_{k}', 'Synthetic action {k}', {}, {k}, {}, {N}",
                    STAGES[*stage],
                    k < 2,
                    opt(done.then_some(*on)),
                ));
            }
            if let Some(done) = completed.filter(|_| *stage < 3) {
                let kind = ["D1", "D2", "D3"][*stage];
                let outcome = if fate == 7 && *stage == last_stage {
                    "NO"
                } else {
                    "YES"
                };
                t.decision
                    .push(format!("{la}, {id}, '{kind}', '{outcome}', 'Synthetic.', {}, 'NOT_REQUIRED', NULL, {N}", q(done)));
            }
            if *stage == 3 && entered.len() > i + 1 {
                t.decision.push(format!(
                    "{la}, {id}, 'D3', 'YES', 'Synthetic.', {}, 'APPROVED', NULL, {N}",
                    q(entered[i + 1].1)
                ));
            }
            if *stage == 3 && entered.len() == i + 1 && rng.chance(40) {
                t.decision.push(format!(
                    "{la}, {id}, 'D3', 'YES', 'Synthetic.', {}, 'PENDING', NULL, {N}",
                    q(*on)
                ));
            }
            let rc = match stage {
                1 => Some("RC1"),
                3 => Some("RC2"),
                4 => Some("RC3"),
                _ => None,
            };
            if let Some(kind) = rc
                && (kind != "RC3"
                    || on
                        .checked_add_days(Days::new(180))
                        .is_some_and(|d| d <= today))
            {
                let at = if kind == "RC3" {
                    *on + Days::new(180)
                } else {
                    *on
                };
                let l = (level + rng.below(3) as i64 - 1).clamp(1, 4);
                t.classification.push(format!(
                    "{la}, {id}, '{kind}', {l}, 'Synthetic.', {}, {}, {N}",
                    q(at),
                    q(at)
                ));
            }
            if *stage == 1 {
                for _ in 0..rng.days(2, 5) {
                    t.factor.push(format!(
                        "{la}, {id}, '{}', '{}', 'CURRENT', 'Synthetic evidence.', {}, {N}",
                        ["RISK", "PROTECTIVE"][rng.below(2) as usize],
                        FACTORS[rng.below(FACTORS.len() as u64) as usize],
                        q(*on)
                    ));
                }
                for _ in 0..rng.days(1, 2) {
                    t.view.push(format!(
                        "{la}, {id}, {}, {}, 'Synthetic view.', {N}",
                        q(*on + Days::new(rng.days(0, 20))),
                        rng.chance(70)
                    ));
                }
            }
            if *stage >= 2 {
                t.review.push(format!(
                    "{la}, {id}, '{}', {}, 'Synthetic.', NULL, {N}",
                    ["PLAN", "AGREEMENT", "LOOKED_AFTER"][rng.below(3) as usize],
                    q(*on + Days::new(rng.days(0, 14)))
                ));
            }
            if *stage == 3 {
                t.plan.push(format!(
                    "{la}, {id}, 'Synthetic contingency plan.', 'Synthetic adult.', {N}"
                ));
            }
            if *stage == 4 {
                let mut visited = *on;
                for _ in 0..rng.days(2, 8) {
                    visited = visited + Days::new(rng.days(7, 28));
                    if visited > today {
                        break;
                    }
                    let seen = rng.chance(90);
                    t.visit.push(format!(
                        "{la}, {id}, {}, {seen}, {}, 'Synthetic observations.', {N}",
                        q(visited),
                        seen && rng.chance(60)
                    ));
                }
            }
            if *stage == 2 {
                let agreement = id;
                t.agreement.push(format!(
                    "{agreement}, {la}, {id}, 1, 'ACTIVE', {}, {N}",
                    q(*on)
                ));
                for k in 0..rng.days(1, 4) {
                    let goal_id = la * 10_000_000 + n * 10 + k as i64;
                    let target = *on + Days::new(rng.days(30, 150));
                    let status = if target < today {
                        ["MET", "MET", "NOT_MET", "ACTIVE"][rng.below(4) as usize]
                    } else {
                        "ACTIVE"
                    };
                    let green = (status == "MET")
                        .then(|| target - Days::new(rng.days(0, 40)) + Days::new(rng.days(0, 30)));
                    // Reviews every few weeks from the agreement to the target (or today).
                    let mut reviewed = *on;
                    for _ in 0..rng.below(4) {
                        reviewed = reviewed + Days::new(rng.days(14, 42));
                        if reviewed > target.min(today) {
                            break;
                        }
                        t.goal_review.push(format!(
                            "{la}, {goal_id}, {id}, {}, '{}', 'Synthetic note.', 'Synthetic evidence.', {NOW}",
                            q(reviewed),
                            ["RED", "AMBER", "GREEN"][rng.below(3) as usize]
                        ));
                    }
                    t.goal
                        .push(format!(
                            "{goal_id}, {la}, {id}, {agreement}, 'Synthetic goal.', 'Synthetic.', 'Parent', 'Synthetic.', {}, '{status}', {}, {}, {N}",
                            q(target),
                            if green.is_some() { "'GREEN'" } else { "NULL" },
                            opt(green),
                        ));
                }
                for _ in 0..rng.days(0, 3) {
                    let starts = *on + Days::new(rng.days(0, 60));
                    let ends = (!rng.chance(30)).then(|| starts + Days::new(rng.days(60, 500)));
                    t.service.push(format!(
                        "{la}, {id}, '{}', 'Synthetic provider', '{}', {}, {}, '{}', {N}",
                        SERVICES[rng.below(6) as usize],
                        NEEDS[rng.below(3) as usize],
                        q(starts),
                        opt(ends),
                        if ends.is_some_and(|e| e < today) {
                            "ENDED"
                        } else {
                            "ACTIVE"
                        },
                    ));
                }
            }
        }
        if returned.is_some() || closure.is_some() {
            t.outcome.push(format!(
                "{la}, {id}, {}, {}, {}, {}, {}, {N}",
                opt(returned),
                returned.map_or("NULL".to_owned(), |_| format!(
                    "'{}'",
                    if unplanned { "UNPLANNED" } else { "PLANNED" }
                )),
                opt(reentry),
                closure.map_or("NULL".to_owned(), |c| format!("'{c}'")),
                opt(closed_on),
            ));
        }
        if t.full() {
            t.flush(db).await?;
        }
    }
    Ok(())
}

/// Every aggregate of `insight` in one query (`$g`: the dimensions to group by).
pub const EVERY_AGGREGATE: &str = "query($g: [Dimension!]) { insight(groupBy: $g) {
        cases { cases { value } }
        stageTimes { stage days { median p25 p75 } }
        decisionTimes { kind daysFromCare { median } }
        decisions { kind outcome decisions { value } }
        riskLevels { kind level cases { value } }
        riskMovement { from to up { value } same { value } down { value } }
        goals { due { value } metOnTime { value } metOnTimeRate }
        services { serviceType needLevel families { value } }
        supportDuration { months children { value } rate }
        returns { planned { value } unplanned { value } }
        stillHome { months rate }
        reentries { months rate }
        frameworkUse { stage share } } }";

/// A seeded database and the release server on it (on PostgreSQL bound by row-level security).
pub struct Prepared {
    /// The schema owner's connection.
    pub db: DatabaseConnection,
    /// DfE codes of the seeded LAs.
    pub codes: Vec<String>,
    /// The server.
    pub server: Server,
    /// The URL the server connects with (a login member of `reunify_app`, bound by row-level security).
    pub app_url: String,
    /// The development key that signs the bench's tokens.
    pub key: api::auth::keys::DevKey,
    /// Cases already there (a database seeded by an earlier run is reused as it is).
    pub existing: i64,
    /// Time spent seeding.
    pub seeded: Duration,
    /// Cases whose facts were built, and the time it took.
    pub built: (usize, Duration),
}

/// Migrates and seeds `las` × `cases` (unless seeded before), builds the case facts, and starts
/// `binary` on the database as a login member of `reunify_app`.
pub async fn prepare(
    database_url: &str,
    las: usize,
    cases: usize,
    binary: PathBuf,
    rebuild_facts: bool,
    env: &[(&str, &str)],
) -> anyhow::Result<Prepared> {
    let db = Database::connect(database_url).await?;
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    api::migrate(&db).await?;
    let today = chrono::Utc::now().date_naive();
    let codes: Vec<String> = api::domain::reference::LOCAL_AUTHORITIES
        .rows()
        .iter()
        .filter(|r| r.get("valid_to").is_empty())
        .map(|r| r.code.clone())
        .take(las)
        .collect();
    let mut la_ids = Vec::new();
    for code in &codes {
        let la = api::tenancy::service::register(&db, code, None, Default::default())
            .await
            .map_err(|e| anyhow::anyhow!("registering {code}: {e:?}"))?;
        la_ids.push(la.id);
    }
    let seeding = Instant::now();
    let existing = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM reunification_case",
        ))
        .await?
        .map(|r| r.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    // A database seeded by an earlier run is reused as it is (rerunning after a change).
    if existing == 0 {
        let mut rng = Rng(0x5eed_cafe_f00d_0001);
        let mut tables = Tables::new();
        for la in &la_ids {
            seed_la(&db, &mut tables, *la, cases, today, &mut rng).await?;
        }
        tables.flush(&db).await?;
    }
    // Vacuumed as well as analysed, and checkpointed, so that neither autovacuum nor a checkpoint
    // of the seed's writes lands in a measurement. (SQLite's rowids need no sequence.)
    if postgres {
        for table in [
            "child",
            "care_episode",
            "reunification_case",
            "parental_agreement",
            "goal",
        ] {
            db.execute_unprepared(&format!(
                "SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"
            ))
            .await?;
        }
        db.execute_unprepared("VACUUM ANALYZE").await?;
        if let Err(e) = db.execute_unprepared("CHECKPOINT").await {
            eprintln!("no CHECKPOINT after seeding (needs a superuser): {e}");
        }
    } else {
        db.execute_unprepared("ANALYZE").await?;
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    let seeded = seeding.elapsed();
    if rebuild_facts {
        db.execute_unprepared("DELETE FROM case_fact").await?;
    }
    let building = Instant::now();
    let built = api::insight::facts::backfill(&db)
        .await
        .map_err(|e| anyhow::anyhow!("building facts: {e:?}"))?;
    let facts_time = building.elapsed();
    db.execute_unprepared(if postgres {
        "VACUUM ANALYZE case_fact"
    } else {
        "ANALYZE case_fact"
    })
    .await?;

    let (app_url, server) = if postgres {
        // The server connects as a login member of the application role, bound by row-level
        // security as in production; migrations (none left) as the owner.
        db.execute_unprepared(
            "DO $$ BEGIN CREATE ROLE reunify_bench LOGIN IN ROLE reunify_app; \
             EXCEPTION WHEN duplicate_object THEN NULL; END $$",
        )
        .await?;
        let (scheme, rest) = database_url
            .split_once("://")
            .context("a postgres:// URL")?;
        let host = rest.split_once('@').map_or(rest, |(_, h)| h);
        // Plain TCP, as the peer's driver (node-postgres) connects to the same loopback server:
        // without `sslmode`, sqlx asks for TLS where the server offers it (Debian's does), which
        // put rustls on both sides of every statement — 10% of the server's CPU under a page of
        // 50 in `perf` (bench/README.md). A URL that names `sslmode` keeps it.
        let app_url = if host.contains("sslmode=") {
            format!("{scheme}://reunify_bench@{host}")
        } else {
            let sep = if host.contains('?') { '&' } else { '?' };
            format!("{scheme}://reunify_bench@{host}{sep}sslmode=disable")
        };
        let mut env = env.to_vec();
        env.push(("REUNIFY_MIGRATION_DATABASE_URL", database_url));
        let server = Server::start(binary, app_url.clone(), &env).await?;
        (app_url, server)
    } else {
        let server = Server::start(binary, database_url.to_owned(), env).await?;
        (database_url.to_owned(), server)
    };
    let key = api::auth::keys::DevKey::load_or_create(&db)
        .await
        .map_err(|e| anyhow::anyhow!("dev key: {e:?}"))?;
    Ok(Prepared {
        db,
        codes,
        server,
        app_url,
        key,
        existing,
        seeded,
        built: (built, facts_time),
    })
}

/// A bearer token for a role of LA `code`, signed by the development key.
pub fn token(key: &api::auth::keys::DevKey, code: &str, role: &str) -> anyhow::Result<String> {
    let scopes: Vec<String> = api::auth::Role::from_claim(role)
        .map(|r| r.default_scopes().iter().map(|s| (*s).to_owned()).collect())
        .unwrap_or_default();
    key.mint(
        "reunify",
        code,
        &format!("bench-{role}"),
        &[role.to_owned()],
        &scopes,
        3600,
    )
    .map_err(|e| anyhow::anyhow!("token: {e:?}"))
}

pub async fn run(args: InsightArgs) -> anyhow::Result<String> {
    let Prepared {
        db,
        codes,
        server,
        key,
        existing,
        seeded,
        built: (built, facts_time),
        ..
    } = prepare(
        &args.database_url,
        args.las,
        args.cases,
        args.binary.clone(),
        args.rebuild_facts,
        &[],
    )
    .await?;
    let everything = EVERY_AGGREGATE;
    let worklist = "{ worklist(first: 50) { totalCount nodes { kind dueOn case { id stage } } } }";
    let mut rows = Vec::new();
    for (label, query, vars, role) in [
        (
            "insight, every aggregate, no grouping",
            everything,
            json!({ "g": [] }),
            "data_analyst",
        ),
        (
            "insight, every aggregate, by YEAR × TEAM",
            everything,
            json!({ "g": ["YEAR", "TEAM"] }),
            "data_analyst",
        ),
        (
            "insight, by LEGAL_STATUS × AGE_BAND × RISK_LEVEL",
            everything,
            json!({ "g": ["LEGAL_STATUS", "AGE_BAND", "RISK_LEVEL"] }),
            "team_manager",
        ),
        ("worklist, first 50", worklist, json!({}), "team_manager"),
    ] {
        let mut ms = Vec::new();
        for code in codes
            .iter()
            .step_by((codes.len() / args.sample.max(1)).max(1))
            .take(args.sample)
        {
            let token = token(&key, code, role)?;
            server.graphql(&token, query, vars.clone()).await?;
            for _ in 0..args.runs {
                let t = Instant::now();
                server.graphql(&token, query, vars.clone()).await?;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }
        ms.sort_by(f64::total_cmp);
        rows.push((label.to_owned(), ms));
    }
    // Every LA at once, in process: read every LA's facts and compute every aggregate.
    let mut all_ms = Vec::new();
    let mut load_ms = Vec::new();
    let mut lines = 0;
    for _ in 0..args.all_runs {
        let t = Instant::now();
        let facts = api::insight::service::facts_of_las(&db, None, Duration::from_secs(30))
            .await
            .map_err(|e| anyhow::anyhow!("all LAs: {e:?}"))?;
        load_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let query = api::insight::export::parse_query(None, None, None, Some("YEAR"))
            .map_err(|m| anyhow::anyhow!(m))?;
        let shown = api::insight::aggregates::Presentation {
            suppress: true,
            round_to_10: false,
        };
        use futures_util::StreamExt as _;
        let chunks: Vec<_> = api::insight::export::insight_jsonl(facts, query, shown)
            .collect()
            .await;
        lines = chunks
            .iter()
            .flatten()
            .map(|c| c.iter().filter(|b| **b == b'\n').count())
            .sum();
        all_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    all_ms.sort_by(f64::total_cmp);
    load_ms.sort_by(f64::total_cmp);
    rows.push((
        format!("all {} LAs: reading every LA's facts", codes.len()),
        load_ms,
    ));
    rows.push((
        format!(
            "all {} LAs, every aggregate by YEAR (in process, {lines} lines)",
            codes.len()
        ),
        all_ms,
    ));

    let mut table = String::new();
    let seeded_note = if existing == 0 {
        format!(
            "Seeded {} cases in {:.1} s",
            codes.len() * args.cases,
            seeded.as_secs_f64()
        )
    } else {
        format!("Reused {existing} cases seeded earlier")
    };
    writeln!(
        table,
        "# insight: {} LAs × {} cases (PostgreSQL, release build)\n\n\
         {seeded_note}; case facts built for {built} cases in {:.1} s.\n\
         Per-LA rows: {} runs on each of {} LAs over HTTP (server and client on this machine).\n",
        codes.len(),
        args.cases,
        facts_time.as_secs_f64(),
        args.runs,
        args.sample,
    )?;
    writeln!(
        table,
        "| query | runs | p50 ms | p95 ms | max ms |\n|---|---:|---:|---:|---:|"
    )?;
    for (label, ms) in rows {
        writeln!(
            table,
            "| {label} | {} | {:.1} | {:.1} | {:.1} |",
            ms.len(),
            percentile(&ms, 0.5),
            percentile(&ms, 0.95),
            ms.last().copied().unwrap_or(f64::NAN),
        )?;
    }
    Ok(table)
}
