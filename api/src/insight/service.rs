//! Insight reads: an LA's case facts, and the savings calculator with the LA's own figures and
//! unit costs filling what the caller leaves out.

use entities::local_authority;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, QueryOrder};

use super::aggregates;
use super::calculator::{self, CostSet, Estimate, Inputs};
use super::facts::CaseFacts;
use crate::audit::acting::Acting;
use crate::error::{ApiError, ApiResult, UserErrorCode};

/// The case facts of the caller's LA.
pub async fn facts(db: &impl ConnectionTrait, actor: &Acting) -> ApiResult<Vec<CaseFacts>> {
    super::facts::load(db, actor.la_id).await
}

/// The case facts of every LA (or of the LAs given), each LA read under its own tenant: cross-LA
/// figures for the operator (`reunify insight --all-las`), never reachable through the API, where
/// every caller belongs to one LA. The LAs are shared among as many read transactions as there
/// are cores (each LA's facts come from one snapshot).
pub async fn facts_of_las(
    pool: &DatabaseConnection,
    only: Option<&[String]>,
    statement_timeout: std::time::Duration,
) -> ApiResult<Vec<CaseFacts>> {
    let mut las = local_authority::Entity::find()
        .order_by_asc(local_authority::Column::DfeCode)
        .all(pool)
        .await?;
    if let Some(codes) = only {
        if let Some(missing) = codes
            .iter()
            .find(|c| !las.iter().any(|l| &l.dfe_code == *c))
        {
            return Err(ApiError::BadInput(format!("no LA with DfE code {missing}")));
        }
        las.retain(|l| codes.contains(&l.dfe_code));
    }
    let ids: Vec<i64> = las.iter().map(|l| l.id).collect();
    let workers = std::thread::available_parallelism().map_or(2, usize::from);
    let tasks: Vec<_> = ids
        .chunks(ids.len().div_ceil(workers).max(1))
        .map(|chunk| tokio::spawn(facts_of(pool.clone(), chunk.to_vec(), statement_timeout)))
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(
            task.await
                .map_err(|_| ApiError::internal("a reader of case facts stopped"))??,
        );
    }
    Ok(all)
}

async fn facts_of(
    pool: DatabaseConnection,
    las: Vec<i64>,
    statement_timeout: std::time::Duration,
) -> ApiResult<Vec<CaseFacts>> {
    let mut all = Vec::new();
    for la in las {
        let txn = crate::db::begin_tenant_read(&pool, la, statement_timeout).await?;
        all.extend(super::facts::load(&txn, la).await?);
        txn.commit().await?;
    }
    Ok(all)
}

/// A savings estimate asked for; `None` means "the LA's own".
#[derive(Debug, Clone)]
pub struct SavingsRequest {
    /// Returns per year by need level (high, medium, low): all three or none.
    pub returns: [Option<f64>; 3],
    /// The breakdown rate now.
    pub breakdown_rate: Option<f64>,
    /// The breakdown rate with support.
    pub target_rate: f64,
    /// The published set for costs neither given nor set by the LA.
    pub cost_set: Option<CostSet>,
    /// Cost of a re-entry.
    pub reentry_cost: Option<f64>,
    /// Support cost per family by need level (high, medium, low).
    pub support_cost: [Option<f64>; 3],
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::user(UserErrorCode::Invalid, &[field], message)
}

/// Runs the calculator: given figures first, then the LA's measured returns and breakdown rate
/// and its unit costs, then the published set. `fromRecords` names what was measured.
pub async fn savings(
    db: &impl ConnectionTrait,
    actor: &Acting,
    req: SavingsRequest,
) -> ApiResult<Estimate> {
    let la = crate::tenancy::service::get(db, actor.la_id).await?;
    let costs = crate::tenancy::service::settings(&la).unit_costs;
    let given = req.returns.iter().filter(|r| r.is_some()).count();
    if given != 0 && given != 3 {
        return Err(invalid(
            "highNeedReturns",
            "give returns for all three need levels, or none to use the LA's own",
        ));
    }
    let mut from_records = Vec::new();
    let mut returns = req.returns.map(Option::unwrap_or_default);
    let mut breakdown_rate = req.breakdown_rate.unwrap_or_default();
    if given == 0 || req.breakdown_rate.is_none() {
        let m = aggregates::measured(&facts(db, actor).await?, crate::cases::service::today())?;
        if given == 0 {
            from_records.push("returns".to_owned());
            returns = m.returns.map(|n| n as f64);
        }
        if req.breakdown_rate.is_none() {
            from_records.push("breakdownRate".to_owned());
            breakdown_rate = m.breakdown_rate.ok_or_else(|| {
                invalid(
                    "breakdownRate",
                    "the LA has no return home 12 months old yet: give a breakdown rate",
                )
            })?;
        }
    }
    let inputs = Inputs {
        returns,
        support_cost: [
            req.support_cost[0].or(costs.high_need_support),
            req.support_cost[1].or(costs.medium_need_support),
            req.support_cost[2].or(costs.low_need_support),
        ],
        reentry_cost: req.reentry_cost.or(costs.reentry),
        cost_set: req.cost_set.unwrap_or(CostSet::Published2024),
        breakdown_rate,
        target_rate: req.target_rate,
    };
    calculator::calculate(&inputs)
        .map(|e| Estimate { from_records, ..e })
        .map_err(|(field, message)| invalid(field, &message))
}
