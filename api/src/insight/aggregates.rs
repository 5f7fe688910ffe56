//! The aggregates: pure functions of an LA's case facts, a filter, the dimensions to group by and
//! the date the figures are taken on. Every definition lives here (and in the schema description
//! of the field that returns it); the resolvers only load facts and choose the presentation.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_graphql::{Enum, SimpleObject};
use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::facts::{
    CaseFacts as Fact, ChecklistFact, ClassificationFact, DecisionFact, GoalFact, ServiceFact,
    StageFact,
};
use crate::domain::dates::add_months;
use crate::domain::{
    ApprovalStatus, ClassificationKind, DecisionKind, DecisionOutcome, GoalStatus, NeedLevel,
    ServiceStatus, ServiceType, Stage,
};
use crate::error::ApiResult;

/// What figures can be grouped by (and filtered on).
#[derive(Enum, Serialize, Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Dimension {
    /// The collection year (1 April to 31 March, as SSDA903), e.g. `2025-26`, of the date the
    /// aggregate counts by (see each aggregate).
    Year,
    /// The case's team (`NONE` when unallocated).
    Team,
    /// The legal status (SSDA903 code) of the episode of care the case belongs to.
    LegalStatus,
    /// The child's age when the case opened, in the DfE bands (`UNDER_1`, `1_TO_4`, `5_TO_9`,
    /// `10_TO_15`, `16_AND_OVER`).
    AgeBand,
    /// The level (1 Low to 4 Very high) of the case's latest agreed risk classification (`NONE`
    /// before any).
    RiskLevel,
    /// How the child went home: `PLANNED` (E4A, or placed with parents after D3 = yes),
    /// `UNPLANNED` (E4B, or without a D3), `NONE` before any return.
    ReturnType,
    /// The attempt number: 1 for a child's first reunification case, 2 after one earlier case,
    /// and so on (a previous failed return is a risk factor).
    Attempt,
    /// The case's current stage.
    Stage,
    /// The case's status (`ACTIVE`, `CLOSED`).
    Status,
    /// The case's allocated worker, as the `ID` of their actor (`Me.id`; `NONE` when
    /// unallocated): a worker's own figures, or a team manager's view per worker.
    Worker,
}

/// The DfE age bands.
pub const AGE_BANDS: &[&str] = &["UNDER_1", "1_TO_4", "5_TO_9", "10_TO_15", "16_AND_OVER"];

fn age_band(age: i32) -> &'static str {
    match age {
        i32::MIN..=0 => AGE_BANDS[0],
        1..=4 => AGE_BANDS[1],
        5..=9 => AGE_BANDS[2],
        10..=15 => AGE_BANDS[3],
        _ => AGE_BANDS[4],
    }
}

/// The collection year a date falls in: `2025-26` for 1 April 2025 to 31 March 2026.
pub fn collection_year(d: NaiveDate) -> String {
    Part::Year(year_start(d)).render()
}

/// Which facts count, and how they are grouped.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// First day of the period (inclusive); open when `None`.
    pub from: Option<NaiveDate>,
    /// Last day of the period (inclusive); open when `None`.
    pub to: Option<NaiveDate>,
    /// Only these values, per dimension (`Year` filters are ignored: use the period).
    pub only: Vec<(Dimension, Vec<String>)>,
    /// Group by these dimensions, in this order.
    pub group_by: Vec<Dimension>,
    /// The date the figures are taken on: follow-up windows must have ended by it.
    pub as_of: NaiveDate,
}

/// One part of a group's key while counting: built without allocating and compared cheaply
/// (every record of every fact builds one); rendered as text once per group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Part<'f> {
    /// A collection year, by the year it starts in.
    Year(i32),
    /// A code, a name or `NONE`.
    Text(&'f str),
    /// A number (attempt, risk level).
    Int(i64),
    /// An actor, by its global ID (`NONE` for none).
    Actor(Option<i64>),
}

impl Part<'_> {
    fn render(self) -> String {
        match self {
            Part::Year(start) => format!("{start}-{:02}", (start + 1) % 100),
            Part::Text(s) => s.to_owned(),
            Part::Int(n) => n.to_string(),
            Part::Actor(Some(id)) => crate::ids::ActorId(id).to_global().to_string(),
            Part::Actor(None) => "NONE".to_owned(),
        }
    }
}

/// The year a collection year (1 April to 31 March) containing `d` starts in.
fn year_start(d: NaiveDate) -> i32 {
    if d.month() >= 4 {
        d.year()
    } else {
        d.year() - 1
    }
}

impl Query {
    fn value<'f>(&self, dim: Dimension, f: &'f Fact, on: NaiveDate) -> Part<'f> {
        match dim {
            Dimension::Year => Part::Year(year_start(on)),
            Dimension::Team => Part::Text(f.team.as_deref().unwrap_or("NONE")),
            Dimension::LegalStatus => Part::Text(&f.legal_status),
            Dimension::AgeBand => Part::Text(age_band(f.age_at_open)),
            Dimension::RiskLevel => f
                .risk_level
                .map_or(Part::Text("NONE"), |l| Part::Int(i64::from(l))),
            Dimension::ReturnType => Part::Text(
                f.return_type
                    .map_or("NONE", crate::domain::ReturnType::as_str),
            ),
            Dimension::Attempt => Part::Int(i64::from(f.attempt_number)),
            Dimension::Stage => Part::Text(f.stage.as_str()),
            Dimension::Status => Part::Text(f.status.as_str()),
            Dimension::Worker => Part::Actor(f.worker_id),
        }
    }

    /// The case was open at some time in the period: opened by its end, not closed before its
    /// start.
    fn open_in_period(&self, f: &Fact) -> bool {
        self.to.is_none_or(|to| f.opened_on <= to)
            && self
                .from
                .is_none_or(|from| f.closed_on.is_none_or(|c| c >= from))
    }

    fn in_period(&self, on: NaiveDate) -> bool {
        self.from.is_none_or(|from| on >= from) && self.to.is_none_or(|to| on <= to)
    }

    /// Whether the case passes the dimension filters.
    fn selects(&self, f: &Fact) -> bool {
        self.only.iter().all(|(dim, values)| {
            *dim == Dimension::Year || values.contains(&self.value(*dim, f, f.opened_on).render())
        })
    }

    fn key<'f>(&self, f: &'f Fact, on: NaiveDate) -> Vec<Part<'f>> {
        self.group_by
            .iter()
            .map(|d| self.value(*d, f, on))
            .collect()
    }
}

/// One part of a group's key.
#[derive(SimpleObject, Serialize, Debug, Clone, PartialEq, Eq)]
pub struct GroupKey {
    /// The dimension.
    pub dimension: Dimension,
    /// Its value in this group (a code, a team name, a year such as `2025-26`, or `NONE`).
    pub value: String,
}

