//! The SSDA903 return in its own shape: the Header and Episodes tables of one collection year
//! (1 April to 31 March), with exactly the DfE's columns and codes and dates as DD/MM/YYYY, for
//! every child looked after at some time in the year. What the return's guidance makes follow
//! from Reunify's records is filled in (the UPN-unknown code in `UPN`, `PR0` for placed with
//! parents, `S` for an episode that starts a period of care); the rest is as the
//! case-management system sent it.

use std::collections::BTreeMap;

use axum::body::Bytes;
use chrono::NaiveDate;
use entities::{care_episode, child};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt as _};
use sea_orm::{
    ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

use super::export::{csv_line, io, ssda_date};
use crate::children::ssda903::EpisodeDetails;
use crate::error::{ApiError, ApiResult};

/// The Header table's columns.
pub const HEADER: [&str; 7] = ["CHILD", "SEX", "DOB", "ETHNIC", "UPN", "MOTHER", "MC_DOB"];

/// The Episodes table's columns.
pub const EPISODES: [&str; 13] = [
    "CHILD",
    "DECOM",
    "RNE",
    "LS",
    "CIN",
    "PLACE",
    "PLACE_PROVIDER",
    "DEC",
    "REC",
    "REASON_PLACE_CHANGE",
    "HOME_POST",
    "PL_POST",
    "URN",
];

/// Which table of the return.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    /// One row per child.
    Header,
    /// One row per episode in the year.
    Episodes,
}

/// A collection year: 1 April of `start` to 31 March of the next year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Year {
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
}

impl Year {
    /// The collection year holding `day`.
    pub fn holding(day: NaiveDate) -> Self {
        Self::ending(crate::domain::reference::collection_year_start(day) + 1)
    }

    /// The collection year that ends on 31 March of `end` (`2027` is 2026-27).
    pub fn ending(end: i32) -> Self {
        Self {
            from: NaiveDate::from_ymd_opt(end - 1, 4, 1).unwrap_or_default(),
            to: NaiveDate::from_ymd_opt(end, 3, 31).unwrap_or_default(),
        }
    }

    /// Parses `YYYY-YY` (`2026-27`) or `YYYY/YY`; the message says what is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("`{text}` is not a collection year such as 2026-27");
        let (start, end) = text.split_once(['-', '/']).ok_or_else(bad)?;
        let start: i32 = start.parse().map_err(|_| bad())?;
        let end: i32 = end.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&start) || end != (start + 1) % 100 {
            return Err(bad());
        }
        Ok(Self::ending(start + 1))
    }

    fn holds(&self, e: &care_episode::Model) -> bool {
        e.started_on <= self.to && e.ended_on.is_none_or(|d| d >= self.from)
    }
}

/// A child's Header row.
pub fn header_row(c: &child::Model) -> [String; 7] {
    [
        c.la_child_id.clone(),
        c.sex.clone(),
        ssda_date(c.date_of_birth),
        c.ethnicity.clone(),
        c.upn
            .clone()
            .or_else(|| c.upn_unknown_reason.clone())
            .unwrap_or_default(),
        c.is_mother
            .map(|m| if m { "1" } else { "0" }.to_owned())
            .unwrap_or_default(),
        c.mother_child_dob.map(ssda_date).unwrap_or_default(),
    ]
}

/// An episode's row.
pub fn episode_row(c: &child::Model, e: &care_episode::Model) -> [String; 13] {
    let details = EpisodeDetails::of(e);
    [
        c.la_child_id.clone(),
        ssda_date(e.started_on),
        details
            .reason_new_episode
            .clone()
            .unwrap_or_else(|| "S".to_owned()),
        e.legal_status.clone(),
        e.category_of_need.clone(),
        e.placement_type.clone(),
        details.provider_for(&e.placement_type).unwrap_or_default(),
        e.ended_on.map(ssda_date).unwrap_or_default(),
        e.reason_ceased.clone().unwrap_or_default(),
        details.reason_place_change.clone().unwrap_or_default(),
        details.home_postcode.clone().unwrap_or_default(),
        details.placement_postcode.clone().unwrap_or_default(),
        details.urn.clone().unwrap_or_default(),
    ]
}

