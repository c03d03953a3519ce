//! A replica of the fleet (`--store redis://...`) as an in-process app, once ready.

use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::test;
use video_translation_server::config::Settings;
use video_translation_server::startup::{build_app, AppState};
use video_translation_server::store::backend::StoreKind;

use super::{call, TestApp};

/// A replica on the Redis at `url`, once ready (Redis answers, cancels are heard).
pub async fn replica(url: &str) -> (AppState, impl TestApp) {
    replica_with(url, Settings::for_tests(Duration::from_secs(60))).await
}

/// [`replica`] with other `settings`.
pub async fn replica_with(url: &str, settings: Settings) -> (AppState, impl TestApp) {
    let settings = Settings {
        store: StoreKind::Redis(url.to_owned()),
        ..settings
    };
    let state = AppState::new(&settings).expect("the app state builds");
    let app = test::init_service(build_app(&state)).await;
    wait_until_ready(&app, "the replica never became ready").await;
    (state, app)
}

/// Asks `GET /readyz` until it answers 200 (Redis answers, cancels are heard); fails with
/// `never` after 10 s.
pub async fn wait_until_ready(app: &impl TestApp, never: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, _, _) = call(app, test::TestRequest::get().uri("/readyz")).await;
        if status == StatusCode::OK {
            return;
        }
        assert!(Instant::now() < deadline, "{never}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
