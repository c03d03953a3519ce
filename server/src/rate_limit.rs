//! A per-client request limit (`--rate-limit`): each client address may make N requests a
//! second, in bursts of N; past that it gets `429 Too Many Requests` with `Retry-After`,
//! which the client honours. Off by default, so the demo page never meets it. Behind a load
//! balancer listed in `--trusted-proxy`, the client is the one it forwards for.

use std::net::IpAddr;
use std::num::NonZeroU32;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use video_translation_protocol::HEALTH_PATH;

use crate::client_address::TrustedProxies;
use crate::error::ApiError;

/// Past this many tracked addresses, the ones whose limit has fully recovered are forgotten,
/// so a flood from many addresses cannot grow the table without bound.
const TRACKED_ADDRESSES: usize = 10_000;

/// One limit per client address, on the clock `C`.
type Limiter<C> =
    RateLimiter<IpAddr, DefaultKeyedStateStore<IpAddr>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The limiter, shared by every worker; `None` inside when the limit is off. The clock is
/// the real one but in unit tests, which move a fake one by hand.
#[derive(Debug)]
pub struct RateLimit<C: Clock = DefaultClock> {
    limiter: Option<Limiter<C>>,
    per_second: u32,
    proxies: TrustedProxies,
}

impl RateLimit {
    /// `per_second` requests a second per client address; 0 turns the limit off. Requests
    /// from `proxies` count for the client they forward for.
    pub fn new(per_second: u32, proxies: TrustedProxies) -> Self {
        RateLimit::with_clock(per_second, proxies, DefaultClock::default())
    }
}

impl<C: Clock> RateLimit<C> {
    fn with_clock(per_second: u32, proxies: TrustedProxies, clock: C) -> Self {
        RateLimit {
            limiter: NonZeroU32::new(per_second).map(|rate| {
                RateLimiter::new(
                    Quota::per_second(rate),
                    DefaultKeyedStateStore::default(),
                    clock,
                )
            }),
            per_second,
            proxies,
        }
    }

    /// Whether a limit is set; without one the middleware is left out of the app.
    pub fn is_enabled(&self) -> bool {
        self.limiter.is_some()
    }

    /// `Err` with the wait until this address may ask again, when it is over the limit.
    fn check(&self, address: IpAddr) -> Result<(), ApiError> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() > TRACKED_ADDRESSES {
            limiter.retain_recent();
        }
        limiter
            .check_key(&client_of(address))
            .map_err(|not_until| ApiError::TooManyRequests {
                message: format!(
                    "more than {} requests a second from {address}; slow down",
                    self.per_second
                ),
                retry_after: not_until.wait_time_from(limiter.clock().now()),
            })
    }
}

/// Whose limit an address counts against: an IPv4 address its own, an IPv6 address its /64.
/// A host is given a whole /64 to pick addresses from, so a limit per IPv6 address would be
/// one per request for a client that rotates through them.
fn client_of(address: IpAddr) -> IpAddr {
    match address.to_canonical() {
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(network.into())
        }
        v4 => v4,
    }
}

/// Middleware (`actix_web::middleware::from_fn`): answers 429 to a client over the limit.
/// Health checks are exempt. Runs inside CORS, so a browser can read the 429.
pub async fn limit_requests<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let verdict = match (
        request.app_data::<web::Data<RateLimit>>(),
        request.peer_addr(),
    ) {
        (Some(limit), Some(peer)) if request.path() != HEALTH_PATH => {
            limit.check(limit.proxies.client(peer.ip(), request.headers()))
        }
        _ => Ok(()),
    };
    crate::error::pass_or_refuse(verdict, request, next).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use governor::clock::FakeRelativeClock;

    use super::*;

    const HERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    const THERE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2));

    #[test]
    fn off_by_default_lets_everything_through() {
        let limit = RateLimit::new(0, TrustedProxies::default());
        assert!((0..10_000).all(|_| limit.check(HERE).is_ok()));
    }

    /// A limit on a clock that stands still until the test moves it: however slowly the
    /// checks run, no time passes between them.
    fn limit_at_a_standstill(per_second: u32) -> (RateLimit<FakeRelativeClock>, FakeRelativeClock) {
        let clock = FakeRelativeClock::default();
        let limit = RateLimit::with_clock(per_second, TrustedProxies::default(), clock.clone());
        (limit, clock)
    }

    #[test]
    fn a_burst_of_the_rate_passes_and_the_next_request_waits() {
        let (limit, clock) = limit_at_a_standstill(5);
        assert!((0..5).all(|_| limit.check(HERE).is_ok()));
        match limit.check(HERE) {
            Err(ApiError::TooManyRequests {
                retry_after,
                message,
            }) => {
                assert_eq!(
                    retry_after,
                    Duration::from_millis(200),
                    "a fifth of a second"
                );
                assert!(
                    message.contains("more than 5 requests a second"),
                    "{message}"
                );
            }
            other => panic!("expected 429, got {other:?}"),
        }
        assert!(limit.check(THERE).is_ok(), "each address has its own limit");
        clock.advance(Duration::from_millis(200));
        assert!(limit.check(HERE).is_ok(), "one more once the wait is over");
        assert!(limit.check(HERE).is_err(), "and only one");
    }

    #[test]
    fn an_ipv6_client_has_one_limit_for_its_64_and_ipv4_ones_each_their_own() {
        let (limit, _clock) = limit_at_a_standstill(2);
        let v6 = |text: &str| text.parse::<IpAddr>().unwrap();
        assert!(limit.check(v6("2001:db8:1:2::1")).is_ok());
        assert!(limit.check(v6("2001:db8:1:2:ffff::9")).is_ok());
        assert!(
            limit.check(v6("2001:db8:1:2:dead:beef::1")).is_err(),
            "another address of the same /64 shares its limit"
        );
        assert!(
            limit.check(v6("2001:db8:1:3::1")).is_ok(),
            "the next /64 is another client"
        );
        assert!(limit.check(v6("10.0.0.7")).is_ok());
        assert!(limit.check(v6("10.0.0.7")).is_ok());
        assert!(
            limit.check(v6("10.0.0.8")).is_ok(),
            "IPv4 addresses stay apart"
        );
        assert!(
            limit.check(v6("::ffff:10.0.0.7")).is_err(),
            "IPv4 written as IPv6 is the same client"
        );
    }
}
