//! Wiring: the app (middleware and routes) and the running server around it.

use std::net::TcpListener;
use std::path::PathBuf;

use actix_cors::Cors;
use actix_files::Files;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName};
use actix_web::{middleware, web, App, HttpServer};
use video_translation_protocol::{PREFERENCE_APPLIED_HEADER, PREFER_HEADER};

use crate::config::Settings;
use crate::error::json_error_bodies;
use crate::routes::long_poll::LongPollLimits;
use crate::routes::{fallback, health, jobs, status};
use crate::store::{JobDefaults, JobStore};
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
    App::new()
        .app_data(state.store.clone())
        .app_data(state.limits.clone())
        // Innermost first: errors become JSON, then CORS headers go on every answer,
        // then the request log sees the final status.
        .wrap(json_error_bodies())
        .wrap(cors())
        .wrap(middleware::from_fn(telemetry::log_request))
        .service(
            web::resource("/status")
                .get(status::default_job_status)
                .default_service(web::to(fallback::method_not_allowed("GET"))),
        )
        .service(
            web::resource("/healthz")
                .get(health::healthz)
                .default_service(web::to(fallback::method_not_allowed("GET"))),
        )
        .service(
            web::resource("/jobs")
                .app_data(web::PayloadConfig::new(jobs::MAX_CREATE_BODY_BYTES))
                .post(jobs::create)
                .default_service(web::to(fallback::method_not_allowed("POST"))),
        )
        .service(
            web::resource("/jobs/{id}")
                .get(jobs::get)
                .default_service(web::to(fallback::method_not_allowed("GET"))),
        )
        .service(Files::new("/pkg", &dirs.pkg).default_handler(fallback::not_found_service))
        // Registered last: it matches every path, and answers 404 for what it lacks.
        .service(
            Files::new("/", &dirs.www)
                .index_file("index.html")
                .default_handler(fallback::not_found_service),
        )
        .default_service(web::to(fallback::not_found))
}

/// What every worker's app shares, made once from the settings.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The jobs.
    pub store: web::Data<JobStore>,
    /// Long-polling bounds.
    pub limits: web::Data<LongPollLimits>,
    /// Where the static content lives.
    pub dirs: StaticDirs,
}

impl AppState {
    /// The state for `settings`: an empty store whose default job starts now.
    pub fn new(settings: &Settings) -> Self {
        AppState {
            store: web::Data::new(JobStore::new(JobDefaults {
                duration: settings.delay,
                error_rate: settings.error_rate,
                eta_error: settings.eta_error,
            })),
            limits: web::Data::new(LongPollLimits {
                max_wait: settings.max_wait,
            }),
            dirs: StaticDirs {
                www: settings.www_dir.clone(),
                pkg: settings.pkg_dir.clone(),
            },
        }
    }
}

/// Any origin may call the API (the demo and third-party apps alike), with only the methods
/// and headers the API uses; the hint headers are exposed so cross-origin callers read them.
fn cors() -> Cors {
    Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "POST"])
        .allowed_headers([
            header::CONTENT_TYPE,
            header::ACCEPT,
            HeaderName::from_static(PREFER_HEADER),
        ])
        .expose_headers([
            header::LOCATION,
            header::RETRY_AFTER,
            HeaderName::from_static(PREFERENCE_APPLIED_HEADER),
        ])
        .max_age(3600)
}

/// A bound, ready-to-run server.
pub struct Application {
    port: u16,
    host: String,
    server: Server,
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
        let state = AppState::new(&settings);
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
        .listen(listener)?;
        if let Some(workers) = settings.workers {
            server = server.workers(usize::from(workers));
        }
        Ok(Application {
            port: address.port(),
            host: address.ip().to_string(),
            server: server.run(),
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

    /// Serves until the process is told to stop (SIGINT/SIGTERM), then drains gracefully.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
