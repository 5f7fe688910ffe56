//! Worklists: what is due or overdue on the LA's active cases, most urgent first. Items come
//! from the records themselves (review dates, goal target dates, decisions awaiting approval)
//! and from the case facts (the return date, the agreed classifications and the services), each
//! read with one query over an index.

use std::collections::{BTreeSet, HashMap};

use chrono::NaiveDate;
use entities::{case_fact, decision, goal, parental_agreement, reunification_case as case};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect};

use super::facts::{CaseFacts, ServiceFact};
use crate::auth::Actor;
use crate::domain::dates::add_months;
use crate::domain::{
    AgreementStatus, ApprovalStatus, CaseStatus, ClassificationKind, GoalStatus, ServiceStatus,
    Stage,
};
use crate::error::ApiResult;

/// What is due.
#[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum WorkItemKind {
    /// A decision awaits approval (due from the day it was made).
    ApprovalAwaited,
    /// The case's next review date.
    ReviewDue,
    /// Risk Classification 3, due six months after the return home and not yet agreed.
    #[graphql(name = "RC3_DUE")]
    Rc3Due,
    /// Support after the return ends (its last service's end date) before the months the LA
    /// requires (or there is none).
    SupportEnding,
    /// A current goal's target date.
    GoalTarget,
}

