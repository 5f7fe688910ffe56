//! A generated LA for the 903 return: several hundred fully synthetic children with realistic
//! histories of care — periods that start and end, placements that change (an episode ending X1
//! and the next beginning `P`), children placed with parents, returns home planned, unplanned and
//! to family without parental responsibility, re-entries — and every 903 field filled as a
//! case-management system would send it. Written through the same services as the API, so every
//! record passed the rules a vendor's would. Deterministic for a given seed.

use chrono::Duration;
use sea_orm::{
    ColumnTrait as _, DatabaseConnection, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
};

use crate::audit::acting::Acting;
use crate::auth::Role;
use crate::children::service::{self as children, EpisodeFields, NewChild, NewEpisode};
use crate::children::ssda903::{ChildDetails, EpisodeDetails, without_urn};
use crate::domain::identifiers::upn_from;
use crate::ids::ChildId;
use crate::tenancy::service::{self as tenancy, LaSettings};

/// Postcodes in the London Borough of Richmond upon Thames (ONS `E09000027`), as the DfE's
/// postcode lookup holds them: the generated LA's homes and placements.
const POSTCODES: [&str; 24] = [
    "TW1 1AA", "TW1 1AF", "TW1 1AR", "TW1 1AS", "TW1 1AW", "TW1 1AX", "TW1 1AY", "TW1 1AZ",
    "TW1 1BA", "TW1 1BB", "TW1 1BD", "TW1 1BE", "TW1 1BG", "TW1 1BH", "TW1 1BJ", "TW1 1BL",
    "TW1 1BN", "TW1 1BP", "TW1 1BS", "TW1 1BT", "TW1 1BU", "TW1 1BW", "TW1 1BX", "TW1 1BY",
];

/// The ONS code of the area the generated LA's postcodes lie in (for the 903 validator's
/// in-area rules).
pub const AREA: &str = "E09000027";

/// A small deterministic generator (xorshift64*), enough for synthetic histories.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Placements a generated child may be in (none with an age limit or on a temporary basis).
const PLACEMENTS: [&str; 6] = ["U1", "U3", "U4", "U5", "U6", "K2"];

/// An episode's 903 details for `placement`, with the child's home postcode.
fn details(dice: &mut Dice, placement: &str, rne: &str, home: &str) -> EpisodeDetails {
    let placed = if placement == "P1" {
        home.to_owned()
    } else {
        let mut p = dice.pick(&POSTCODES);
        while p == home {
            p = dice.pick(&POSTCODES);
        }
        p.to_owned()
    };
    EpisodeDetails {
        reason_new_episode: Some(rne.to_owned()),
        placement_provider: Some(
            match placement {
                "P1" => "PR0",
                "K2" => dice.pick(&["PR1", "PR4"]),
                _ => dice.pick(&["PR1", "PR4", "PR5"]),
            }
            .to_owned(),
        ),
        reason_place_change: None,
        home_postcode: Some(home.to_owned()),
        placement_postcode: Some(placed),
        urn: (!without_urn(placement)).then(|| format!("SC{:06}", 100_000 + dice.below(800_000))),
    }
}