/// A count as the caller may see it: null and `suppressed` when it is below 5 for a caller who
/// sees aggregates only, rounded to the nearest 10 when asked.
#[derive(SimpleObject, Serialize, Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// The count; null when suppressed.
    pub value: Option<i64>,
    /// Whether the count was withheld because fewer than 5 children (or records) make it up.
    pub suppressed: bool,
}

impl Count {
    /// A count withheld.
    const WITHHELD: Count = Count {
        value: None,
        suppressed: true,
    };
}

/// How counts are shown.
#[derive(Debug, Clone, Copy, Default)]
pub struct Presentation {
    /// Withhold counts below 5 (and what is derived from them).
    pub suppress: bool,
    /// Round counts to the nearest 10 (rates use the exact counts).
    pub round_to_10: bool,
}

/// Counts below this are withheld from callers who see aggregates only.
pub const SUPPRESS_BELOW: i64 = 5;

impl Presentation {
    fn count(&self, n: i64) -> Count {
        if self.hidden(n) {
            return Count::WITHHELD;
        }
        let value = if self.round_to_10 {
            (n + 5).div_euclid(10) * 10
        } else {
            n
        };
        Count {
            value: Some(value),
            suppressed: false,
        }
    }

    fn hidden(&self, n: i64) -> bool {
        self.suppress && n < SUPPRESS_BELOW
    }

    /// A count of records (decisions, goals, services, practice actions) about `cases` cases:
    /// withheld, as a count of cases would be, when fewer than 5 cases make it up, whatever the
    /// number of records — 35 actions over a withheld count of 5 cases tells 7 per case, and so
    /// the case count behind any other cell that shows its actions.
    fn count_of(&self, n: i64, cases: i64) -> Count {
        if self.hidden(cases) {
            return Count::WITHHELD;
        }
        self.count(n)
    }

    /// [`Presentation::rate`] of records about `cases` cases: null when those are withheld.
    fn rate_of(&self, part: i64, whole: i64, cases: i64) -> Option<f64> {
        if self.hidden(cases) {
            return None;
        }
        self.rate(part, whole)
    }

    /// `part / whole`, null when the whole is 0 or either count is withheld.
    fn rate(&self, part: i64, whole: i64) -> Option<f64> {
        (whole > 0 && !self.hidden(part) && !self.hidden(whole)).then(|| part as f64 / whole as f64)
    }

    fn spread(&self, mut days: Vec<i64>) -> Spread {
        let n = days.len() as i64;
        if days.is_empty() || self.hidden(n) {
            return Spread {
                count: self.count(n),
                median: None,
                p25: None,
                p75: None,
            };
        }
        days.sort_unstable();
        Spread {
            count: self.count(n),
            median: Some(percentile(&days, 0.5)),
            p25: Some(percentile(&days, 0.25)),
            p75: Some(percentile(&days, 0.75)),
        }
    }
}

/// The `p`th percentile of sorted values by linear interpolation between closest ranks (as
/// Excel's PERCENTILE.INC and R's default): the median of an even count is the mean of the
/// middle two.
pub fn percentile(sorted: &[i64], p: f64) -> f64 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return 0.0;
    };
    let rank = p * last as f64;
    let lo = rank.floor() as usize;
    let hi = rank.ceil() as usize;
    let (a, b) = (sorted[lo] as f64, sorted[hi.min(last)] as f64);
    a + (b - a) * (rank - lo as f64)
}

/// Days: how many, median, lower and upper quartile. Null (and the count withheld) when fewer
/// than 5 for a caller who sees aggregates only.
#[derive(SimpleObject, Serialize, Debug, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Spread {
    /// How many durations.
    pub count: Count,
    /// Median, in days.
    pub median: Option<f64>,
    /// Lower quartile (25th percentile), in days.
    pub p25: Option<f64>,
    /// Upper quartile (75th percentile), in days.
    pub p75: Option<f64>,
}

/// Groups accumulators by key; the groups come out in the order of their keys' text.
struct Groups<'q, 'f, A> {
    q: &'q Query,
    map: BTreeMap<Vec<Part<'f>>, A>,
}

impl<'q, 'f, A: Default> Groups<'q, 'f, A> {
    fn new(q: &'q Query) -> Self {
        Self {
            q,
            map: BTreeMap::new(),
        }
    }

    /// The accumulator of the case's group for a record dated `on`, when `on` is in the period.
    fn at(&mut self, f: &'f Fact, on: NaiveDate) -> Option<&mut A> {
        self.q
            .in_period(on)
            .then(|| self.map.entry(self.q.key(f, on)).or_default())
    }

    fn finish<T>(self, mut out: impl FnMut(Vec<GroupKey>, A) -> Vec<T>) -> Vec<T> {
        let mut groups: Vec<(Vec<String>, A)> = self
            .map
            .into_iter()
            .map(|(key, acc)| (key.into_iter().map(Part::render).collect(), acc))
            .collect();
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        let dims = &self.q.group_by;
        groups
            .into_iter()
            .flat_map(|(key, acc)| {
                let key = dims
                    .iter()
                    .zip(key)
                    .map(|(d, v)| GroupKey {
                        dimension: *d,
                        value: v,
                    })
                    .collect();
                out(key, acc)
            })
            .collect()
    }
}

fn selected<'f>(q: &Query, facts: &'f [Fact]) -> impl Iterator<Item = &'f Fact> {
    facts.iter().filter(|f| q.selects(f))
}

// ----- cases by stage and status -----

/// Cases in a group.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct CaseCount {
    /// The group.
    pub key: Vec<GroupKey>,
    /// Cases open at any time in the period.
    pub cases: Count,
}

/// Cases open at any time in the period (opened on or before its end, not closed before its
/// start); `YEAR` is the year the case opened.
pub fn cases(q: &Query, p: Presentation, facts: &[Fact]) -> Vec<CaseCount> {
    let mut g: Groups<'_, '_, i64> = Groups::new(q);
    for f in selected(q, facts) {
        let open = q.open_in_period(f);
        if open {
            *g.map.entry(q.key(f, f.opened_on)).or_default() += 1;
        }
    }
    g.finish(|key, n| {
        vec![CaseCount {
            key,
            cases: p.count(n),
        }]
    })
}

// ----- time in stage, time to decision -----

/// Days spent in one stage.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct StageTime {
    /// The group.
    pub key: Vec<GroupKey>,
    /// The stage.
    pub stage: Stage,
    /// Days from entering the stage to completing it.
    pub days: Spread,
}