/// One thing due on a case.
#[derive(Debug, Clone)]
pub struct WorkItem {
    /// What.
    pub kind: WorkItemKind,
    /// When.
    pub due_on: NaiveDate,
    /// The case.
    pub case: case::Model,
    /// The goal or decision it concerns (`(table, id)`), if any.
    pub record: Option<(&'static str, i64)>,
}

impl WorkItem {
    /// The sort key, which is also the cursor: due date, then kind, then case and record.
    pub fn key(&self) -> String {
        format!(
            "{}|{}|{:019}|{:019}",
            self.due_on,
            self.kind as u8,
            self.case.id,
            self.record.map_or(0, |r| r.1)
        )
    }
}

/// Which items.
#[derive(Debug, Clone, Default)]
pub struct WorklistFilter {
    /// Cases allocated to these workers (actor row ids).
    pub workers: Option<Vec<i64>>,
    /// Cases of these teams.
    pub teams: Option<Vec<String>>,
    /// These kinds only.
    pub kinds: Option<Vec<WorkItemKind>>,
    /// Items due on or before this date.
    pub due_by: NaiveDate,
}

/// The items of the caller's LA due by `filter.due_by`, most urgent (earliest due) first.
pub async fn worklist(
    db: &impl ConnectionTrait,
    actor: &Actor,
    filter: &WorklistFilter,
    support_months: u32,
) -> ApiResult<Vec<WorkItem>> {
    let la = actor.la_id;
    let wants = |k: WorkItemKind| filter.kinds.as_ref().is_none_or(|ks| ks.contains(&k));
    // (kind, due, case id, record)
    type Due = (WorkItemKind, NaiveDate, i64, Option<(&'static str, i64)>);
    let mut due: Vec<Due> = Vec::new();
    if wants(WorkItemKind::ApprovalAwaited) {
        let pending = decision::Entity::find()
            .select_only()
            .columns([
                decision::Column::Id,
                decision::Column::CaseId,
                decision::Column::DecidedOn,
            ])
            .filter(decision::Column::LaId.eq(la))
            .filter(decision::Column::ApprovalStatus.eq(ApprovalStatus::Pending.as_str()))
            .filter(decision::Column::DecidedOn.lte(filter.due_by))
            .into_tuple::<(i64, i64, NaiveDate)>()
            .all(db)
            .await?;
        due.extend(pending.into_iter().map(|(id, case, on)| {
            (
                WorkItemKind::ApprovalAwaited,
                on,
                case,
                Some(("decision", id)),
            )
        }));
    }
    if wants(WorkItemKind::ReviewDue) {
        let reviews = case::Entity::find()
            .select_only()
            .columns([case::Column::Id, case::Column::NextReviewOn])
            .filter(case::Column::LaId.eq(la))
            .filter(case::Column::Status.eq(CaseStatus::Active.as_str()))
            .filter(case::Column::NextReviewOn.lte(filter.due_by))
            .into_tuple::<(i64, NaiveDate)>()
            .all(db)
            .await?;
        due.extend(
            reviews
                .into_iter()
                .map(|(case, on)| (WorkItemKind::ReviewDue, on, case, None)),
        );
    }
    if wants(WorkItemKind::GoalTarget) {
        let goals = goal::Entity::find()
            .select_only()
            .columns([
                goal::Column::Id,
                goal::Column::CaseId,
                goal::Column::AgreementId,
                goal::Column::TargetDate,
            ])
            .filter(goal::Column::LaId.eq(la))
            .filter(goal::Column::Status.eq(GoalStatus::Active.as_str()))
            .filter(goal::Column::TargetDate.lte(filter.due_by))
            .into_tuple::<(i64, i64, i64, NaiveDate)>()
            .all(db)
            .await?;
        let agreements: BTreeSet<i64> = goals.iter().map(|g| g.2).collect();
        let superseded: BTreeSet<i64> = if agreements.is_empty() {
            BTreeSet::new()
        } else {
            parental_agreement::Entity::find()
                .select_only()
                .column(parental_agreement::Column::Id)
                .filter(parental_agreement::Column::LaId.eq(la))
                .filter(parental_agreement::Column::Id.is_in(agreements))
                .filter(parental_agreement::Column::Status.eq(AgreementStatus::Superseded.as_str()))
                .into_tuple::<i64>()
                .all(db)
                .await?
                .into_iter()
                .collect()
        };
        due.extend(
            goals
                .into_iter()
                .filter(|g| !superseded.contains(&g.2))
                .map(|(id, case, _, on)| (WorkItemKind::GoalTarget, on, case, Some(("goal", id)))),
        );
    }
    if wants(WorkItemKind::Rc3Due) || wants(WorkItemKind::SupportEnding) {
        let home = case_fact::Entity::find()
            .filter(case_fact::Column::LaId.eq(la))
            .filter(case_fact::Column::Status.eq(CaseStatus::Active.as_str()))
            .filter(case_fact::Column::Stage.eq(Stage::ReturnAndSupport.as_str()))
            .all(db)
            .await?;
        for f in home {
            let f = CaseFacts::read(&f.body)?;
            let Some(returned) = f.return_on else {
                continue;
            };
            let agreed_rc3 = f
                .classifications
                .iter()
                .any(|c| c.0 == ClassificationKind::Rc3);
            let rc3_on = add_months(returned, 6);
            if wants(WorkItemKind::Rc3Due) && !agreed_rc3 && rc3_on <= filter.due_by {
                due.push((WorkItemKind::Rc3Due, rc3_on, f.case_id, None));
            }
            if wants(WorkItemKind::SupportEnding)
                && let Some(ends) = support_ends(&f.services, returned)
                && ends < add_months(returned, support_months)
                && ends <= filter.due_by
            {
                due.push((WorkItemKind::SupportEnding, ends, f.case_id, None));
            }
        }
    }
    let ids: BTreeSet<i64> = due.iter().map(|d| d.2).collect();
    let mut cases: HashMap<i64, case::Model> = HashMap::new();
    for chunk in ids.into_iter().collect::<Vec<_>>().chunks(500) {
        let mut query = case::Entity::find()
            .filter(case::Column::LaId.eq(la))
            .filter(case::Column::Status.eq(CaseStatus::Active.as_str()))
            .filter(case::Column::Id.is_in(chunk.iter().copied()));
        if let Some(workers) = &filter.workers {
            query = query.filter(case::Column::WorkerId.is_in(workers.iter().copied()));
        }
        if let Some(teams) = &filter.teams {
            query = query.filter(case::Column::Team.is_in(teams.iter().cloned()));
        }
        cases.extend(query.all(db).await?.into_iter().map(|c| (c.id, c)));
    }
    let mut items: Vec<WorkItem> = due
        .into_iter()
        .filter_map(|(kind, due_on, case_id, record)| {
            cases.get(&case_id).map(|case| WorkItem {
                kind,
                due_on,
                case: case.clone(),
                record,
            })
        })
        .collect();
    items.sort_by_cached_key(WorkItem::key);
    Ok(items)
}

/// When support after a return ends: the last end date of the services (not declined) running
/// after it; `None` while one runs without an end date. With no such service, support "ends" on
/// the day of the return.
fn support_ends(services: &[ServiceFact], returned: NaiveDate) -> Option<NaiveDate> {
    let mut last = returned;
    for s in services.iter().filter(|s| s.4 != ServiceStatus::Declined) {
        match s.3 {
            None => return None,
            Some(end) if end > last => last = end,
            Some(_) => {}
        }
    }
    Some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn service(ends: Option<NaiveDate>, status: &str) -> ServiceFact {
        ServiceFact(
            crate::domain::ServiceType::ParentingSupport,
            crate::domain::NeedLevel::High,
            d(2025, 1, 1),
            ends,
            ServiceStatus::from_db(status).unwrap(),
        )
    }

    #[test]
    fn support_ends_with_its_last_service() {
        let home = d(2025, 2, 1);
        assert_eq!(support_ends(&[], home), Some(home));
        assert_eq!(
            support_ends(
                &[
                    service(Some(d(2025, 5, 1)), "ENDED"),
                    service(Some(d(2025, 9, 1)), "ACTIVE"),
                    service(None, "DECLINED")
                ],
                home
            ),
            Some(d(2025, 9, 1))
        );
        assert_eq!(
            support_ends(
                &[
                    service(Some(d(2025, 5, 1)), "ENDED"),
                    service(None, "ACTIVE")
                ],
                home
            ),
            None
        );
    }
}
