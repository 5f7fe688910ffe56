//! Per-client rate limit: a points bucket per caller (LA and OAuth client, or token subject), each
//! operation costing one point, refilled at a steady rate. Every answer to an authenticated request
//! carries `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds until the
//! bucket is full again); an empty bucket gives HTTP 429 `RATE_LIMITED` with `Retry-After`.
//!
//! **One limit for the cluster.** On PostgreSQL the buckets are shared by every instance on the
//! database (table `rate_bucket`): an instance draws a share of a caller's bucket — a sixteenth of
//! it, or what the request needs if more — in one statement (`reunify_rate_take`), spends it in
//! memory, and tops it up in the background before it runs out, so a request waits on the
//! database only when its instance's share of that caller is spent. Nothing is granted twice: the
//! points every instance holds come out of the one bucket, so a caller gets the configured limit
//! whichever instances its requests reach. The price is the other way: points an instance holds
//! for a caller who has moved to another instance (at most a sixteenth of the bucket each) are
//! not spent elsewhere; they lapse after [`SHARE_LIFETIME`]. A caller refused once is refused in
//! memory until its bucket has refilled a point, so a flood over the limit costs no statements.
//! If the database cannot be reached, each instance falls back to its own bucket of the same size.
//! On SQLite (one instance) the bucket is in memory only.
//!
//! The anonymous limit (by network address, for answers 401) stays per instance by choice: sharing
//! it would make every unauthenticated request from a new address write to the database.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue};
use base64::Engine as _;
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use sea_orm::{ConnectionTrait as _, DatabaseConnection, DbBackend, Statement};
use sha2::Digest as _;

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// How long an instance keeps points it drew for a caller who sends it nothing more.
pub const SHARE_LIFETIME: Duration = Duration::from_secs(60);

/// Whole seconds to wait, rounded up, at least 1 (`Retry-After`).
fn seconds_to_wait(wait: Duration) -> u64 {
    wait.as_secs_f64().ceil().max(1.0) as u64
}

/// The rate limiter shared by every request.
#[derive(Clone)]
pub struct RateLimit {
    local: Arc<Limiter>,
    shared: Option<Arc<Shared>>,
}

/// The answer to a charge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Go ahead.
    Allowed {
        /// Bucket size.
        limit: u32,
        /// Points left.
        remaining: u32,
        /// Seconds until the bucket is full.
        reset: u64,
    },
    /// Wait.
    Limited {
        /// Bucket size.
        limit: u32,
        /// Seconds until the request would be allowed.
        retry_after: u64,
    },
}

impl RateLimit {
    /// A bucket of `burst` points per caller, refilled at `per_minute` points a minute, held by
    /// this instance alone.
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        Self::with(per_minute, burst, None)
    }

    /// The same bucket, shared by every instance on `db` when it is PostgreSQL (see the module's
    /// documentation); in memory on SQLite.
    pub fn shared(per_minute: NonZeroU32, burst: NonZeroU32, db: &DatabaseConnection) -> Self {
        let shared = (db.get_database_backend() == DbBackend::Postgres).then(|| {
            Arc::new(Shared {
                db: db.clone(),
                burst: burst.get(),
                per_second: f64::from(per_minute.get()) / 60.0,
                share: (burst.get() / 16).max(1),
                callers: Mutex::new(HashMap::new()),
            })
        });
        Self::with(per_minute, burst, shared)
    }

    fn with(per_minute: NonZeroU32, burst: NonZeroU32, shared: Option<Arc<Shared>>) -> Self {
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let limit = Self {
            local: Arc::new(RateLimiter::keyed(quota).with_middleware()),
            shared,
        };
        limit.sweep_every_minute();
        limit
    }

    /// Forgets callers whose buckets are full again (and lapsed shares), so the tables do not
    /// grow without end.
    fn sweep_every_minute(&self) {
        let local = Arc::downgrade(&self.local);
        let shared = self.shared.as_ref().map(Arc::downgrade);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(local) = local.upgrade() else {
                    break;
                };
                local.retain_recent();
                local.shrink_to_fit();
                if let Some(shared) = shared.as_ref().and_then(std::sync::Weak::upgrade) {
                    shared.sweep().await;
                }
            }
        });
    }

    /// Takes `points` from the caller's bucket.
    pub async fn charge(&self, caller: &str, points: u32) -> Verdict {
        let points = points.max(1);
        if let Some(shared) = &self.shared {
            match shared.charge(caller, points).await {
                Ok(verdict) => return verdict,
                Err(e) => {
                    tracing::warn!(error = %e, "the shared rate limit is unreachable; this instance's own bucket decides");
                }
            }
        }
        self.charge_here(caller, points)
    }

    /// Takes `points` from this instance's own bucket for the caller, whatever `shared` says
    /// (the anonymous limit; and the fallback when the shared buckets cannot be reached).
    pub fn charge_here(&self, caller: &str, points: u32) -> Verdict {
        let points = NonZeroU32::new(points).unwrap_or(NonZeroU32::MIN);
        let key = caller.to_owned();
        match self.local.check_key_n(&key, points) {
            Ok(Ok(snapshot)) => {
                let limit = snapshot.quota().burst_size().get();
                let remaining = snapshot.remaining_burst_capacity();
                let refill = snapshot.quota().replenish_interval();
                Verdict::Allowed {
                    limit,
                    remaining,
                    reset: refill
                        .saturating_mul(limit.saturating_sub(remaining))
                        .as_secs_f64()
                        .ceil() as u64,
                }
            }
            Ok(Err(not_until)) => Verdict::Limited {
                limit: not_until.quota().burst_size().get(),
                retry_after: seconds_to_wait(not_until.wait_time_from(self.local.clock().now())),
            },
            // More points than the bucket holds: never satisfiable.
            Err(insufficient) => Verdict::Limited {
                limit: insufficient.0,
                retry_after: 60,
            },
        }
    }
}