/// Stages completed in the period: days from entering to completing each.
pub fn stage_times(q: &Query, p: Presentation, facts: &[Fact]) -> ApiResult<Vec<StageTime>> {
    let mut g: Groups<'_, '_, BTreeMap<Stage, Vec<i64>>> = Groups::new(q);
    for f in selected(q, facts) {
        for StageFact(stage, entered, completed) in &f.stages {
            let Some(done) = *completed else { continue };
            if let Some(acc) = g.at(f, done) {
                let days = (done - *entered).num_days();
                acc.entry(*stage).or_default().push(days);
            }
        }
    }
    Ok(g.finish(|key, acc| {
        acc.into_iter()
            .map(|(stage, days)| StageTime {
                key: key.clone(),
                stage,
                days: p.spread(days),
            })
            .collect()
    }))
}

/// Days from entering care to a decision.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DecisionTime {
    /// The group.
    pub key: Vec<GroupKey>,
    /// The decision.
    pub kind: DecisionKind,
    /// Days from the start of the episode of care to the decision.
    pub days_from_care: Spread,
}

/// The first D1, D2 and D3 of each case, made in the period: days from the start of the episode
/// of care the case belongs to.
pub fn decision_times(q: &Query, p: Presentation, facts: &[Fact]) -> ApiResult<Vec<DecisionTime>> {
    let mut g: Groups<'_, '_, BTreeMap<DecisionKind, Vec<i64>>> = Groups::new(q);
    for f in selected(q, facts) {
        let mut first: BTreeMap<DecisionKind, NaiveDate> = BTreeMap::new();
        for DecisionFact(kind, _, on, _) in &f.decisions {
            let kind = *kind;
            if kind != DecisionKind::Closure {
                let at = first.entry(kind).or_insert(*on);
                *at = (*at).min(*on);
            }
        }
        for (kind, on) in first {
            if let Some(acc) = g.at(f, on) {
                acc.entry(kind)
                    .or_default()
                    .push((on - f.care_started_on).num_days());
            }
        }
    }
    Ok(g.finish(|key, acc| {
        acc.into_iter()
            .map(|(kind, days)| DecisionTime {
                key: key.clone(),
                kind,
                days_from_care: p.spread(days),
            })
            .collect()
    }))
}

// ----- decisions -----

/// Decisions of one kind with one outcome.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DecisionCount {
    /// The group.
    pub key: Vec<GroupKey>,
    /// The decision.
    pub kind: DecisionKind,
    /// Its outcome.
    pub outcome: DecisionOutcome,
    /// Decisions made in the period.
    pub decisions: Count,
    /// Of those, how many still await approval.
    pub awaiting_approval: Count,
}

/// Every decision made in the period (a deferred D1 and the later D1 both count), by kind and
/// outcome.
pub fn decisions(q: &Query, p: Presentation, facts: &[Fact]) -> ApiResult<Vec<DecisionCount>> {
    type ByDecision = BTreeMap<(DecisionKind, DecisionOutcome), (i64, i64, BTreeSet<i64>)>;
    let mut g: Groups<'_, '_, ByDecision> = Groups::new(q);
    for f in selected(q, facts) {
        for DecisionFact(kind, outcome, on, approval) in &f.decisions {
            if let Some(acc) = g.at(f, *on) {
                let n = acc.entry((*kind, *outcome)).or_default();
                n.0 += 1;
                n.1 += i64::from(*approval == ApprovalStatus::Pending);
                n.2.insert(f.case_id);
            }
        }
    }
    Ok(g.finish(|key, acc| {
        acc.into_iter()
            .map(|((kind, outcome), (n, pending, cases))| {
                let cases = cases.len() as i64;
                DecisionCount {
                    key: key.clone(),
                    kind,
                    outcome,
                    decisions: p.count_of(n, cases),
                    awaiting_approval: p.count_of(pending, cases),
                }
            })
            .collect()
    }))
}

// ----- risk -----

/// Agreed classifications of one kind at one level.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RiskLevelCount {
    /// The group.
    pub key: Vec<GroupKey>,
    /// RC1, RC2 or RC3.
    pub kind: ClassificationKind,
    /// The level, 1 (Low) to 4 (Very high).
    pub level: i32,
    /// Cases whose classification of this kind, agreed in the period, was at this level.
    pub cases: Count,
}

/// How risk moved between two classifications of the same case.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct RiskMovement {
    /// The group.
    pub key: Vec<GroupKey>,
    /// The earlier classification.
    pub from: ClassificationKind,
    /// The later one (agreed in the period).
    pub to: ClassificationKind,
    /// Cases whose level went up.
    pub up: Count,
    /// … stayed the same.
    pub same: Count,
    /// … went down.
    pub down: Count,
}

/// The latest agreed classification of each kind per case.
fn latest_classifications(f: &Fact) -> ApiResult<BTreeMap<ClassificationKind, (i32, NaiveDate)>> {
    let mut latest = BTreeMap::new();
    for ClassificationFact(kind, level, on) in &f.classifications {
        let at = latest.entry(*kind).or_insert((*level, *on));
        if *on >= at.1 {
            *at = (*level, *on);
        }
    }
    Ok(latest)
}

/// The latest agreed RC1, RC2 and RC3 of each case, agreed in the period, by level.
pub fn risk_levels(q: &Query, p: Presentation, facts: &[Fact]) -> ApiResult<Vec<RiskLevelCount>> {
    let mut g: Groups<'_, '_, BTreeMap<(ClassificationKind, i32), i64>> = Groups::new(q);
    for f in selected(q, facts) {
        for (kind, (level, on)) in latest_classifications(f)? {
            if let Some(acc) = g.at(f, on) {
                *acc.entry((kind, level)).or_default() += 1;
            }
        }
    }
    Ok(g.finish(|key, acc| {
        acc.into_iter()
            .map(|((kind, level), n)| RiskLevelCount {
                key: key.clone(),
                kind,
                level,
                cases: p.count(n),
            })
            .collect()
    }))
}

/// RC1 → RC2 and RC2 → RC3 of each case (latest agreed of each), counted when the later one was
/// agreed in the period.
pub fn risk_movement(q: &Query, p: Presentation, facts: &[Fact]) -> ApiResult<Vec<RiskMovement>> {
    use ClassificationKind::{Rc1, Rc2, Rc3};
    let mut g: Groups<'_, '_, BTreeMap<(ClassificationKind, ClassificationKind), [i64; 3]>> =
        Groups::new(q);
    for f in selected(q, facts) {
        let latest = latest_classifications(f)?;
        for (from, to) in [(Rc1, Rc2), (Rc2, Rc3)] {
            let (Some(a), Some(b)) = (latest.get(&from), latest.get(&to)) else {
                continue;
            };
            if let Some(acc) = g.at(f, b.1) {
                let n = acc.entry((from, to)).or_default();
                n[match b.0.cmp(&a.0) {
                    std::cmp::Ordering::Greater => 0,
                    std::cmp::Ordering::Equal => 1,
                    std::cmp::Ordering::Less => 2,
                }] += 1;
            }
        }
    }
    Ok(g.finish(|key, acc| {
        acc.into_iter()
            .map(|((from, to), [up, same, down])| RiskMovement {
                key: key.clone(),
                from,
                to,
                up: p.count(up),
                same: p.count(same),
                down: p.count(down),
            })
            .collect()
    }))
}

