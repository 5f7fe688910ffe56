//! Per-client rate limit: a points bucket per caller (LA and OAuth client, or token subject), each
//! operation costing one point, refilled at a steady rate. Every answer to an authenticated request
//! carries `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds until the
//! bucket is full again); an empty bucket gives HTTP 429 `RATE_LIMITED` with `Retry-After`.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderValue};
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};

type Limiter =
    RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

/// The rate limiter shared by every request.
#[derive(Clone)]
pub struct RateLimit {
    limiter: Arc<Limiter>,
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
    /// A bucket of `burst` points per caller, refilled at `per_minute` points a minute.
    pub fn new(per_minute: NonZeroU32, burst: NonZeroU32) -> Self {
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let limiter = Arc::new(RateLimiter::keyed(quota).with_middleware());
        // Forget callers whose buckets are full again, so the table does not grow without end.
        let sweeper = Arc::downgrade(&limiter);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                let Some(limiter) = sweeper.upgrade() else {
                    break;
                };
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        });
        Self { limiter }
    }

    /// Takes `points` from the caller's bucket.
    pub fn charge(&self, caller: &str, points: u32) -> Verdict {
        let points = NonZeroU32::new(points.max(1)).unwrap_or(NonZeroU32::MIN);
        let key = caller.to_owned();
        match self.limiter.check_key_n(&key, points) {
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
                retry_after: not_until
                    .wait_time_from(self.limiter.clock().now())
                    .as_secs_f64()
                    .ceil()
                    .max(1.0) as u64,
            },
            // More points than the bucket holds: never satisfiable.
            Err(insufficient) => Verdict::Limited {
                limit: insufficient.0,
                retry_after: 60,
            },
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
