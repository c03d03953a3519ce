//! Wiring: the app (middleware and routes) and the running server around it.

use std::net::TcpListener;
use std::path::PathBuf;

use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::{guard, middleware, web, App, HttpServer, Resource};
use video_translation_protocol::stream::LAST_EVENT_ID_HEADER;
use video_translation_protocol::{
    job_path, CANCEL_PATH, HEALTH_PATH, IDEMPOTENCY_KEY_HEADER, JOBS_PATH, JOB_PATH, METRICS_PATH,
    OPENAPI_PATH, PREFERENCE_APPLIED_HEADER, PREFER_HEADER, READY_PATH, STATUS_PATH, WATCH_PATH,
};

use crate::api_key::{self, ApiKeys};
use crate::body_timeout::{self, BodyTimeout};
use crate::client_address::TrustedProxies;
use crate::config::Settings;
use crate::error::json_error_bodies;
use crate::metrics::{self, Metrics};
use crate::origin_guard::{self, AllowedOrigins};
use crate::rate_limit::{self, RateLimit};
use crate::routes::{
    self, cancel, fallback, health, jobs, openapi, ready, status, watch, watch_stream,
};
use crate::static_files::confined_files;
use crate::store::{JobDefaults, JobStore, LongPollLimits, StoreLimits};
use crate::stream::StreamSettings;
use crate::telemetry;

/// Where the static content lives on disk.
#[derive(Debug, Clone)]
pub struct StaticDirs {
    /// The demo page, served at `/`.
    pub www: PathBuf,
    /// The built npm package, served at `/pkg/`.
    pub pkg: PathBuf,
}

/// The whole application for one worker: middleware, API routes, static files.
///
/// Tests hand it to `actix_web::test::init_service`; [`Application`] hands it to the server.
pub fn build_app(
    state: &AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let dirs = &state.dirs;
    let origins = AllowedOrigins::new(&state.cors_origins);
    App::new()
        .app_data(state.store.clone())
        .app_data(state.metrics.clone())
        .app_data(state.rate_limit.clone())
        .app_data(web::Data::new(origins.clone()))
        .app_data(web::Data::new(BodyTimeout(state.body_timeout)))
        .app_data(web::Data::new(state.stream))
        // For GET /healthz, which says whether keys are asked for; the API routes get theirs
        // from `api_route`.
        .app_data(state.api_keys.clone())
        // Innermost first: bodies must arrive by --body-timeout, over-limit clients get 429 (only when a limit is set), CORS headers
        // go on every answer (429s included, so browsers can read them), requests from origins
        // --cors-origin does not allow get 403 before anything else sees them, errors become
        // JSON (CORS's own refusals too, keeping its headers), then the request log sees the
        // final status. The API key is checked by each API route (`api_route`), so after all
        // of these: refused keys count against the rate limit and get CORS headers.
        .wrap(middleware::from_fn(body_timeout::limit_body_time))
        .wrap(middleware::Condition::new(
            state.rate_limit.is_enabled(),
            middleware::from_fn(rate_limit::limit_requests),
        ))
        .wrap(cors(&state.cors_origins))
        .wrap(middleware::Condition::new(
            origins.is_restricted(),
            middleware::from_fn(origin_guard::refuse_unlisted_origins),
        ))
        .wrap(json_error_bodies())
        .wrap(middleware::from_fn(telemetry::log_request))
        // Outermost: counts every answer, refusals by the layers above included.
        .wrap(middleware::from_fn({
            let metrics = state.metrics.clone();
            move |request, next| metrics::record_requests(metrics.clone(), request, next)
        }))
        // Before `/jobs/{id}`, which would take `watch` for an id; a static path costs the
        // pollers' route one string comparison.
        .service(
            api_route(WATCH_PATH, &state.api_keys)
                .app_data(web::PayloadConfig::new(watch::MAX_WATCH_BODY_BYTES))
                // First: a watch that asks for `text/event-stream` is streamed; any other is
                // the JSON watch, as before.
                .route(
                    web::post()
                        .guard(guard::fn_guard(|context| {
                            watch_stream::asks_for_events(context.head().headers())
                        }))
                        .to(watch_stream::watch_stream),
                )
                .post(watch::watch)
                .default_service(web::to(fallback::method_not_allowed("POST"))),
        )
        // Routes are tried in order: the pollers' endpoint first.
        .service(
            api_route(JOB_PATH, &state.api_keys)
                .get(jobs::get)
                .default_service(web::to(fallback::method_not_allowed("GET"))),
        )
        .service(
            api_route(CANCEL_PATH, &state.api_keys)
                .app_data(web::PayloadConfig::new(cancel::MAX_CANCEL_BODY_BYTES))
                .post(cancel::cancel)
                .default_service(web::to(fallback::method_not_allowed("POST"))),
        )
        .service(
            api_route(STATUS_PATH, &state.api_keys)
                .get(status::default_job_status)
                .default_service(web::to(fallback::method_not_allowed("GET"))),
        )
        .service(
            api_route(JOBS_PATH, &state.api_keys)
                .app_data(web::PayloadConfig::new(jobs::MAX_CREATE_BODY_BYTES))
                .post(jobs::create)
                .default_service(web::to(fallback::method_not_allowed("POST"))),
        )
        // Open whatever the keys: health checks, tools reading the document, and the demo page,
        // which learns from /healthz whether to ask for a key.
        .service(
            web::resource(HEALTH_PATH)
                .name(HEALTH_PATH)
                .get(health::healthz)
                .default_service(web::to(fallback::method_not_allowed("GET"))),
        )
        // Open, like /healthz: load balancers ask it without keys.
        .service(
            web::resource(READY_PATH)
                .name(READY_PATH)
                .get(ready::readyz)
                .default_service(web::to(fallback::method_not_allowed("GET"))),
        )
        // Open, like /healthz: see routes::metrics for why.
        .service(
            web::resource(METRICS_PATH)
                .name(METRICS_PATH)
                .get(routes::metrics::metrics)
                .default_service(web::to(fallback::method_not_allowed("GET"))),
        )
        .service(
            web::resource(OPENAPI_PATH)
                .name(OPENAPI_PATH)
                .get(openapi::openapi_json)
                .default_service(web::to(fallback::method_not_allowed("GET"))),
        )
        .service(confined_files("/pkg", &dirs.pkg, None))
        // Registered last: it matches every path, and answers 404 for what it lacks.
        .service(confined_files("/", &dirs.www, Some("index.html")))
        .default_service(web::to(fallback::not_found))
}

