//! Development helpers: `reunify token` and `reunify seed-demo` (a fully synthetic LA, DfE code 999).

use chrono::{Duration, NaiveDate};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter};

use crate::auth::keys::DevKey;
use crate::auth::{Actor, Role};
use crate::cases::service::{self as cases, NewCase};
use crate::children::service::{self as children, ExternalId, NewChild, NewEpisode, NewMember};
use crate::config::{Config, TokenArgs};
use crate::domain::{
    ClassificationKind, DecisionKind, DecisionOutcome, Relationship, RiskLevel, Stage,
};
use crate::ids::{CaseId, ChecklistItemId, ChildId, EpisodeId};
use crate::stages::service::{self as stages, ProposeClassification, RecordDecision, RecordReturn};
use crate::tenancy::service::{self as tenancy, LaSettings};

/// DfE code of the synthetic demo LA (no real LA has it).
pub const DEMO_LA: &str = "999";

fn err(e: crate::error::ApiError) -> anyhow::Error {
    anyhow::anyhow!("{e:?}")
}

/// Mints a development token, registering the LA first if needed.
pub async fn dev_token(
    db: &DatabaseConnection,
    config: &Config,
    args: &TokenArgs,
) -> anyhow::Result<String> {
    let roles: Vec<Role> = args
        .roles
        .iter()
        .map(|r| Role::from_claim(r).ok_or_else(|| anyhow::anyhow!("unknown role `{r}`")))
        .collect::<anyhow::Result<_>>()?;
    let name = (args.la == DEMO_LA).then_some("Demo Borough (synthetic)");
    tenancy::register(db, &args.la, name, LaSettings::default())
        .await
        .map_err(err)?;
    let key = DevKey::load_or_create(db).await.map_err(err)?;
    let mut scopes: Vec<String> = roles
        .iter()
        .flat_map(|r| r.default_scopes())
        .map(|s| (*s).to_owned())
        .collect();
    scopes.sort();
    scopes.dedup();
    let subject = args
        .subject
        .clone()
        .unwrap_or_else(|| format!("dev-{}-{}", args.la, roles[0].as_claim()));
    let claims: Vec<String> = roles.iter().map(|r| r.as_claim().to_owned()).collect();
    key.mint(
        &config.token_audience,
        &args.la,
        &subject,
        &claims,
        &scopes,
        args.ttl_minutes,
    )
    .map_err(err)
}

/// Loads the demo LA with children and cases at every stage. Does nothing if already loaded.
pub async fn demo(db: &DatabaseConnection) -> anyhow::Result<String> {
    let settings = LaSettings {
        sustained_risk_months: Some(6),
        ..LaSettings::default()
    };
    let la = tenancy::register(db, DEMO_LA, Some("Demo Borough (synthetic)"), settings)
        .await
        .map_err(err)?;
    let existing = entities::child::Entity::find()
        .filter(entities::child::Column::LaId.eq(la.id))
        .count(db)
        .await?;
    if existing > 0 {
        return Ok(format!(
            "demo LA {DEMO_LA} already holds {existing} children; nothing to do"
        ));
    }
    let actor_id = tenancy::ensure_actor(
        db,
        la.id,
        "demo-seed",
        "client",
        &["social_worker".to_owned()],
    )
    .await
    .map_err(err)?;
    let actor = Actor {
        la_id: la.id,
        actor_id,
        roles: vec![
            Role::SocialWorker,
            Role::TeamManager,
            Role::NominatedOfficer,
        ],
        scopes: vec!["cases:read".to_owned(), "cases:write".to_owned()],
    };
    let today = cases::today();
    let targets = [
        Stage::Identification,
        Stage::Assessment,
        Stage::GoalsAndServices,
        Stage::ReturnAndSupport,
        Stage::Identification,
        Stage::Assessment,
    ];
    for (i, target) in targets.iter().enumerate() {
        let n = i as i64 + 1;
        let child = children::create_child(
            db,
            &actor,
            NewChild {
                la_child_id: format!("DEMO{n:04}"),
                date_of_birth: today - Duration::days(365 * (3 + 2 * n) + 17 * n),
                sex: ["M", "F", "U"][i % 3].to_owned(),
                ethnicity: ["WBRI", "MWBC", "AIND", "BAFR", "OOTH", "NOBT"][i].to_owned(),
                upn: None,
                upn_unknown_reason: Some("UN1".to_owned()),
                nhs_number: None,
                external_ids: vec![ExternalId {
                    system: "DEMO-CMS".to_owned(),
                    value: format!("CMS-{n:05}"),
                }],
            },
        )
        .await
        .map_err(err)?;
        for (rel, label) in [
            (Relationship::Mother, "Mother"),
            (Relationship::Father, "Father"),
        ] {
            children::add_member(
                db,
                &actor,
                NewMember {
                    child_id: ChildId(child.id),
                    relationship: rel,
                    label: Some(label.to_owned()),
                    has_parental_responsibility: true,
                    lives_with_child: rel == Relationship::Mother,
                },
            )
            .await
            .map_err(err)?;
        }
        let started = today - Duration::days(200 + 10 * n);
        let episode = children::open_episode(
            db,
            &actor,
            NewEpisode {
                child_id: ChildId(child.id),
                started_on: started,
                legal_status: ["C2", "V2", "C1"][i % 3].to_owned(),
                category_of_need: "N1".to_owned(),
                placement_type: "U6".to_owned(),
            },
        )
        .await
        .map_err(err)?;
        let case = cases::open_case(
            db,
            &actor,
            NewCase {
                child_id: ChildId(child.id),
                episode_id: EpisodeId(episode.id),
                worker_id: None,
                team: Some(["North", "South"][i % 2].to_owned()),
                opened_on: Some(started + Duration::days(5)),
            },
        )
        .await
        .map_err(err)?;
        advance(
            db,
            &actor,
            CaseId(case.id),
            *target,
            started + Duration::days(10),
        )
        .await?;
    }
    Ok(format!(
        "demo LA {DEMO_LA} loaded with {} synthetic children and cases",
        targets.len()
    ))
}