/// The buckets in PostgreSQL, and this instance's shares of them.
struct Shared {
    db: DatabaseConnection,
    burst: u32,
    per_second: f64,
    /// Points drawn at a time.
    share: u32,
    /// This instance's share of each caller's bucket (in memory, by the caller's key).
    callers: Mutex<HashMap<String, Share>>,
}

/// What this instance holds of one caller's bucket.
#[derive(Debug, Clone, Copy)]
struct Share {
    /// Points drawn and not yet spent.
    points: u32,
    /// What the bucket held after the last draw, and when.
    left: f64,
    drawn_at: Instant,
    /// When a request of the caller last reached this instance.
    used_at: Instant,
    /// Refused until then (the bucket was empty).
    empty_until: Option<Instant>,
    /// A top-up is being drawn in the background.
    topping_up: bool,
}

impl Share {
    /// Adds what a draw granted, and what the bucket held after it.
    fn credit(&mut self, (granted, left): (u32, f64), now: Instant) {
        self.points += granted;
        self.left = left;
        self.drawn_at = now;
    }

    fn new(now: Instant) -> Self {
        Self {
            points: 0,
            left: 0.0,
            drawn_at: now,
            used_at: now,
            empty_until: None,
            topping_up: false,
        }
    }
}

/// What a caller's next step is, decided under the lock and done outside it.
enum Step {
    Answer(Verdict, Option<u32>),
    Draw(u32),
}

