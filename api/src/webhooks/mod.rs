//! Webhooks for vendor systems that cannot hold a WebSocket: an LA administrator registers an
//! endpoint, a secret and the event types wanted; each matching event becomes a delivery row in
//! the event's own transaction (so none is lost across a restart); a dispatcher in every instance
//! POSTs it, signed, in order per case, retrying with exponential back-off and jitter for 24 hours.
//!
//! Signature: header `Reunify-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` with
//! `Reunify-Timestamp: <unix seconds>`; `Reunify-Event-Id` (the event's position) de-duplicates.

pub mod dispatcher;
pub mod resolvers;
pub mod service;
pub mod types;

use std::net::IpAddr;
use std::time::Duration;

use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Deliveries are retried until this long after the event.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest wait between two attempts.
const MAX_DELAY: Duration = Duration::from_secs(60 * 60);

/// The signature header value for a body sent at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this cannot happen.
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("v1={hex}")
}

/// The wait before attempt `attempts + 1`: `base × 2^(attempts − 1)`, at most an hour, times a
/// random factor between ½ and 1 (so a failing endpoint's retries spread out).
pub fn backoff(base: Duration, attempts: i32) -> Duration {
    let exp = attempts.clamp(1, 20) as u32 - 1;
    let full = base.saturating_mul(2u32.saturating_pow(exp)).min(MAX_DELAY);
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    full.mul_f64(0.5 + f64::from(byte[0]) / 510.0)
}

/// Why a webhook's destination cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unreachable {
    /// The URL has no host.
    NoHost,
    /// The host name does not resolve (within 5 s).
    DoesNotResolve,
    /// An address it resolves to is [`forbidden`] and private addresses are not allowed.
    Forbidden,
}

/// Resolves a webhook URL's host (a literal address resolves to itself) and checks every address
/// against the policy: the host and the addresses to connect to. Registration and every delivery
/// ask the same.
pub async fn resolve(
    url: &reqwest::Url,
    allow_private: bool,
) -> Result<(String, Vec<std::net::SocketAddr>), Unreachable> {
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return Err(Unreachable::NoHost);
    };
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let lookup = tokio::net::lookup_host((host.as_str(), port));
    let addrs: Vec<std::net::SocketAddr> =
        match tokio::time::timeout(Duration::from_secs(5), lookup).await {
            Ok(Ok(addrs)) => addrs.collect(),
            _ => Vec::new(),
        };
    if addrs.is_empty() {
        return Err(Unreachable::DoesNotResolve);
    }
    if !allow_private && addrs.iter().any(|a| forbidden(a.ip())) {
        return Err(Unreachable::Forbidden);
    }
    Ok((host, addrs))
}

/// Addresses a webhook may not reach unless private addresses are allowed: loopback, private,
/// link-local, unique-local, carrier-grade NAT, unspecified and multicast.
pub fn forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || (a == 100 && (64..128).contains(&b))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_over_timestamp_and_body() {
        // The worked example of the README.
        let body = br#"{"id":"42","type":"DECISION_RECORDED"}"#;
        assert_eq!(
            signature("whsec_synthetic_example", 1_764_000_000, body),
            "v1=7499729e1f6e764bee2ef901dad9579b8dc9b231e6328f88b41c47550a9612a0"
        );
        assert_ne!(
            signature("whsec_synthetic_example", 1_764_000_001, body),
            signature("whsec_synthetic_example", 1_764_000_000, body)
        );
    }

    #[test]
    fn backoff_doubles_with_jitter_and_caps_at_an_hour() {
        let base = Duration::from_secs(10);
        for attempts in 1..30 {
            let d = backoff(base, attempts);
            let full = (base * 2u32.pow((attempts.min(20) - 1) as u32)).min(MAX_DELAY);
            assert!(d >= full / 2 && d <= full, "{attempts}: {d:?}");
        }
    }

    #[test]
    fn private_and_loopback_addresses_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(!forbidden(ip.parse().unwrap()), "{ip}");
        }
    }
}