// ----- goals -----

/// Goals that fell due, and how many were met on time.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct GoalCount {
    /// The group.
    pub key: Vec<GroupKey>,
    /// Goals (not withdrawn) whose original target date is in the period and not after the
    /// as-of date.
    pub due: Count,
    /// Of those, goals met (status `MET`).
    pub met: Count,
    /// Of those, goals met on time: rated green without a break since on or before the original
    /// target date (an extension does not make a late goal on time).
    pub met_on_time: Count,
    /// `metOnTime / due`.
    pub met_on_time_rate: Option<f64>,
}

/// Goals by their original target date.
pub fn goals(q: &Query, p: Presentation, facts: &[Fact]) -> ApiResult<Vec<GoalCount>> {
    let mut g: Groups<'_, '_, ([i64; 3], BTreeSet<i64>)> = Groups::new(q);
    for f in selected(q, facts) {
        for GoalFact(original, _, status, green_since) in &f.goals {
            let original = *original;
            if *status == GoalStatus::Withdrawn || original > q.as_of {
                continue;
            }
            if let Some((acc, cases)) = g.at(f, original) {
                let met = *status == GoalStatus::Met;
                acc[0] += 1;
                acc[1] += i64::from(met);
                acc[2] += i64::from(met && green_since.is_some_and(|d| d <= original));
                cases.insert(f.case_id);
            }
        }
    }
    Ok(g.finish(|key, ([due, met, on_time], cases)| {
        let cases = cases.len() as i64;
        vec![GoalCount {
            key,
            due: p.count_of(due, cases),
            met: p.count_of(met, cases),
            met_on_time: p.count_of(on_time, cases),
            met_on_time_rate: p.rate_of(on_time, due, cases),
        }]
    }))
}

// ----- support -----

/// Services of one type at one need level.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ServiceCount {
    /// The group.
    pub key: Vec<GroupKey>,
    /// The service type.
    pub service_type: ServiceType,
    /// The family's need level for it.
    pub need_level: NeedLevel,
    /// Services running at some time in the period (declined ones excluded).
    pub services: Count,
    /// Families (cases) with at least one of them.
    pub families: Count,
}

/// Services running at some time in the period (starting on or before its end and not ending
/// before its start; declined services never ran); `YEAR` is the year the service started.
pub fn services(q: &Query, p: Presentation, facts: &[Fact]) -> ApiResult<Vec<ServiceCount>> {
    type ByService = BTreeMap<(ServiceType, NeedLevel), (i64, BTreeSet<i64>)>;
    let mut g: Groups<'_, '_, ByService> = Groups::new(q);
    for f in selected(q, facts) {
        for ServiceFact(kind, need, starts, ends, status) in &f.services {
            let starts = *starts;
            let running = *status != ServiceStatus::Declined
                && q.to.is_none_or(|to| starts <= to)
                && q.from.is_none_or(|from| ends.is_none_or(|e| e >= from));
            if running {
                let acc = g.map.entry(q.key(f, starts)).or_default();
                let n = acc.entry((*kind, *need)).or_default();
                n.0 += 1;
                n.1.insert(f.case_id);
            }
        }
    }
    Ok(g.finish(|key, acc| {
        acc.into_iter()
            .map(|((service_type, need_level), (n, families))| {
                let families = families.len() as i64;
                ServiceCount {
                    key: key.clone(),
                    service_type,
                    need_level,
                    services: p.count_of(n, families),
                    families: p.count(families),
                }
            })
            .collect()
    }))
}

/// Families supported for at least a number of months after the return.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct FollowUp {
    /// The group.
    pub key: Vec<GroupKey>,
    /// Months after the return home.
    pub months: i32,
    /// Children whose window has ended by the as-of date (or who already met the measure).
    pub children: Count,
    /// Of those, how many meet the measure.
    pub count: Count,
    /// `count / children`.
    pub rate: Option<f64>,
}

/// Returns home in the period (any return, planned or unplanned, ending care or placed with
/// parents): whether services (not declined) ran without end, or until at least 6 and 12 months
/// after the return. A family counts once its window has passed, or earlier once support already
/// reaches it.
pub fn support_duration(q: &Query, p: Presentation, facts: &[Fact]) -> ApiResult<Vec<FollowUp>> {
    let mut g: Groups<'_, '_, BTreeMap<i32, (i64, i64)>> = Groups::new(q);
    for f in selected(q, facts) {
        let Some(returned) = f.return_on else {
            continue;
        };
        let until = f
            .services
            .iter()
            .filter(|s| s.4 != ServiceStatus::Declined)
            .map(|s| s.3.unwrap_or(q.as_of).min(q.as_of))
            .max();
        for months in [6, 12] {
            let end = add_months(returned, months as u32);
            let met = until.is_some_and(|u| u >= end);
            if (end <= q.as_of || met)
                && let Some(acc) = g.at(f, returned)
            {
                let n = acc.entry(months).or_default();
                n.0 += 1;
                n.1 += i64::from(met);
            }
        }
    }
    Ok(follow_ups(g, p))
}

fn follow_ups(g: Groups<'_, '_, BTreeMap<i32, (i64, i64)>>, p: Presentation) -> Vec<FollowUp> {
    g.finish(|key, acc| {
        acc.into_iter()
            .map(|(months, (children, count))| FollowUp {
                key: key.clone(),
                months,
                children: p.count(children),
                count: p.count(count),
                rate: p.rate(count, children),
            })
            .collect()
    })
}

// ----- returns home and what followed -----

/// Returns home in a group.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct ReturnCount {
    /// The group.
    pub key: Vec<GroupKey>,
    /// Children whose last return in the period was planned (episode ceased E4A).
    pub planned: Count,
    /// … unplanned (E4B).
    pub unplanned: Count,
    /// Both.
    pub children: Count,
    /// Children whose last move in the period to relatives or friends without parental
    /// responsibility ended their care (E13): reunified with family through the framework, but
    /// not a return home under SSDA903, so not in `children`.
    pub to_relatives_or_friends: Count,
}

/// The statutory returns home: for each child, only the last episode ending E4A or E4B in the
/// period (as the SSDA903 counts children ceasing care), with the case that recorded it.
fn last_returns<'f>(q: &Query, facts: &'f [Fact]) -> Vec<&'f Fact> {
    last_exits(q, facts, &["E4A", "E4B"])
}