impl Shared {
    /// The caller as `rate_bucket` knows it: a SHA-256, never the key itself.
    fn hashed(caller: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(caller))
    }

    fn callers(&self) -> std::sync::MutexGuard<'_, HashMap<String, Share>> {
        // A panic while holding the lock leaves only counters behind: keep using them.
        self.callers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What a caller's bucket holds, as this instance last saw it plus its own share.
    fn allowed(&self, share: &Share, now: Instant) -> Verdict {
        let refilled =
            share.left + now.duration_since(share.drawn_at).as_secs_f64() * self.per_second;
        let remaining =
            (refilled.floor() as u64 + u64::from(share.points)).min(u64::from(self.burst)) as u32;
        Verdict::Allowed {
            limit: self.burst,
            remaining,
            reset: (f64::from(self.burst - remaining) / self.per_second).ceil() as u64,
        }
    }

    /// Spends from the share if it holds enough; otherwise says what to draw.
    fn step(&self, caller: &str, points: u32, now: Instant) -> Step {
        let mut callers = self.callers();
        // Look up before inserting: a known caller costs no allocation.
        if !callers.contains_key(caller) {
            callers.insert(caller.to_owned(), Share::new(now));
        }
        let Some(share) = callers.get_mut(caller) else {
            return Step::Draw(points.max(self.share));
        };
        share.used_at = now;
        if share.points >= points {
            share.points -= points;
            let verdict = self.allowed(share, now);
            let top_up = (share.points < self.share.div_ceil(2)
                && !share.topping_up
                && share.empty_until.is_none_or(|t| t <= now))
            .then(|| {
                share.topping_up = true;
                self.share
            });
            return Step::Answer(verdict, top_up);
        }
        if let Some(until) = share.empty_until.filter(|t| *t > now) {
            return Step::Answer(
                Verdict::Limited {
                    limit: self.burst,
                    retry_after: seconds_to_wait(until.duration_since(now)),
                },
                None,
            );
        }
        Step::Draw((points - share.points).max(self.share))
    }

    async fn charge(
        self: &Arc<Self>,
        caller: &str,
        points: u32,
    ) -> Result<Verdict, sea_orm::DbErr> {
        if points > self.burst {
            // More points than the bucket holds: never satisfiable.
            return Ok(Verdict::Limited {
                limit: self.burst,
                retry_after: 60,
            });
        }
        let want = match self.step(caller, points, Instant::now()) {
            Step::Answer(verdict, top_up) => {
                if let Some(want) = top_up {
                    let (this, caller) = (self.clone(), caller.to_owned());
                    tokio::spawn(async move {
                        let drawn = this.draw(&caller, want).await;
                        let mut callers = this.callers();
                        if let Some(share) = callers.get_mut(&caller) {
                            share.topping_up = false;
                            if let Ok(drawn) = drawn {
                                share.credit(drawn, Instant::now());
                            }
                        }
                    });
                }
                return Ok(verdict);
            }
            Step::Draw(want) => want,
        };
        let drawn = self.draw(caller, want).await?;
        let left = drawn.1;
        let now = Instant::now();
        let mut callers = self.callers();
        let share = callers
            .entry(caller.to_owned())
            .or_insert_with(|| Share::new(now));
        share.credit(drawn, now);
        if share.points >= points {
            share.points -= points;
            share.empty_until = None;
            return Ok(self.allowed(share, now));
        }
        // Not enough in the bucket: refused (what was drawn stays in the share) until the bucket
        // has refilled what is missing.
        let missing = (f64::from(points - share.points) - left).max(1.0);
        let wait = Duration::from_secs_f64(missing / self.per_second);
        share.empty_until = Some(now + wait);
        Ok(Verdict::Limited {
            limit: self.burst,
            retry_after: seconds_to_wait(wait),
        })
    }

    /// Draws up to `want` points from the caller's bucket: (granted, what the bucket holds after).
    async fn draw(&self, caller: &str, want: u32) -> Result<(u32, f64), sea_orm::DbErr> {
        let row = self
            .db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT granted, left_over FROM reunify_rate_take($1, $2, $3, $4)",
                [
                    Self::hashed(caller).into(),
                    f64::from(self.burst).into(),
                    self.per_second.into(),
                    i32::try_from(want).unwrap_or(i32::MAX).into(),
                ],
            ))
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound("reunify_rate_take".into()))?;
        let granted: i32 = row.try_get_by_index(0)?;
        let left: f64 = row.try_get_by_index(1)?;
        Ok((u32::try_from(granted).unwrap_or(0), left))
    }

    /// Drops lapsed shares, and the rows of buckets that are full again (a missing row is a full
    /// bucket).
    async fn sweep(&self) {
        let now = Instant::now();
        self.callers()
            .retain(|_, share| now.duration_since(share.used_at) < SHARE_LIFETIME);
        let full_after = f64::from(self.burst) / self.per_second;
        let swept = self
            .db
            .execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM rate_bucket WHERE refreshed_at < clock_timestamp() - make_interval(secs => $1)",
                [full_after.into()],
            ))
            .await;
        if let Err(e) = swept {
            tracing::warn!(error = %e, "sweeping the shared rate limit's full buckets failed");
        }
    }
}

impl Verdict {
    /// Writes the `x-ratelimit-*` headers (and `Retry-After` when limited).
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let (limit, remaining, reset) = match *self {
            Verdict::Allowed {
                limit,
                remaining,
                reset,
            } => (limit, remaining, reset),
            Verdict::Limited { limit, retry_after } => {
                headers.insert("retry-after", HeaderValue::from(retry_after));
                (limit, 0, retry_after)
            }
        };
        headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
        headers.insert("x-ratelimit-remaining", HeaderValue::from(remaining));
        headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
    }
}