async fn complete_checklist(
    db: &DatabaseConnection,
    actor: &Actor,
    case: CaseId,
    stage: Stage,
    on: NaiveDate,
) -> anyhow::Result<()> {
    let items = entities::checklist_item::Entity::find()
        .filter(entities::checklist_item::Column::CaseId.eq(case.0))
        .filter(entities::checklist_item::Column::Stage.eq(stage.as_str()))
        .all(db)
        .await?;
    for item in items.into_iter().filter(|i| i.required) {
        stages::complete_item(db, actor, ChecklistItemId(item.id), true, Some(on), None)
            .await
            .map_err(err)?;
    }
    Ok(())
}

async fn decide(
    db: &DatabaseConnection,
    actor: &Actor,
    case: CaseId,
    kind: DecisionKind,
    on: NaiveDate,
) -> anyhow::Result<()> {
    stages::record_decision(
        db,
        actor,
        RecordDecision {
            case_id: case,
            kind,
            outcome: DecisionOutcome::Yes,
            rationale: "Synthetic demo decision.".to_owned(),
            decided_on: Some(on),
            planned_return_on: None,
            alternative_plan: None,
            expected_version: None,
        },
    )
    .await
    .map_err(err)?;
    Ok(())
}

async fn classify(
    db: &DatabaseConnection,
    actor: &Actor,
    case: CaseId,
    kind: ClassificationKind,
    on: NaiveDate,
) -> anyhow::Result<()> {
    let c = stages::propose_classification(
        db,
        actor,
        ProposeClassification {
            case_id: case,
            kind,
            level: RiskLevel::Medium,
            rationale: "Synthetic demo classification.".to_owned(),
            classified_on: Some(on),
        },
    )
    .await
    .map_err(err)?;
    stages::agree_classification(db, actor, crate::ids::ClassificationId(c.id), Some(on))
        .await
        .map_err(err)?;
    Ok(())
}

/// Takes a demo case forward to `target` (stage 4 by an unplanned return).
async fn advance(
    db: &DatabaseConnection,
    actor: &Actor,
    case: CaseId,
    target: Stage,
    mut on: NaiveDate,
) -> anyhow::Result<()> {
    if target == Stage::Identification {
        return Ok(());
    }
    if target == Stage::ReturnAndSupport {
        stages::record_return(
            db,
            actor,
            RecordReturn {
                case_id: case,
                returned_on: on,
                unplanned: true,
                ends_care: true,
                expected_version: None,
            },
        )
        .await
        .map_err(err)?;
        return Ok(());
    }
    complete_checklist(db, actor, case, Stage::Identification, on).await?;
    decide(db, actor, case, DecisionKind::D1, on).await?;
    if target == Stage::Assessment {
        return Ok(());
    }
    on += Duration::days(20);
    complete_checklist(db, actor, case, Stage::Assessment, on).await?;
    classify(db, actor, case, ClassificationKind::Rc1, on).await?;
    decide(db, actor, case, DecisionKind::D2, on).await?;
    Ok(())
}