/// Children per page read and written.
const PAGE: u64 = 500;

/// One table of the LA's return for `year`, read a page of children at a time in the given
/// (tenant, read-only) transaction, which the stream owns and ends.
pub fn table_csv(
    txn: DatabaseTransaction,
    la: i64,
    year: Year,
    table: Table,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static {
    let columns: &'static [&'static str] = match table {
        Table::Header => &HEADER,
        Table::Episodes => &EPISODES,
    };
    let header = stream::once(async move { csv_line(columns.iter().copied()) });
    let pages = stream::try_unfold((Some(txn), 0_i64), move |(txn, after)| async move {
        let Some(txn) = txn else { return Ok(None) };
        let (bytes, last) = page(&txn, la, year, table, after).await.map_err(io)?;
        match last {
            Some(last) => Ok(Some((bytes, (Some(txn), last)))),
            None => {
                txn.commit().await.map_err(io)?;
                Ok(None)
            }
        }
    });
    header.chain(pages)
}

/// The rows of the next page of children after child `after`, and the last child's id (`None`
/// when there are no more).
async fn page(
    txn: &DatabaseTransaction,
    la: i64,
    year: Year,
    table: Table,
    after: i64,
) -> ApiResult<(Bytes, Option<i64>)> {
    let in_year = sea_orm::Condition::all()
        .add(care_episode::Column::StartedOn.lte(year.to))
        .add(
            sea_orm::Condition::any()
                .add(care_episode::Column::EndedOn.is_null())
                .add(care_episode::Column::EndedOn.gte(year.from)),
        );
    let ids: Vec<i64> = care_episode::Entity::find()
        .select_only()
        .column(care_episode::Column::ChildId)
        .distinct()
        .filter(care_episode::Column::LaId.eq(la))
        .filter(care_episode::Column::ChildId.gt(after))
        .filter(in_year)
        .order_by_asc(care_episode::Column::ChildId)
        .limit(PAGE)
        .into_tuple()
        .all(txn)
        .await?;
    let Some(last) = ids.last().copied() else {
        return Ok((Bytes::new(), None));
    };
    let children = child::Entity::find()
        .filter(child::Column::LaId.eq(la))
        .filter(child::Column::Id.is_in(ids.iter().copied()))
        .order_by_asc(child::Column::Id)
        .all(txn)
        .await?;
    let mut episodes: BTreeMap<i64, Vec<care_episode::Model>> = BTreeMap::new();
    if table == Table::Episodes {
        for e in care_episode::Entity::find()
            .filter(care_episode::Column::LaId.eq(la))
            .filter(care_episode::Column::ChildId.is_in(ids.iter().copied()))
            .order_by_asc(care_episode::Column::StartedOn)
            .order_by_asc(care_episode::Column::Id)
            .all(txn)
            .await?
            .into_iter()
            .filter(|e| year.holds(e))
        {
            episodes.entry(e.child_id).or_default().push(e);
        }
    }
    let mut w = csv::Writer::from_writer(Vec::with_capacity(children.len() * 100));
    let mut write = |row: &[String]| {
        w.write_record(row)
            .map_err(|e| ApiError::internal(format!("csv: {e}")))
    };
    for c in &children {
        match table {
            Table::Header => write(&header_row(c))?,
            Table::Episodes => {
                for e in episodes.get(&c.id).into_iter().flatten() {
                    write(&episode_row(c, e))?;
                }
            }
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::internal(format!("csv: {e}")))?;
    Ok((Bytes::from(bytes), Some(last)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collection_years() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap();
        assert_eq!(Year::holding(d(2026, 12, 4)), Year::ending(2027));
        assert_eq!(Year::holding(d(2026, 3, 31)), Year::ending(2026));
        assert_eq!(
            Year::parse("2026-27"),
            Ok(Year {
                from: d(2026, 4, 1),
                to: d(2027, 3, 31)
            })
        );
        assert_eq!(Year::parse("2099/00"), Ok(Year::ending(2100)));
        for bad in ["2026", "2026-28", "26-27", "x-y"] {
            assert!(Year::parse(bad).is_err(), "{bad}");
        }
    }
}