/// A route of the API: when `--api-key` set any keys, it answers 401 to requests without one,
/// whatever their method (its 405s included). Every API route is made with this; only the
/// health check, the OpenAPI document and the static files are not.
fn api_route(
    path: &str,
    keys: &web::Data<ApiKeys>,
) -> Resource<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let enabled = keys.is_enabled();
    let keys = keys.clone();
    // Named by its pattern, the metrics' `route` label, read without re-matching the path.
    // `:id`, not `{id}`: some text-format parsers end a label set at the first `}`.
    web::resource(path)
        .name(&job_path(path, ":id"))
        .wrap(middleware::Condition::new(
            enabled,
            middleware::from_fn(move |request, next| {
                api_key::require_api_key(keys.clone(), request, next)
            }),
        ))
}

/// What every worker's app shares, made once from the settings.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The jobs, and the requests held on them.
    pub store: web::Data<JobStore>,
    /// What `GET /metrics` shows.
    pub metrics: web::Data<Metrics>,
    /// The per-client request limit.
    pub rate_limit: web::Data<RateLimit>,
    /// Origins allowed by CORS; empty means any.
    pub cors_origins: Vec<String>,
    /// How long a request's body may take to arrive.
    pub body_timeout: std::time::Duration,
    /// The keys the API asks for; none means it is open.
    pub api_keys: web::Data<ApiKeys>,
    /// Where the static content lives.
    pub dirs: StaticDirs,
    /// The event streams' heartbeat and lifetime.
    pub stream: StreamSettings,
}

impl AppState {
    /// The state for `settings`: the store `--store` names (Redis is connected to lazily,
    /// so this fails only for a URL the client cannot use), whose default job starts now
    /// (unless a fleet's Redis holds one already).
    pub fn new(settings: &Settings) -> std::io::Result<Self> {
        let metrics = Metrics::new();
        let store = JobStore::open(
            &settings.store,
            JobDefaults {
                duration: settings.delay,
                error_rate: settings.error_rate,
                eta_error: settings.eta_error,
            },
            StoreLimits {
                job_ttl: settings.job_ttl,
                max_jobs: settings.max_jobs as usize,
            },
            LongPollLimits {
                max_wait: settings.max_wait,
                max_waiters: settings.max_waiters as usize,
            },
            metrics.store.clone(),
        )
        .map_err(std::io::Error::other)?;
        Ok(AppState {
            store: web::Data::new(store),
            metrics: web::Data::new(metrics),
            rate_limit: web::Data::new(RateLimit::new(
                settings.rate_limit,
                TrustedProxies::new(settings.trusted_proxies.clone()),
            )),
            cors_origins: settings.cors_origins.clone(),
            body_timeout: settings.body_timeout,
            api_keys: web::Data::new(ApiKeys::new(&settings.api_keys)),
            dirs: StaticDirs {
                www: settings.www_dir.clone(),
                pkg: settings.pkg_dir.clone(),
            },
            stream: StreamSettings {
                heartbeat: settings.stream_heartbeat,
                lifetime: settings.stream_lifetime,
            },
        })
    }
}