/// For each child, the last case whose return ended the episode in the period with one of
/// `reasons`.
fn last_exits<'f>(q: &Query, facts: &'f [Fact], reasons: &[&str]) -> Vec<&'f Fact> {
    let mut last: HashMap<i64, &Fact> = HashMap::new();
    for f in selected(q, facts) {
        let (Some(on), Some(reason)) = (f.return_on, f.exit_reason.as_deref()) else {
            continue;
        };
        if !reasons.contains(&reason) || !q.in_period(on) {
            continue;
        }
        let entry = last.entry(f.child_id).or_insert(f);
        if (on, f.case_id) > (entry.return_on.unwrap_or(on), entry.case_id) {
            *entry = f;
        }
    }
    let mut out: Vec<&Fact> = last.into_values().collect();
    out.sort_by_key(|f| f.case_id);
    out
}

/// Children returning home in the period, by their last return in it (E4A planned, E4B
/// unplanned), and apart from them the children who went to relatives or friends without
/// parental responsibility (E13). A return that leaves the child looked after, placed with
/// parents (P1), is not a return home under SSDA903 and is not counted here.
pub fn returns(q: &Query, p: Presentation, facts: &[Fact]) -> Vec<ReturnCount> {
    let mut g: Groups<'_, '_, [i64; 3]> = Groups::new(q);
    let exits = last_returns(q, facts)
        .into_iter()
        .chain(last_exits(q, facts, &["E13"]));
    for f in exits {
        if let (Some(on), Some(reason)) = (f.return_on, f.exit_reason.as_deref())
            && let Some(acc) = g.at(f, on)
        {
            acc[match reason {
                "E4A" => 0,
                "E4B" => 1,
                _ => 2,
            }] += 1;
        }
    }
    g.finish(|key, [planned, unplanned, relatives]| {
        vec![ReturnCount {
            key,
            planned: p.count(planned),
            unplanned: p.count(unplanned),
            children: p.count(planned + unplanned),
            to_relatives_or_friends: p.count(relatives),
        }]
    })
}

/// The children of [`returns`] still at home 3, 6 and 12 months after their return: counted once
/// the window has ended by the as-of date; still home when no new period of care began within
/// it.
pub fn still_home(q: &Query, p: Presentation, facts: &[Fact]) -> Vec<FollowUp> {
    outcomes_after_return(q, p, facts, &[3, 6, 12], false)
}

/// The children of [`returns`] who re-entered care (a later new period of care) within 3 and 12
/// months of their return: counted once the window has ended by the as-of date, or as soon as
/// they re-entered within it (so a return in one year and re-entry in the next counts in the
/// year of the return).
pub fn reentries(q: &Query, p: Presentation, facts: &[Fact]) -> Vec<FollowUp> {
    outcomes_after_return(q, p, facts, &[3, 12], true)
}

fn outcomes_after_return(
    q: &Query,
    p: Presentation,
    facts: &[Fact],
    windows: &[i32],
    reentry: bool,
) -> Vec<FollowUp> {
    let mut g: Groups<'_, '_, BTreeMap<i32, (i64, i64)>> = Groups::new(q);
    for f in last_returns(q, facts) {
        let Some(returned) = f.return_on else {
            continue;
        };
        for &months in windows {
            let end = add_months(returned, months as u32);
            let back = f.reentered_on.is_some_and(|d| d <= end && d <= q.as_of);
            let known = end <= q.as_of || (reentry && back);
            if known && let Some(acc) = g.at(f, returned) {
                let n = acc.entry(months).or_default();
                n.0 += 1;
                n.1 += i64::from(back == reentry);
            }
        }
    }
    follow_ups(g, p)
}

// ----- the LA's own figures for the savings calculator -----

/// What an LA's records say about its returns home, for the savings calculator.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Children returning home (E4A/E4B, last per child) in the 12 months to the as-of date, by
    /// the highest need level of their family's services (high, medium, low; none recorded
    /// counts as low).
    pub returns: [i64; 3],
    /// Of every child whose 12-month window after their last return has ended, the share who
    /// re-entered care within it; `None` when there is none.
    pub breakdown_rate: Option<f64>,
}

/// The LA's measured returns by need level and breakdown rate.
pub fn measured(facts: &[Fact], as_of: NaiveDate) -> ApiResult<Measured> {
    let year = Query {
        from: as_of
            .checked_sub_months(chrono::Months::new(12))
            .map(|d| d + chrono::Days::new(1)),
        to: Some(as_of),
        as_of,
        ..Query::default()
    };
    let mut returns = [0; 3];
    for f in last_returns(&year, facts) {
        let highest = f
            .services
            .iter()
            .filter(|s| s.4 != ServiceStatus::Declined)
            .map(|s| s.1)
            .min()
            .unwrap_or(NeedLevel::Low);
        returns[highest as usize] += 1;
    }
    let all = Query {
        as_of,
        ..Query::default()
    };
    let breakdown_rate = reentries(&all, Presentation::default(), facts)
        .iter()
        .find(|w| w.months == 12)
        .and_then(|w| w.rate);
    Ok(Measured {
        returns,
        breakdown_rate,
    })
}

// ----- use of the framework -----

/// How fully one stage's practice actions were done.
#[derive(SimpleObject, Serialize, Debug, Clone)]
#[serde(rename_all = "camelCase")]
pub struct FrameworkUse {
    /// The group.
    pub key: Vec<GroupKey>,
    /// The stage.
    pub stage: Stage,
    /// Cases that reached the stage.
    pub cases: Count,
    /// Practice actions on its checklist, over those cases.
    pub actions: Count,
    /// Of those, completed.
    pub completed: Count,
    /// Of the completed, those a record proves (derived actions completed by their record).
    pub evidenced: Count,
    /// Of the completed, those ticked by hand (self-reported).
    pub self_reported: Count,
    /// `completed / actions`.
    pub share: Option<f64>,
}

