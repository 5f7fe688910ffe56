//! Wakes subscriptions when events commit. The event table is the truth; a notice only says
//! "LA n has events up to position p", so a lost or late notice delays delivery and never loses
//! an event. In one process the request that commits publishes; with PostgreSQL each instance also
//! keeps one `LISTEN` connection and republishes what every instance commits.

use std::time::Duration;

use tokio::sync::{broadcast, watch};

use crate::events::service::CHANNEL;

/// Events of `la_id` are committed up to `position`; `la_id` 0 means "every LA, look again".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Notice {
    /// The LA, or 0 for all.
    pub la_id: i64,
    /// The highest committed position.
    pub position: i64,
}

impl Notice {
    /// A notice that wakes every subscription (after notices may have been missed).
    pub const EVERYONE: Notice = Notice {
        la_id: 0,
        position: i64::MAX,
    };

    /// Whether a subscriber of `la_id` that has seen up to `after` should look again.
    pub fn concerns(&self, la_id: i64, after: i64) -> bool {
        (self.la_id == 0 || self.la_id == la_id) && self.position > after
    }
}

/// The in-process fan-out of notices.
#[derive(Clone)]
pub struct Bus {
    tx: broadcast::Sender<Notice>,
}

impl Default for Bus {
    fn default() -> Self {
        Self {
            tx: broadcast::channel(4096).0,
        }
    }
}

impl Bus {
    /// Tells every subscriber.
    pub fn publish(&self, notice: Notice) {
        let _ = self.tx.send(notice);
    }

    /// A receiver of notices. One that falls behind gets `Lagged`, which a subscriber treats as
    /// [`Notice::EVERYONE`]: it reads the table again, so nothing is lost.
    pub fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.tx.subscribe()
    }

    /// With PostgreSQL: keeps a `LISTEN` connection open (reconnecting with back-off) and
    /// republishes every `NOTIFY`, so events committed by other instances reach this one's
    /// subscribers. After a reconnect it wakes everyone, as notices may have been missed.
    /// It uses a connection of its own, outside the service's pool.
    pub fn listen(&self, url: String, mut shutdown: watch::Receiver<bool>) {
        let bus = self.clone();
        tokio::spawn(async move {
            use sea_orm::sqlx::postgres::PgListener;
            let mut backoff = Duration::from_millis(200);
            loop {
                let listened = async {
                    let mut listener = PgListener::connect(&url).await?;
                    listener.listen(CHANNEL).await?;
                    Ok::<_, sea_orm::sqlx::Error>(listener)
                };
                let mut listener = tokio::select! {
                    l = listened => l,
                    _ = shutdown.changed() => return,
                };
                match listener.as_mut() {
                    Ok(listener) => {
                        backoff = Duration::from_millis(200);
                        bus.publish(Notice::EVERYONE);
                        loop {
                            let next = tokio::select! {
                                n = listener.try_recv() => n,
                                _ = shutdown.changed() => return,
                            };
                            match next {
                                Ok(Some(n)) => {
                                    if let Some(notice) = parse(n.payload()) {
                                        bus.publish(notice);
                                    }
                                }
                                // The connection dropped; the next call reconnects.
                                Ok(None) => bus.publish(Notice::EVERYONE),
                                Err(error) => {
                                    tracing::warn!(%error, "event listener lost its connection");
                                    break;
                                }
                            }
                        }
                    }
                    Err(error) => {
                        tracing::warn!(%error, "event listener cannot connect");
                    }
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(5));
            }
        });
    }
}

fn parse(payload: &str) -> Option<Notice> {
    let (la, position) = payload.split_once(':')?;
    Some(Notice {
        la_id: la.parse().ok()?,
        position: position.parse().ok()?,
    })
}
