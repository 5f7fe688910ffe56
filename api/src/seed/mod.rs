//! Development helpers: `reunify token` and `reunify seed-demo` (a fully synthetic LA, DfE code 999).

mod generated;

pub use generated::{AREA, generated};

use chrono::{Duration, NaiveDate};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
};

use crate::audit::acting::Acting;
use crate::auth::Role;
use crate::auth::keys::DevKey;
use crate::cases::service::{self as cases, NewCase};
use crate::children::service::{self as children, ExternalId, NewChild, NewEpisode, NewMember};
use crate::children::ssda903::{ChildDetails, EpisodeDetails};
use crate::config::{Config, TokenArgs};
use crate::domain::{
    ClassificationKind, ClosureReason, DecisionKind, DecisionOutcome, NeedLevel, Rating,
    Relationship, ReviewKind, RiskLevel, ServiceStatus, ServiceType, Stage, YesNoUnknown,
};
use crate::goals::service as goals;
use crate::ids::{
    AgreementId, AgreementPartyId, CaseId, ChecklistItemId, ChildId, ClassificationId, DecisionId,
    EpisodeId, GoalId, HouseholdMemberId,
};
use crate::stages::service::{
    self as stages, CloseCase, ProposeClassification, RecordDecision, RecordReturn,
};
use crate::support_plans::service as support;
use crate::tenancy::service::{self as tenancy, LaSettings};
use crate::visits::service as visits;

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
    // The demo LA registered here as `demo` registers it, so a `serve` after it loads the demo.
    let (name, settings) = if args.la == DEMO_LA {
        (Some(DEMO_NAME), demo_settings())
    } else {
        (None, LaSettings::default())
    };
    tenancy::register(db, &args.la, name, settings)
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
    let subject = args.subject.clone().unwrap_or_else(|| {
        format!(
            "dev-{}-{}",
            args.la,
            roles.first().map_or("user", |r| r.as_claim())
        )
    });
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

/// The demo LA's name.
const DEMO_NAME: &str = "Demo Borough (synthetic)";

/// The demo LA's settings.
fn demo_settings() -> LaSettings {
    LaSettings {
        sustained_risk_months: Some(6),
        ..LaSettings::default()
    }
}

