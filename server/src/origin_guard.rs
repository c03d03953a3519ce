//! The `--cors-origin` allow-list, enforced: a request whose `Origin` is neither listed nor the
//! server's own is refused with a JSON 403 before any handler runs.
//!
//! CORS alone only decides whether a browser shows the answer to the page. A "simple" request
//! (a `POST` without a body, or with `Content-Type: text/plain`) needs no preflight, so
//! without this guard an unlisted page could still cancel jobs, only without reading the
//! answer (creating them takes JSON, which needs a preflight: see `routes/json_body.rs`). Requests without an
//! `Origin` (curl, servers, same-origin `GET`s) are not browsers acting for a foreign page, and
//! pass; the page the server serves itself (the demo) is allowed when the server is reached
//! by an IP address or `localhost`.
//!
//! Not by any name: `Origin` matching `Host` is also what a DNS-rebinding attack looks like.
//! A page at `http://evil.example:8080`, its name then pointed at this server's address,
//! sends `Host: evil.example:8080` and `Origin: http://evil.example:8080`. Its name is the
//! attacker's, an address is not: a page served from an address came from that server.
//! A server reached by a name of its own lists its origin in `--cors-origin`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web;

use crate::error::ApiError;

/// The origins `--cors-origin` lists, as browsers write them (`https://app.example.com`).
#[derive(Debug, Clone)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// `origins` as checked by the flag's parser; empty means any origin is allowed.
    pub fn new(origins: &[String]) -> Self {
        AllowedOrigins(origins.to_vec())
    }

    /// Whether the list restricts anything; without one the guard is left out of the app.
    pub fn is_restricted(&self) -> bool {
        !self.0.is_empty()
    }

    /// Whether a request from `origin` to the server named `host` (its `Host` header) is
    /// allowed. Scheme and host compare without regard to case, as browsers normalise them.
    fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        if !self.is_restricted() {
            return true;
        }
        let listed = self
            .0
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(origin));
        // Same origin: the page came from this server (as the client reached it), so its
        // authority is the Host the browser sent. The browser, not the page, sets both; but
        // only an address or localhost proves the page is this server's (see above).
        let own = match (origin.split_once("://"), host) {
            (Some((_, authority)), Some(host)) => {
                authority.eq_ignore_ascii_case(host) && names_no_domain(host)
            }
            _ => false,
        };
        listed || own
    }
}

/// Whether `host` (a `Host` header: a name or address, and maybe a port) is an IP address or
/// `localhost`, which no attacker's DNS can point elsewhere.
fn names_no_domain(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        // An IPv6 address is written in brackets, a port after them.
        Some(rest) => rest.split_once(']').map_or(rest, |(address, _)| address),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.parse::<std::net::IpAddr>().is_ok() || name.eq_ignore_ascii_case("localhost")
}

/// Middleware (`actix_web::middleware::from_fn`): answers 403 to a request whose `Origin` the
/// [`AllowedOrigins`] in the app data do not allow. Runs outside CORS, so preflights from
/// unlisted origins get the same 403.
pub async fn refuse_unlisted_origins<B: MessageBody + 'static>(
    request: ServiceRequest,
    next: Next<B>,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error> {
    let refusal = match (
        request.app_data::<web::Data<AllowedOrigins>>(),
        request.headers().get(header::ORIGIN),
    ) {
        (Some(allowed), Some(origin)) => {
            let host = request
                .headers()
                .get(header::HOST)
                .and_then(|host| host.to_str().ok());
            match origin.to_str() {
                Ok(origin) if allowed.allows(origin, host) => None,
                origin => Some(ApiError::Forbidden(format!(
                    "origin {} may not call this server (see --cors-origin)",
                    origin.unwrap_or("(not text)")
                ))),
            }
        }
        _ => None,
    };
    crate::error::pass_or_refuse(refusal.map_or(Ok(()), Err), request, next).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allowed() -> AllowedOrigins {
        AllowedOrigins::new(&["https://app.example.com".to_owned()])
    }

    #[test]
    fn listed_origins_are_allowed_whatever_their_case() {
        assert!(allowed().allows("https://app.example.com", Some("api.example.com")));
        assert!(allowed().allows("HTTPS://App.Example.com", Some("api.example.com")));
    }

    #[test]
    fn unlisted_origins_are_refused_even_when_they_look_alike() {
        for origin in [
            "https://evil.example",
            "http://app.example.com",
            "https://app.example.com.evil.example",
            "https://app.example.com:444",
            "null",
            "",
        ] {
            assert!(
                !allowed().allows(origin, Some("api.example.com")),
                "{origin}"
            );
        }
    }

    #[test]
    fn the_servers_own_pages_are_allowed() {
        assert!(allowed().allows("http://127.0.0.1:8080", Some("127.0.0.1:8080")));
        assert!(allowed().allows("http://localhost:8080", Some("localhost:8080")));
        assert!(allowed().allows("http://[::1]:8080", Some("[::1]:8080")));
        assert!(allowed().allows("http://10.0.0.7", Some("10.0.0.7")));
        assert!(!allowed().allows("http://127.0.0.1:8080", Some("127.0.0.1:8081")));
        assert!(!allowed().allows("http://127.0.0.1:8080", None));
    }

    #[test]
    fn an_origin_that_matches_a_host_name_is_not_trusted_for_it() {
        // DNS rebinding: the attacker's name, pointed at this server.
        for name in [
            "evil.example:8080",
            "evil.example",
            "localhost.evil.example:80",
        ] {
            assert!(
                !allowed().allows(&format!("http://{name}"), Some(name)),
                "{name}"
            );
        }
    }

    #[test]
    fn without_a_list_every_origin_is_allowed() {
        let any = AllowedOrigins::new(&[]);
        assert!(!any.is_restricted());
        assert!(any.allows("https://evil.example", None));
    }
}