/// Cases open at any time in the period (as [`cases`]): the share of each stage's checklist of
/// practice actions completed, over every case that reached the stage.
pub fn framework_use(q: &Query, p: Presentation, facts: &[Fact]) -> ApiResult<Vec<FrameworkUse>> {
    let mut g: Groups<'_, '_, BTreeMap<Stage, [i64; 4]>> = Groups::new(q);
    for f in selected(q, facts) {
        let open = q.open_in_period(f);
        if !open {
            continue;
        }
        let acc = g.map.entry(q.key(f, f.opened_on)).or_default();
        for ChecklistFact(stage, done, total, evidenced) in &f.checklist {
            let n = acc.entry(*stage).or_default();
            n[0] += 1;
            n[1] += *total;
            n[2] += *done;
            n[3] += *evidenced;
        }
    }
    Ok(g.finish(|key, acc| {
        acc.into_iter()
            .map(
                |(stage, [cases, actions, completed, evidenced])| FrameworkUse {
                    key: key.clone(),
                    stage,
                    cases: p.count(cases),
                    actions: p.count_of(actions, cases),
                    completed: p.count_of(completed, cases),
                    evidenced: p.count_of(evidenced, cases),
                    self_reported: p.count_of(completed - evidenced, cases),
                    share: p.rate_of(completed, actions, cases),
                },
            )
            .collect()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How a data analyst sees the figures (without rounding).
    const ANALYST: Presentation = Presentation {
        suppress: true,
        round_to_10: false,
    };
    type Row = Fact;

    fn read(rows: Vec<Row>) -> Vec<Fact> {
        rows
    }

    fn list<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Vec<T> {
        serde_json::from_value(v).unwrap()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// A case of child `child` in IDENTIFICATION, team North, opened 1 May 2024.
    fn fact(case_id: i64, child_id: i64) -> Row {
        Row {
            case_id,
            child_id,
            team: Some("North".into()),
            worker_id: Some(7),
            attempt_number: 1,
            stage: crate::domain::Stage::Identification,
            status: crate::domain::CaseStatus::Active,
            opened_on: d(2024, 5, 1),
            closed_on: None,
            care_started_on: d(2024, 4, 1),
            legal_status: "C2".into(),
            age_at_open: 8,
            risk_level: None,
            return_type: None,
            return_on: None,
            exit_reason: None,
            reentered_on: None,
            closure_reason: None,
            stages: Vec::new(),
            decisions: Vec::new(),
            classifications: Vec::new(),
            goals: Vec::new(),
            services: Vec::new(),
            checklist: Vec::new(),
        }
    }

    fn went_home(mut f: Row, on: NaiveDate, exit: Option<&str>, back: Option<NaiveDate>) -> Row {
        f.stage = crate::domain::Stage::ReturnAndSupport;
        f.return_on = Some(on);
        f.return_type = Some(if exit == Some("E4B") {
            crate::domain::ReturnType::Unplanned
        } else {
            crate::domain::ReturnType::Planned
        });
        f.exit_reason = exit.map(str::to_owned);
        f.reentered_on = back;
        f
    }

    const EXACT: Presentation = Presentation {
        suppress: false,
        round_to_10: false,
    };

    fn fy(start: i32) -> Query {
        Query {
            from: Some(d(start, 4, 1)),
            to: Some(d(start + 1, 3, 31)),
            as_of: d(2026, 6, 30),
            ..Query::default()
        }
    }

    fn shown(c: Count) -> i64 {
        c.value.unwrap()
    }

    /// Child 1 goes home twice in 2024-25 (E4A, back in care within 3 months, then E4B); child 2
    /// goes home in March 2025 and re-enters in June 2025 (next year, within 12 but not 3
    /// months); child 3 is placed with parents (not a return home); child 4 goes home and is back
    /// within three weeks.
    fn returns_fixture() -> Vec<Row> {
        let mut second = went_home(fact(2, 1), d(2025, 1, 10), Some("E4B"), None);
        second.attempt_number = 2;
        vec![
            went_home(fact(1, 1), d(2024, 6, 1), Some("E4A"), Some(d(2024, 8, 1))),
            second,
            went_home(fact(3, 2), d(2025, 3, 1), Some("E4A"), Some(d(2025, 6, 15))),
            went_home(fact(4, 3), d(2024, 10, 1), None, None),
            went_home(fact(5, 4), d(2025, 2, 1), Some("E4A"), Some(d(2025, 2, 20))),
        ]
    }

    fn windows(rows: &[FollowUp]) -> Vec<(i32, i64, i64)> {
        rows.iter()
            .map(|r| (r.months, shown(r.children), shown(r.count)))
            .collect()
    }

    #[test]
    fn returns_count_each_child_once_by_its_last_return() {
        let facts = read(returns_fixture());
        let r = returns(&fy(2024), EXACT, &facts);
        assert_eq!(r.len(), 1);
        assert_eq!(
            (
                shown(r[0].planned),
                shown(r[0].unplanned),
                shown(r[0].children)
            ),
            (2, 1, 3),
            "child 1 counts once, as its last (unplanned) return; the P1 placement not at all"
        );
        // Child 5 leaves care to an aunt without parental responsibility (E13): counted apart,
        // not as a return home.
        let mut with_aunt = returns_fixture();
        with_aunt.push(went_home(fact(6, 5), d(2024, 9, 1), Some("E13"), None));
        let r = returns(&fy(2024), EXACT, &read(with_aunt));
        assert_eq!(
            (shown(r[0].children), shown(r[0].to_relatives_or_friends)),
            (3, 1)
        );
        // The re-entry of child 2 in 2025-26 is not a return in 2025-26.
        assert!(returns(&fy(2025), EXACT, &facts).is_empty());
        // Over all time child 1 still counts once.
        let all = Query {
            as_of: d(2026, 6, 30),
            group_by: vec![Dimension::Year, Dimension::ReturnType],
            ..Query::default()
        };
        let r = returns(&all, EXACT, &facts);
        let keys: Vec<(String, String, i64)> = r
            .iter()
            .map(|g| {
                (
                    g.key[0].value.clone(),
                    g.key[1].value.clone(),
                    shown(g.children),
                )
            })
            .collect();
        assert_eq!(
            keys,
            [
                ("2024-25".into(), "PLANNED".into(), 2),
                ("2024-25".into(), "UNPLANNED".into(), 1)
            ]
        );
    }

    #[test]
    fn reentry_counts_in_the_year_of_the_return() {
        let facts = read(returns_fixture());
        // 3 months: children 1 (last return 10 Jan 2025), 2 and 4; only child 4 back within 3
        // months (child 2's 15 June is past 1 June). 12 months: children 2 and 4.
        assert_eq!(
            windows(&reentries(&fy(2024), EXACT, &facts)),
            [(3, 3, 1), (12, 3, 2)]
        );
        assert_eq!(
            windows(&still_home(&fy(2024), EXACT, &facts)),
            [(3, 3, 2), (6, 3, 1), (12, 3, 1)]
        );
        // On 10 June 2025 child 2's re-entry had not happened, and only child 4's 12-month
        // outcome is known (it re-entered); every 3-month window has ended.
        let mut early = fy(2024);
        early.as_of = d(2025, 6, 10);
        assert_eq!(
            windows(&reentries(&early, EXACT, &facts)),
            [(3, 3, 1), (12, 1, 1)]
        );
        assert_eq!(windows(&still_home(&early, EXACT, &facts)), [(3, 3, 2)]);
        assert!(reentries(&fy(2025), EXACT, &facts).is_empty());
    }

    #[test]
    fn small_counts_are_withheld_from_analysts_and_rounded_on_request() {
        // Six children home in team North, two in team South.
        let mut rows: Vec<Row> = (1..=8)
            .map(|i| went_home(fact(i, i), d(2024, 7, 1), Some("E4A"), None))
            .collect();
        for f in &mut rows[6..] {
            f.team = Some("South".into());
        }
        let facts = read(rows);
        let mut q = fy(2024);
        q.group_by = vec![Dimension::Team];
        let analyst = ANALYST;
        let r = returns(&q, analyst, &facts);
        assert_eq!(r[0].key[0].value, "North");
        assert_eq!(r[0].children.value, Some(6));
        assert_eq!(
            r[0].unplanned,
            Count {
                value: None,
                suppressed: true
            },
            "0 is below 5 too"
        );
        assert_eq!(r[1].key[0].value, "South");
        assert_eq!(
            r[1].children,
            Count {
                value: None,
                suppressed: true
            }
        );
        let home = still_home(&q, analyst, &facts);
        assert_eq!(home[0].rate, Some(1.0));
        assert_eq!(home[3].children.value, None, "South's windows are withheld");
        assert_eq!(home[3].rate, None);
        let rounded = returns(
            &q,
            Presentation {
                suppress: false,
                round_to_10: true,
            },
            &facts,
        );
        assert_eq!(rounded[0].children.value, Some(10));
        assert_eq!(rounded[1].children.value, Some(0));
        // Filters narrow before grouping.
        q.only = vec![(Dimension::Team, vec!["South".into()])];
        assert_eq!(returns(&q, EXACT, &facts).len(), 1);
    }

    #[test]
    fn times_in_stage_and_to_decisions() {
        let facts: Vec<Row> = [10, 20, 30, 40, 100]
            .iter()
            .enumerate()
            .map(|(i, days)| {
                let mut f = fact(i as i64 + 1, i as i64 + 1);
                let entered = d(2024, 5, 1);
                let done = entered + chrono::Duration::days(*days);
                f.stages = list(serde_json::json!([
                    ["IDENTIFICATION", "2024-05-01", "2024-05-01"],
                    ["ASSESSMENT", entered, done],
                    ["GOALS_AND_SERVICES", done, null]
                ]));
                // A deferred D1 then D1 = yes: the first counts; D2 when assessment ended.
                f.decisions = list(serde_json::json!([
                    ["D1", "DEFERRED", "2024-04-11", "NOT_REQUIRED"],
                    ["D1", "YES", "2024-05-01", "NOT_REQUIRED"],
                    ["D2", "YES", done, "NOT_REQUIRED"]
                ]));
                f
            })
            .collect();
        let facts = read(facts);
        let q = fy(2024);
        let t = stage_times(&q, EXACT, &facts).unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].stage, Stage::Identification);
        assert_eq!(t[0].days.median, Some(0.0));
        assert_eq!(t[1].stage, Stage::Assessment);
        assert_eq!(
            (t[1].days.p25, t[1].days.median, t[1].days.p75),
            (Some(20.0), Some(30.0), Some(40.0))
        );
        let dt = decision_times(&q, EXACT, &facts).unwrap();
        assert_eq!(dt[0].kind, DecisionKind::D1);
        assert_eq!(
            dt[0].days_from_care.median,
            Some(10.0),
            "1 April to 11 April"
        );
        assert_eq!(dt[1].kind, DecisionKind::D2);
        assert_eq!(
            dt[1].days_from_care.median,
            Some(60.0),
            "30 days to May + 30"
        );
        let dc = decisions(&q, EXACT, &facts).unwrap();
        let counts: Vec<(DecisionKind, DecisionOutcome, i64)> = dc
            .iter()
            .map(|c| (c.kind, c.outcome, shown(c.decisions)))
            .collect();
        assert_eq!(
            counts,
            [
                (DecisionKind::D1, DecisionOutcome::Yes, 5),
                (DecisionKind::D1, DecisionOutcome::Deferred, 5),
                (DecisionKind::D2, DecisionOutcome::Yes, 5)
            ]
        );
        // Four durations are too few for an analyst: the spread is withheld.
        let analyst = ANALYST;
        let t = stage_times(&q, analyst, &facts[..4]).unwrap();
        assert_eq!(t[1].days.median, None);
        assert!(t[1].days.count.suppressed);
    }

    #[test]
    fn risk_goals_services_support_and_checklists() {
        let mut a = went_home(fact(1, 1), d(2024, 6, 1), Some("E4A"), None);
        a.classifications = list(serde_json::json!([
            ["RC1", 3, "2024-05-10"],
            ["RC2", 2, "2024-05-20"],
            ["RC3", 2, "2024-12-01"]
        ]));
        // Goals: met on time; met late (green after the original target, though extended);
        // not met; withdrawn; not yet due on the as-of date.
        a.goals = list(serde_json::json!([
            ["2024-07-01", "2024-07-01", "MET", "2024-06-20"],
            ["2024-07-01", "2024-09-01", "MET", "2024-08-15"],
            ["2024-08-01", "2024-08-01", "NOT_MET", null],
            ["2024-08-01", "2024-08-01", "WITHDRAWN", null],
            ["2026-12-01", "2026-12-01", "ACTIVE", null]
        ]));
        // Support from before the return to 2 months short of 12 months after it.
        a.services = list(serde_json::json!([
            [
                "PARENTING_SUPPORT",
                "HIGH",
                "2024-05-01",
                "2025-04-01",
                "ENDED"
            ],
            [
                "CHILD_MENTAL_HEALTH",
                "LOW",
                "2024-06-01",
                "2024-07-01",
                "ENDED"
            ],
            ["RESPITE", "LOW", "2024-06-01", null, "DECLINED"]
        ]));
        a.checklist = list(serde_json::json!([
            ["IDENTIFICATION", 2, 2],
            ["ASSESSMENT", 3, 5]
        ]));
        let mut b = went_home(fact(2, 2), d(2024, 7, 1), Some("E4A"), None);
        b.classifications = list(serde_json::json!([
            ["RC1", 1, "2024-05-10"],
            ["RC2", 3, "2024-06-01"]
        ]));
        b.services = list(serde_json::json!([[
            "PARENTING_SUPPORT",
            "HIGH",
            "2024-07-01",
            null,
            "ACTIVE"
        ]]));
        b.checklist = list(serde_json::json!([["IDENTIFICATION", 1, 2]]));
        let facts = read(vec![a, b]);
        let q = fy(2024);

        let levels: Vec<(ClassificationKind, i32, i64)> = risk_levels(&q, EXACT, &facts)
            .unwrap()
            .iter()
            .map(|r| (r.kind, r.level, shown(r.cases)))
            .collect();
        use ClassificationKind::{Rc1, Rc2, Rc3};
        assert_eq!(
            levels,
            [
                (Rc1, 1, 1),
                (Rc1, 3, 1),
                (Rc2, 2, 1),
                (Rc2, 3, 1),
                (Rc3, 2, 1)
            ]
        );
        let moved: Vec<(ClassificationKind, [i64; 3])> = risk_movement(&q, EXACT, &facts)
            .unwrap()
            .iter()
            .map(|m| (m.from, [shown(m.up), shown(m.same), shown(m.down)]))
            .collect();
        assert_eq!(moved, [(Rc1, [1, 0, 1]), (Rc2, [0, 1, 0])]);

        let g = goals(&q, EXACT, &facts).unwrap();
        assert_eq!(
            (shown(g[0].due), shown(g[0].met), shown(g[0].met_on_time)),
            (3, 2, 1)
        );
        assert_eq!(g[0].met_on_time_rate, Some(1.0 / 3.0));

        let s: Vec<(ServiceType, NeedLevel, i64, i64)> = services(&q, EXACT, &facts)
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r.service_type,
                    r.need_level,
                    shown(r.services),
                    shown(r.families),
                )
            })
            .collect();
        assert_eq!(
            s,
            [
                (ServiceType::ParentingSupport, NeedLevel::High, 2, 2),
                (ServiceType::ChildMentalHealth, NeedLevel::Low, 1, 1)
            ]
        );
        // 6 months: both; 12 months: only the family whose service is still running.
        assert_eq!(
            windows(&support_duration(&q, EXACT, &facts).unwrap()),
            [(6, 2, 2), (12, 2, 1)]
        );

        let used: Vec<(Stage, i64, i64, i64)> = framework_use(&q, EXACT, &facts)
            .unwrap()
            .iter()
            .map(|u| {
                (
                    u.stage,
                    shown(u.cases),
                    shown(u.actions),
                    shown(u.completed),
                )
            })
            .collect();
        assert_eq!(
            used,
            [
                (Stage::Identification, 2, 4, 3),
                (Stage::Assessment, 1, 5, 3)
            ]
        );
    }

    #[test]
    fn the_las_own_figures_for_the_calculator() {
        let mut facts = returns_fixture();
        facts[1].services = list(serde_json::json!([
            ["RESPITE", "HIGH", "2025-01-01", null, "DECLINED"],
            ["OTHER", "MEDIUM", "2025-01-01", null, "ACTIVE"]
        ]));
        // As of 1 March 2025: the year from 2 March 2024 holds children 1 (last return
        // unplanned in January, medium need) and 4 (February, no services: low); child 2 went
        // home on 1 March. Only child 4's 12-month outcome is known (it re-entered).
        let facts = read(facts);
        let m = measured(&facts, d(2025, 3, 1)).unwrap();
        assert_eq!(m.returns, [0, 1, 2]);
        assert_eq!(m.breakdown_rate, Some(1.0));
        // A year later every child's outcome is known: children 2 and 4 of 3 re-entered.
        let m = measured(&facts, d(2026, 3, 1)).unwrap();
        assert_eq!(m.returns, [0, 0, 0]);
        assert_eq!(m.breakdown_rate, Some(2.0 / 3.0));
        assert_eq!(measured(&[], d(2026, 3, 1)).unwrap().breakdown_rate, None);
    }

    #[test]
    fn cases_open_in_the_period_by_stage_and_status() {
        let mut closed_early = fact(1, 1);
        closed_early.status = crate::domain::CaseStatus::Closed;
        closed_early.closed_on = Some(d(2024, 3, 1));
        closed_early.opened_on = d(2023, 5, 1);
        let mut closed_in = fact(2, 2);
        closed_in.status = crate::domain::CaseStatus::Closed;
        closed_in.closed_on = Some(d(2024, 6, 1));
        let mut later = fact(3, 3);
        later.opened_on = d(2025, 5, 1);
        let facts = read(vec![closed_early, closed_in, later, fact(4, 4)]);
        let mut q = fy(2024);
        q.group_by = vec![Dimension::Stage, Dimension::Status];
        let c: Vec<(String, String, i64)> = cases(&q, EXACT, &facts)
            .iter()
            .map(|c| {
                (
                    c.key[0].value.clone(),
                    c.key[1].value.clone(),
                    shown(c.cases),
                )
            })
            .collect();
        assert_eq!(
            c,
            [
                ("IDENTIFICATION".into(), "ACTIVE".into(), 1),
                ("IDENTIFICATION".into(), "CLOSED".into(), 1)
            ]
        );
    }

    #[test]
    fn percentiles_interpolate() {
        let v = [1, 2, 3, 4];
        assert_eq!(percentile(&v, 0.5), 2.5);
        assert_eq!(percentile(&v, 0.25), 1.75);
        assert_eq!(percentile(&v, 0.75), 3.25);
        assert_eq!(percentile(&[7], 0.5), 7.0);
    }

    #[test]
    fn suppression_and_rounding() {
        let p = Presentation {
            suppress: true,
            round_to_10: true,
        };
        assert_eq!(p.count(4).value, None);
        assert!(p.count(0).suppressed);
        assert_eq!(p.count(5).value, Some(10));
        assert_eq!(p.count(14).value, Some(10));
        assert_eq!(p.count(15).value, Some(20));
        assert_eq!(p.rate(4, 10), None);
        assert_eq!(p.rate(5, 10), Some(0.5));
        // Records about fewer than 5 cases are withheld however many they are.
        assert!(p.count_of(35, 4).suppressed);
        assert_eq!(p.count_of(35, 5).value, Some(40));
        assert_eq!(p.rate_of(30, 35, 4), None);
        assert!(p.rate_of(30, 35, 5).is_some());
    }

    #[test]
    fn figures_about_withheld_cases_are_withheld_with_them() {
        // One case in team South with 7 practice actions at IDENTIFICATION; five in North.
        let mut rows: Vec<Row> = (1..=6).map(|i| fact(i, i)).collect();
        for f in &mut rows {
            f.checklist = vec![ChecklistFact(Stage::Identification, 5, 7, 2)];
        }
        rows[5].team = Some("South".into());
        let facts = read(rows);
        let mut q = fy(2024);
        q.group_by = vec![Dimension::Team];
        let analyst = ANALYST;
        let used = framework_use(&q, analyst, &facts).unwrap();
        let north = &used[0];
        assert_eq!(north.cases.value, Some(5));
        assert_eq!(north.actions.value, Some(35));
        let south = &used[1];
        assert!(south.cases.suppressed);
        for count in [
            south.actions,
            south.completed,
            south.evidenced,
            south.self_reported,
        ] {
            assert!(count.suppressed, "{south:?}");
        }
        assert_eq!(south.share, None);
    }

    #[test]
    fn collection_years_start_in_april() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(collection_year(d(2025, 3, 31)), "2024-25");
        assert_eq!(collection_year(d(2025, 4, 1)), "2025-26");
        assert_eq!(collection_year(d(1999, 12, 1)), "1999-00");
    }
}