/// Loads the demo LA with children and cases at every stage. Does nothing if already loaded.
pub async fn demo(pool: &DatabaseConnection) -> anyhow::Result<String> {
    let la = tenancy::register(pool, DEMO_LA, Some(DEMO_NAME), demo_settings())
        .await
        .map_err(err)?;
    let unit = crate::unit::Unit::begin(pool, la.id, std::time::Duration::from_secs(60))
        .await
        .map_err(err)?;
    let db = &**unit.tx();
    let existing = entities::child::Entity::find()
        .filter(entities::child::Column::LaId.eq(la.id))
        .count(db)
        .await?;
    if existing > 0 {
        return Ok(format!(
            "demo LA {DEMO_LA} already holds {existing} children; nothing to do"
        ));
    }
    // Three people, as the framework's four eyes need: a social worker does the work, a team
    // manager agrees and signs off, a nominated officer approves.
    let mut people = Vec::new();
    for (subject, role) in [
        ("demo-worker", Role::SocialWorker),
        ("demo-manager", Role::TeamManager),
        ("demo-officer", Role::NominatedOfficer),
    ] {
        let id = tenancy::ensure_actor(db, la.id, subject, "user", &[role.as_claim().to_owned()])
            .await
            .map_err(err)?;
        people.push(Acting::system(
            la.id,
            id,
            subject,
            vec![role],
            &["cases:read", "cases:write"],
        ));
    }
    let [actor, mut manager, mut officer] =
        <[Acting; 3]>::try_from(people).map_err(|_| anyhow::anyhow!("demo people missing"))?;
    // One trail for the three: the cases' timelines keep the order things were done in.
    manager.trail = actor.trail.clone();
    officer.trail = actor.trail.clone();
    let today = cases::today();
    let targets = [
        Target::Identification,
        Target::Assessment,
        Target::Goals,
        Target::AwaitingApproval,
        Target::HomePlanned,
        Target::HomeUnplanned,
        Target::ClosedStable,
        Target::NotPursued,
    ];
    for (i, target) in targets.iter().enumerate() {
        let n = i as i64 + 1;
        let child = children::create_child(
            db,
            &actor,
            NewChild {
                la_child_id: format!("DEMO{n:04}"),
                date_of_birth: today - Duration::days(365 * (3 + n) + 17 * n),
                sex: ["M", "F"][i % 2].to_owned(),
                ethnicity: [
                    "WBRI", "MWBC", "AIND", "BAFR", "OOTH", "NOBT", "WIRI", "BCRB",
                ][i]
                    .to_owned(),
                // Every child of the demo carries every 903 field, so its return fails no rule.
                upn: crate::domain::identifiers::upn_from(&format!("9990000{n:05}")),
                upn_unknown_reason: None,
                nhs_number: None,
                details: ChildDetails {
                    is_mother: (i % 2 == 1).then_some(false),
                    mother_child_dob: None,
                },
                external_ids: vec![ExternalId {
                    system: "DEMO-CMS".to_owned(),
                    value: format!("CMS-{n:05}"),
                }],
            },
        )
        .await
        .map_err(err)?;
        let mut parent = None;
        for (rel, label) in [
            (Relationship::Mother, "Mother"),
            (Relationship::Father, "Father"),
        ] {
            let m = children::add_member(
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
            parent.get_or_insert(HouseholdMemberId(m.id));
        }
        let started = today - Duration::days(400 - 10 * n);
        let episode = children::open_episode(
            db,
            &actor,
            NewEpisode {
                child_id: ChildId(child.id),
                fields: children::EpisodeFields {
                    started_on: started,
                    legal_status: ["C2", "V2", "C1"][i % 3].to_owned(),
                    category_of_need: "N1".to_owned(),
                    placement_type: "U6".to_owned(),
                    ended_on: None,
                    reason_ceased: None,
                    details: EpisodeDetails {
                        reason_new_episode: Some("S".to_owned()),
                        placement_provider: Some("PR1".to_owned()),
                        reason_place_change: None,
                        home_postcode: Some("TW1 1AA".to_owned()),
                        placement_postcode: Some(["TW1 1AF", "TW1 1AR"][i % 2].to_owned()),
                        urn: Some(format!("SC{:06}", 900_000 + n)),
                    },
                },
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
        let parent = parent.ok_or_else(|| anyhow::anyhow!("demo parent missing"))?;
        let demo = Demo {
            db,
            actor: &actor,
            manager: &manager,
            officer: &officer,
            case: CaseId(case.id),
            parent,
        };
        demo.advance(*target, started + Duration::days(10)).await?;
    }
    // Finished as a request is: the audit rows, the events and the case facts, so GraphiQL shows
    // each demo case's timeline and subscribers can replay it.
    unit.finish(&actor, &crate::outlets()).await.map_err(err)?;
    Ok(format!(
        "demo LA {DEMO_LA} loaded with {} synthetic children and cases",
        targets.len()
    ))
}

/// How far a demo case is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Identification,
    NotPursued,
    Assessment,
    Goals,
    AwaitingApproval,
    HomeUnplanned,
    HomePlanned,
    ClosedStable,
}

/// One demo case being taken through the framework by the seeding actor.
struct Demo<'a> {
    db: &'a DatabaseTransaction,
    actor: &'a Acting,
    manager: &'a Acting,
    officer: &'a Acting,
    case: CaseId,
    parent: HouseholdMemberId,
}

impl Demo<'_> {
    async fn checklist(&self, stage: Stage, on: NaiveDate) -> anyhow::Result<()> {
        let items = entities::checklist_item::Entity::find()
            .filter(entities::checklist_item::Column::CaseId.eq(self.case.0))
            .filter(entities::checklist_item::Column::Stage.eq(stage))
            .all(self.db)
            .await?;
        // Derived actions complete themselves from the records; only the rest are ticked.
        for item in items
            .into_iter()
            .filter(|i| i.required && i.derived_from.is_none())
        {
            stages::complete_item(
                self.db,
                self.actor,
                stages::ItemRef::Id(ChecklistItemId(item.id)),
                true,
                Some(on),
                None,
                None,
            )
            .await
            .map_err(err)?;
        }
        Ok(())
    }

    async fn decide(
        &self,
        actor: &Acting,
        kind: DecisionKind,
        outcome: DecisionOutcome,
        on: NaiveDate,
    ) -> anyhow::Result<()> {
        let cmd = RecordDecision {
            case_id: self.case,
            kind,
            outcome,
            rationale: "Synthetic demo decision.".to_owned(),
            decided_on: Some(on),
            planned_return_on: None,
            alternative_plan: (outcome == DecisionOutcome::No).then(|| "LTRELFR".to_owned()),
            expected_version: None,
        };
        stages::record_decision(self.db, actor, cmd)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn classify(&self, kind: ClassificationKind, on: NaiveDate) -> anyhow::Result<()> {
        let cmd = ProposeClassification {
            case_id: self.case,
            kind,
            level: RiskLevel::Medium,
            rationale: "Synthetic demo classification.".to_owned(),
            classified_on: Some(on),
        };
        let c = stages::propose_classification(self.db, self.actor, cmd)
            .await
            .map_err(err)?;
        stages::agree_classification(
            self.db,
            self.manager,
            ClassificationId(c.id),
            Some(on),
            None,
        )
        .await
        .map_err(err)?;
        Ok(())
    }

    /// The Return Home Assessment's records: the child's views, and a factor for every member
    /// of the household.
    async fn assess(&self, on: NaiveDate) -> anyhow::Result<()> {
        crate::assessments::service::record_view(
            self.db,
            self.actor,
            self.case,
            Some(on),
            true,
            "Synthetic: the child's own words.",
        )
        .await
        .map_err(err)?;
        let case = entities::reunification_case::Entity::find_by_id(self.case.0)
            .one(self.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo case missing"))?;
        let members = entities::household_member::Entity::find()
            .filter(entities::household_member::Column::ChildId.eq(case.child_id))
            .all(self.db)
            .await?;
        for m in members {
            let factor = crate::assessments::service::NewFactor {
                case_id: self.case,
                member: Some(HouseholdMemberId(m.id)),
                kind: crate::domain::FactorKind::Protective,
                category: crate::domain::FactorCategory::EngagementWithServices,
                status: None,
                evidence: "Synthetic evidence.".to_owned(),
                recorded_on: Some(on),
            };
            crate::assessments::service::record_factor(self.db, self.actor, factor)
                .await
                .map_err(err)?;
        }
        Ok(())
    }

    async fn goals_and_services(&self, on: NaiveDate) -> anyhow::Result<()> {
        let party = goals::NewParty {
            member: self.parent,
            strengths: Some("Synthetic strengths.".to_owned()),
            concerns: Some("Synthetic concerns.".to_owned()),
        };
        let agreement = goals::create_agreement(self.db, self.actor, self.case, Some(vec![party]))
            .await
            .map_err(err)?;
        let goal = goals::NewGoal {
            agreement: AgreementId(agreement.id),
            member: Some(self.parent),
            description: "Synthetic goal: what must change.".to_owned(),
            steps: Some("Synthetic steps.".to_owned()),
            responsible: Some("Mother".to_owned()),
            support_offered: Some("Synthetic support.".to_owned()),
            target_date: on + Duration::days(90),
        };
        let goal = goals::add_goal(self.db, self.actor, goal)
            .await
            .map_err(err)?;
        let party = entities::agreement_party::Entity::find()
            .filter(entities::agreement_party::Column::AgreementId.eq(agreement.id))
            .one(self.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo party missing"))?;
        goals::accept_party(
            self.db,
            self.actor,
            AgreementPartyId(party.id),
            Some(on),
            None,
        )
        .await
        .map_err(err)?;
        goals::agree_agreement(
            self.db,
            self.actor,
            AgreementId(agreement.id),
            Some(on),
            None,
            None,
        )
        .await
        .map_err(err)?;
        self.review(goal.id, Rating::Green, on).await?;
        Ok(())
    }

    async fn review(&self, goal: i64, rating: Rating, on: NaiveDate) -> anyhow::Result<()> {
        let review = goals::ReviewGoal {
            goal: GoalId(goal),
            rating,
            note: Some("Synthetic review.".to_owned()),
            evidence: Some("Synthetic evidence.".to_owned()),
            reviewed_on: Some(on),
        };
        goals::review_goal(self.db, self.actor, review)
            .await
            .map_err(err)?;
        Ok(())
    }

    async fn services(&self, on: NaiveDate) -> anyhow::Result<()> {
        let service = support::NewService {
            case_id: self.case,
            service_type: ServiceType::ParentingSupport,
            provider: "Synthetic family service".to_owned(),
            need_level: NeedLevel::Medium,
            starts_on: on,
            ends_on: None,
            frequency: Some("weekly".to_owned()),
            status: ServiceStatus::Active,
            cost_pence: Some(120_000),
        };
        support::add_service(self.db, self.actor, service)
            .await
            .map_err(err)?;
        let contingency = Some("Synthetic contingency plan.".to_owned());
        let trusted = Some("Synthetic trusted adult (teacher)".to_owned());
        support::update_plan(self.db, self.actor, self.case, contingency, trusted, None)
            .await
            .map_err(err)?;
        Ok(())
    }

    /// Takes the case forward to `target`, a step every few weeks from `on`.
    async fn advance(&self, target: Target, mut on: NaiveDate) -> anyhow::Result<()> {
        let step = Duration::days(14);
        match target {
            Target::Identification => return Ok(()),
            Target::NotPursued => {
                return self
                    .decide(self.actor, DecisionKind::D1, DecisionOutcome::No, on)
                    .await;
            }
            Target::HomeUnplanned => {
                let ret = RecordReturn {
                    case_id: self.case,
                    returned_on: on,
                    unplanned: true,
                    ends_care: true,
                    without_parental_responsibility: false,
                    expected_version: None,
                };
                stages::record_return(self.db, self.actor, ret)
                    .await
                    .map_err(err)?;
                return Ok(());
            }
            _ => {}
        }
        self.checklist(Stage::Identification, on).await?;
        self.decide(self.actor, DecisionKind::D1, DecisionOutcome::Yes, on)
            .await?;
        if target == Target::Assessment {
            return Ok(());
        }
        on += step;
        self.assess(on).await?;
        self.checklist(Stage::Assessment, on).await?;
        self.classify(ClassificationKind::Rc1, on).await?;
        stages::sign_off_assessment(self.db, self.manager, self.case, Some(on), None)
            .await
            .map_err(err)?;
        self.decide(self.actor, DecisionKind::D2, DecisionOutcome::Yes, on)
            .await?;
        on += step;
        self.goals_and_services(on).await?;
        self.services(on).await?;
        if target == Target::Goals {
            return Ok(());
        }
        // Green since the agreement, held for the LA's sustained period.
        let goal = entities::goal::Entity::find()
            .filter(entities::goal::Column::CaseId.eq(self.case.0))
            .one(self.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo goal missing"))?;
        on += Duration::weeks(12);
        self.review(goal.id, Rating::Green, on).await?;
        self.checklist(Stage::GoalsAndServices, on).await?;
        stages::complete_goals_stage(self.db, self.actor, self.case, Some(on), None)
            .await
            .map_err(err)?;
        self.classify(ClassificationKind::Rc2, on).await?;
        self.checklist(Stage::ReturnDecision, on).await?;
        // A social worker records D3; a nominated officer approves it (or has yet to).
        self.decide(self.actor, DecisionKind::D3, DecisionOutcome::Yes, on)
            .await?;
        if target == Target::AwaitingApproval {
            return Ok(());
        }
        let d3 = entities::decision::Entity::find()
            .filter(entities::decision::Column::CaseId.eq(self.case.0))
            .filter(entities::decision::Column::Kind.eq(DecisionKind::D3))
            .one(self.db)
            .await?
            .ok_or_else(|| anyhow::anyhow!("demo D3 missing"))?;
        stages::approve_decision(self.db, self.officer, DecisionId(d3.id), Some(on), None)
            .await
            .map_err(err)?;
        on += Duration::days(7);
        let ret = RecordReturn {
            case_id: self.case,
            returned_on: on,
            unplanned: false,
            ends_care: true,
            without_parental_responsibility: false,
            expected_version: None,
        };
        stages::record_return(self.db, self.actor, ret)
            .await
            .map_err(err)?;
        let visit = visits::NewVisit {
            case_id: self.case,
            visited_on: on + Duration::days(7),
            child_seen: true,
            child_seen_alone: true,
            observations: Some("Synthetic observations.".to_owned()),
        };
        visits::record_visit(self.db, self.actor, visit)
            .await
            .map_err(err)?;
        if target == Target::HomePlanned {
            let review = visits::NewReview {
                case_id: self.case,
                kind: ReviewKind::Plan,
                held_on: on + Duration::days(14),
                decisions: Some("Synthetic review decisions.".to_owned()),
                next_review_on: Some(on + Duration::days(42)),
            };
            visits::record_review(self.db, self.actor, review)
                .await
                .map_err(err)?;
            return Ok(());
        }
        on += Duration::days(190);
        self.classify(ClassificationKind::Rc3, on).await?;
        self.checklist(Stage::ReturnAndSupport, on).await?;
        let close = CloseCase {
            case_id: self.case,
            reason: ClosureReason::StableAtHome,
            closed_on: Some(on),
            rationale: Some("Synthetic: support completed, child stable at home.".to_owned()),
            reentered_care_on: None,
            alternative_plan: None,
            maltreatment: Some(YesNoUnknown::No),
            override_reason: None,
            expected_version: None,
        };
        stages::close_case(self.db, self.actor, close)
            .await
            .map_err(err)?;
        Ok(())
    }
}
