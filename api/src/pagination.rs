//! Relay cursor connections: page-size bounds, opaque cursors, and in-memory pages of small lists.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::{OutputType, SimpleObject};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
};

use crate::error::{ApiError, ApiResult};

/// Largest page a client may ask for.
pub const MAX_PAGE: i32 = 100;
/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE: i32 = 20;

/// Extra fields on every connection.
#[derive(SimpleObject, Debug, Clone, Copy)]
pub struct ConnectionFields {
    /// How many items match, across all pages.
    pub total_count: i64,
}

/// A Relay connection with `totalCount`.
pub type Conn<T> = Connection<String, T, ConnectionFields, EmptyFields>;

/// The complexity of a connection field: its children counted once per item of the page asked
/// for (`first` or `last` at face value, else the default page), plus the field itself.
pub fn cost(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let size = first.or(last).unwrap_or(DEFAULT_PAGE).max(1) as usize;
    size.saturating_mul(child_complexity).saturating_add(1)
}

/// Validated paging arguments.
#[derive(Debug, Clone)]
pub struct Page {
    /// Items wanted.
    pub limit: u64,
    /// Paging backwards (`last`/`before`).
    pub backward: bool,
    /// Cursor to start after (forward) or end before (backward), decoded.
    pub cursor: Option<String>,
}

impl Page {
    /// Checks `first`/`after`/`last`/`before`.
    pub fn new(
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<Self> {
        let bad = |m: &str| Err(ApiError::BadInput(m.to_owned()));
        if first.is_some() && last.is_some() {
            return bad("pass `first` or `last`, not both");
        }
        if after.is_some() && before.is_some() {
            return bad("pass `after` or `before`, not both");
        }
        let backward = last.is_some() || before.is_some();
        let size = first.or(last).unwrap_or(DEFAULT_PAGE);
        if !(1..=MAX_PAGE).contains(&size) {
            return bad("`first` and `last` must be between 1 and 100");
        }
        let cursor = match after.or(before) {
            Some(c) => Some(
                decode_cursor(&c).ok_or_else(|| ApiError::BadInput("invalid cursor".to_owned()))?,
            ),
            None => None,
        };
        Ok(Self {
            limit: size as u64,
            backward,
            cursor,
        })
    }
}

/// A connection from one page of rows read with keyset paging (`more`: rows exist beyond the page
/// in the direction of reading).
pub fn connection<M, T: OutputType>(
    rows: Vec<M>,
    total: i64,
    more: bool,
    page: &Page,
    cursor: impl Fn(&M) -> String,
    wrap: impl Fn(M) -> T,
) -> Conn<T> {
    let (has_prev, has_next) = if page.backward {
        (more, page.cursor.is_some())
    } else {
        (page.cursor.is_some(), more)
    };
    let mut conn = Connection::with_additional_fields(
        has_prev,
        has_next,
        ConnectionFields { total_count: total },
    );
    conn.edges.extend(
        rows.into_iter()
            .map(|m| Edge::new(encode_cursor(&cursor(&m)), wrap(m))),
    );
    conn
}

/// One keyset page of `query` by its `id` column, oldest first or newest first; `(rows, more)`
/// where `more` says rows exist beyond the page in the direction of reading.
pub async fn page_by_id<E: EntityTrait>(
    db: &impl ConnectionTrait,
    query: Select<E>,
    id: E::Column,
    page: &Page,
    newest_first: bool,
) -> ApiResult<(Vec<E::Model>, bool)> {
    let cursor: Option<i64> = match &page.cursor {
        Some(c) => Some(
            c.parse()
                .map_err(|_| ApiError::BadInput("invalid cursor".to_owned()))?,
        ),
        None => None,
    };
    // Reading upwards: forward through an oldest-first list, or backward through a newest-first one.
    let ascending = page.backward == newest_first;
    let mut query = query;
    if let Some(c) = cursor {
        query = query.filter(if ascending { id.gt(c) } else { id.lt(c) });
    }
    query = if ascending {
        query.order_by_asc(id)
    } else {
        query.order_by_desc(id)
    };
    let mut rows = query.limit(page.limit + 1).all(db).await?;
    let more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    if page.backward {
        rows.reverse();
    }
    Ok((rows, more))
}

/// Whether the connection being resolved returns its nodes (`nodes` or `edges { node }`), as
/// opposed to only counting or paging; reads are audited only for records actually returned.
pub fn returns_nodes(ctx: &async_graphql::Context<'_>) -> bool {
    let look = ctx.look_ahead();
    look.field("nodes").exists() || look.field("edges").field("node").exists()
}

/// Encodes an opaque cursor.
pub fn encode_cursor(raw: &str) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

fn decode_cursor(c: &str) -> Option<String> {
    String::from_utf8(URL_SAFE_NO_PAD.decode(c).ok()?).ok()
}

/// A page of an already-loaded list ordered by ascending `key` (a row id, or any key whose text
/// form reads back), so cursors stay valid when rows are added.
pub fn page_of<T: OutputType, K: Ord + ToString + std::str::FromStr>(
    items: Vec<T>,
    key: impl Fn(&T) -> K,
    page: &Page,
) -> ApiResult<Conn<T>> {
    let total = items.len() as i64;
    let at: Option<K> = match &page.cursor {
        Some(c) => Some(
            c.parse()
                .map_err(|_| ApiError::BadInput("invalid cursor".to_owned()))?,
        ),
        None => None,
    };
    let limit = page.limit as usize;
    let (selected, has_prev, has_next): (Vec<T>, bool, bool) = if page.backward {
        let mut before: Vec<T> = items
            .into_iter()
            .filter(|i| at.as_ref().is_none_or(|c| key(i) < *c))
            .collect();
        let has_prev = before.len() > limit;
        let selected = before.split_off(before.len().saturating_sub(limit));
        (selected, has_prev, at.is_some())
    } else {
        let mut after: Vec<T> = items
            .into_iter()
            .filter(|i| at.as_ref().is_none_or(|c| key(i) > *c))
            .collect();
        let has_next = after.len() > limit;
        after.truncate(limit);
        (after, at.is_some(), has_next)
    };
    let mut conn = Connection::with_additional_fields(
        has_prev,
        has_next,
        ConnectionFields { total_count: total },
    );
    conn.edges.extend(
        selected
            .into_iter()
            .map(|item| Edge::new(encode_cursor(&key(&item).to_string()), item)),
    );
    Ok(conn)
}