/// Registers LA `code` (if new) and writes `count` generated children with their episodes; a
/// summary. Does nothing if the LA already holds children.
pub async fn generated(
    pool: &DatabaseConnection,
    code: &str,
    count: usize,
    seed: u64,
) -> anyhow::Result<String> {
    let err = |e: crate::error::ApiError| anyhow::anyhow!("{e:?}");
    let la = tenancy::register(
        pool,
        code,
        Some("Generated Borough (synthetic)"),
        LaSettings::default(),
    )
    .await
    .map_err(err)?;
    let txn = crate::db::begin_tenant(pool, la.id, std::time::Duration::from_secs(600)).await?;
    let db = &txn;
    let held = entities::child::Entity::find()
        .filter(entities::child::Column::LaId.eq(la.id))
        .count(db)
        .await?;
    if held > 0 {
        return Ok(format!(
            "LA {code} already holds {held} children; nothing to do"
        ));
    }
    let id = tenancy::ensure_actor(
        db,
        la.id,
        "generated-cms",
        "client",
        &["vendor_system".to_owned()],
    )
    .await
    .map_err(err)?;
    let actor = Acting::system(
        la.id,
        id,
        "generated-cms",
        vec![Role::VendorSystem],
        &["cases:read", "cases:write"],
    );
    let today = crate::cases::service::today();
    let mut dice = Dice(seed.max(1));
    let mut episodes = 0;
    for n in 0..count {
        let age_days = 400 + dice.below(16 * 365) as i64;
        let born = today - Duration::days(age_days);
        let girl = dice.chance(50);
        let school_age = age_days > 5 * 365;
        let child = children::create_child(
            db,
            &actor,
            NewChild {
                la_child_id: format!("GEN{n:05}"),
                date_of_birth: born,
                sex: if girl { "F" } else { "M" }.to_owned(),
                ethnicity: dice
                    .pick(&[
                        "WBRI", "WIRI", "MWBC", "AIND", "BAFR", "BCRB", "CHNE", "OOTH",
                    ])
                    .to_owned(),
                upn: if school_age || dice.chance(50) {
                    upn_from(&format!("{code}{:09}", 100_000 + n))
                } else {
                    None
                },
                upn_unknown_reason: None,
                nhs_number: None,
                details: ChildDetails {
                    is_mother: girl.then_some(false),
                    mother_child_dob: None,
                },
                external_ids: Vec::new(),
            },
        )
        .await
        .map_err(err)?;
        let child = if child.upn.is_none() {
            // Too young for school: the UPN-unknown code the 903 asks for.
            let mut am: entities::child::ActiveModel = child.into();
            am.upn_unknown_reason = sea_orm::Set(Some("UN1".to_owned()));
            sea_orm::ActiveModelTrait::update(am, db).await?
        } else {
            child
        };
        let home = dice.pick(&POSTCODES);
        // The first period of care began between 10 days and three years ago, after birth.
        let earliest = born + Duration::days(30);
        let mut start = (today - Duration::days(10 + dice.below(3 * 365) as i64)).max(earliest);
        if start >= today {
            start = today - Duration::days(1);
        }
        let legal = dice.pick(&["C2", "C2", "C2", "V2", "V2", "C1"]);
        let need = dice.pick(&["N1", "N1", "N1", "N2", "N3", "N4", "N5", "N6", "N8"]);
        let mut periods = 0;
        let mut rne = "S";
        let mut placement = dice.pick(&PLACEMENTS);
        loop {
            let days_left = (today - start).num_days();
            // An episode runs at least two days; most end within a year.
            let ends = days_left > 2 && dice.chance(55);
            let end = ends.then(|| {
                start + Duration::days(1 + dice.below(days_left.clamp(2, 400) as u64 - 1) as i64)
            });
            let end = end.filter(|e| *e < today && *e > start);
            let (reason, next) =
                match end {
                    None => (None, None),
                    Some(e) => {
                        let roll = dice.below(100);
                        if roll < 30 {
                            // The placement changes; with a care order, sometimes to placed with parents.
                            let to = if legal != "V2" && dice.chance(25) {
                                "P1"
                            } else {
                                dice.pick(&PLACEMENTS)
                            };
                            (Some("X1"), Some((e, to, "P")))
                        } else {
                            let rec = match roll {
                                30..=69 => "E4A",
                                70..=84 => "E4B",
                                _ => "E13",
                            };
                            // Some come back into care later: a new period.
                            let again = e + Duration::days(30 + dice.below(200) as i64);
                            let back = (periods == 0 && again < today && dice.chance(20))
                                .then_some((again, dice.pick(&PLACEMENTS), "S"));
                            (Some(rec), back)
                        }
                    }
                };
            let mut d = details(&mut dice, placement, rne, home);
            if reason == Some("X1") {
                d.reason_place_change = Some(
                    dice.pick(&["CARPL", "CHILD", "PLACE", "LAREQ", "OTHER"])
                        .to_owned(),
                );
            }
            children::open_episode(
                db,
                &actor,
                NewEpisode {
                    child_id: ChildId(child.id),
                    fields: EpisodeFields {
                        started_on: start,
                        legal_status: legal.to_owned(),
                        category_of_need: need.to_owned(),
                        placement_type: placement.to_owned(),
                        ended_on: reason.and(end),
                        reason_ceased: reason.map(str::to_owned),
                        details: d,
                    },
                },
            )
            .await
            .map_err(err)?;
            episodes += 1;
            let Some((from, to, how)) = next else { break };
            if how == "S" {
                periods += 1;
            }
            start = from;
            placement = to;
            rne = how;
            if placement == "P1" && start >= today {
                break;
            }
        }
    }
    txn.commit().await?;
    Ok(format!(
        "generated LA {code}: {count} children, {episodes} episodes of care (seed {seed})"
    ))
}