/// Any origin may call the API (the demo and third-party apps alike), or only `origins` when
/// given (`--cors-origin`, checked when parsed); only the methods and headers the API uses,
/// `Authorization` included for `--api-key`, `Idempotency-Key` for retries of `POST /jobs` and
/// `Last-Event-ID` for resumed streams.
/// The hint headers and the 401's challenge are exposed so cross-origin callers read them.
fn cors(origins: &[String]) -> Cors {
    let cors = if origins.is_empty() {
        Cors::default().allow_any_origin()
    } else {
        origins
            .iter()
            .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
    };
    cors.allowed_methods(["GET", "POST"])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            header::AUTHORIZATION,
            HeaderName::from_static(PREFER_HEADER),
            HeaderName::from_static(IDEMPOTENCY_KEY_HEADER),
            HeaderName::from_static(LAST_EVENT_ID_HEADER),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            header::WWW_AUTHENTICATE,
            HeaderName::from_static(PREFERENCE_APPLIED_HEADER),
        ])
        .max_age(3600)
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    host: String,
    server: Server,
    store: web::Data<JobStore>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("url", &self.url())
            .finish_non_exhaustive()
    }
}

impl Application {
    /// Binds the listener (port 0 picks a free one) and builds the server; it starts serving
    /// when [`Application::run_until_stopped`] is awaited.
    pub fn build(settings: Settings) -> std::io::Result<Self> {
        let listener = TcpListener::bind(settings.bind)?;
        let address = listener.local_addr()?;
        let state = AppState::new(&settings)?;
        tracing::info!(store = %settings.store, "job store");
        for (what, dir) in [
            ("demo page", &state.dirs.www),
            ("npm package", &state.dirs.pkg),
        ] {
            if !dir.is_dir() {
                tracing::warn!(dir = %dir.display(), "{what} folder not found; its routes answer 404");
            }
        }

        let mut server = HttpServer::new({
            let state = state.clone();
            move || build_app(&state)
        })
        // Before `listen`, which captures it.
        .on_connect(crate::idle_heap::on_connect)
        .listen(listener)?
        // A caller that closes its connection (an aborted `fetch` sends a plain FIN) is gone:
        // actix then drops the request's handler, so a held long-poll gives its
        // `--max-waiters` slot back at once instead of when its wait ends. By default
        // (half-closes allowed) actix keeps the handler running until it answers, because a
        // FIN alone cannot tell "done sending" from "gone"; HTTP clients do not half-close
        // while awaiting an answer, and nginx, too, takes that FIN as the client leaving. A
        // connection reset ends the handler either way.
        .h1_allow_half_closed(false)
        // We handle SIGINT/SIGTERM ourselves: held long-polls must be answered before the
        // graceful drain, or it would wait out their whole wait (run_until_stopped).
        .disable_signals();
        if let Some(workers) = settings.workers {
            server = server.workers(usize::from(workers));
        }
        Ok(Application {
            port: address.port(),
            host: address.ip().to_string(),
            server: server.run(),
            store: state.store,
        })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://host:port`, ready for a client.
    pub fn url(&self) -> String {
        if self.host.contains(':') {
            format!("http://[{}]:{}", self.host, self.port)
        } else {
            format!("http://{}:{}", self.host, self.port)
        }
    }

    /// Serves until the process is told to stop (SIGINT/SIGTERM). Then every held long-poll
    /// is answered at once with its job's current status, new connections are refused, and
    /// requests in flight finish before the process exits.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let handle = self.server.handle();
        let store = self.store;
        actix_web::rt::spawn(async move {
            stop_signal().await;
            tracing::info!(
                "stopping: answering held long-polls, then finishing requests in flight"
            );
            store.stop_waiting();
            handle.stop(true).await;
        });
        self.server.await
    }
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM (what service managers and `kill` send).
async fn stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; stopping on Ctrl-C only");
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}
