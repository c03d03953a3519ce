//! The wire types' JSON as the contract writes it and as readers must take it, and the waits.

use super::*;

#[test]
fn job_status_serializes_snake_case_with_lowercase_result() {
    let status = JobStatus {
        id: Some("abc".into()),
        result: JobResult::Pending,
        progress: Some(0.25),
        eta_ms: Some(1500),
        reason: None,
    };
    let json = serde_json::to_string(&status).unwrap();
    assert_eq!(
        json,
        r#"{"id":"abc","result":"pending","progress":0.25,"eta_ms":1500}"#
    );
}

#[test]
fn unknown_eta_serializes_as_null() {
    let status = JobStatus {
        id: Some("x".into()),
        result: JobResult::Completed,
        progress: Some(1.0),
        eta_ms: None,
        reason: None,
    };
    let json = serde_json::to_string(&status).unwrap();
    assert!(json.contains(r#""eta_ms":null"#), "{json}");
}

#[test]
fn a_cancelled_job_says_why_and_the_reason_is_absent_otherwise() {
    let status = JobStatus {
        id: Some("c".into()),
        result: JobResult::Error,
        progress: Some(0.5),
        eta_ms: Some(0),
        reason: Some(EndReason::Cancelled),
    };
    let json = serde_json::to_string(&status).unwrap();
    assert_eq!(
        json,
        r#"{"id":"c","result":"error","progress":0.5,"eta_ms":0,"reason":"cancelled"}"#
    );
    assert_eq!(serde_json::from_str::<JobStatus>(&json).unwrap(), status);
    let plain: JobStatus =
        serde_json::from_str(r#"{"id":"c","result":"error","progress":1,"eta_ms":0}"#).unwrap();
    assert_eq!(plain.reason, None);
}

#[test]
fn a_status_needs_only_a_result_and_a_bad_estimate_is_no_estimate() {
    let bare: JobStatus = serde_json::from_str(r#"{"result": "pending"}"#).unwrap();
    assert_eq!(
        (bare.id, bare.progress, bare.eta_ms, bare.reason),
        (None, None, None, None)
    );
    let nulls: JobStatus = serde_json::from_str(
        r#"{"id": null, "result": "completed", "progress": null, "eta_ms": null}"#,
    )
    .unwrap();
    assert_eq!((nulls.id, nulls.progress), (None, None));
    for (eta, read) in [
        ("1500.4", Some(1500)),
        ("-1", None),
        ("1e300", Some(1_000_000_000_000)),
    ] {
        let status: JobStatus =
            serde_json::from_str(&format!(r#"{{"result": "pending", "eta_ms": {eta}}}"#)).unwrap();
        assert_eq!(status.eta_ms, read, "{eta}");
    }
}

#[test]
fn job_result_parses_only_the_three_contract_values() {
    for result in [JobResult::Pending, JobResult::Completed, JobResult::Error] {
        assert_eq!(result.as_str().parse::<JobResult>(), Ok(result));
    }
    let err = "done".parse::<JobResult>().unwrap_err();
    assert!(err.to_string().contains("\"done\""), "{err}");
    assert!("Pending".parse::<JobResult>().is_err());
}

#[test]
fn only_completed_and_error_are_final() {
    assert!(!JobResult::Pending.is_final());
    assert!(JobResult::Completed.is_final());
    assert!(JobResult::Error.is_final());
}

#[test]
fn create_job_accepts_an_empty_object_and_rejects_unknown_fields() {
    let empty: CreateJob = serde_json::from_str("{}").unwrap();
    assert_eq!(empty, CreateJob::default());

    let full: CreateJob =
        serde_json::from_str(r#"{"duration_ms": 5000, "outcome": "error", "estimate_ms": 4000}"#)
            .unwrap();
    assert_eq!(full.duration_ms, Some(5000));
    assert_eq!(full.outcome, Some(Outcome::Error));
    assert_eq!(full.estimate_ms, Some(4000));

    let typo = serde_json::from_str::<CreateJob>(r#"{"durationMs": 5000}"#).unwrap_err();
    assert!(typo.to_string().contains("durationMs"), "{typo}");
}

#[test]
fn create_job_takes_whole_numbers_however_written_and_nothing_else() {
    let read = |json: &str| serde_json::from_str::<CreateJob>(json);
    for (json, millis) in [
        (r#"{"duration_ms": 1000}"#, Some(1000)),
        (r#"{"duration_ms": 1000.0}"#, Some(1000)),
        (r#"{"duration_ms": 1e3}"#, Some(1000)),
        (r#"{"duration_ms": 0.0}"#, Some(0)),
        (r#"{"duration_ms": null}"#, None),
    ] {
        assert_eq!(read(json).unwrap().duration_ms, millis, "{json}");
    }
    assert_eq!(
        read(r#"{"estimate_ms": 250.0}"#).unwrap().estimate_ms,
        Some(250)
    );
    for json in [
        r#"{"duration_ms": 1.5}"#,
        r#"{"duration_ms": -1}"#,
        r#"{"duration_ms": -1.0}"#,
        r#"{"duration_ms": 1e20}"#,
        r#"{"duration_ms": "5000"}"#,
        r#"{"estimate_ms": true}"#,
    ] {
        let error = read(json).unwrap_err().to_string();
        assert!(
            error.contains("whole number of milliseconds"),
            "{json}: {error}"
        );
    }
}

#[test]
fn watch_requests_and_answers_have_the_contract_shape() {
    let request: WatchRequest = serde_json::from_str(r#"{"ids": ["a", "b"]}"#).unwrap();
    assert_eq!(request.ids, ["a", "b"]);
    assert!(serde_json::from_str::<WatchRequest>(r#"{"ids": ["a"], "wait": 5}"#).is_err());
    assert!(serde_json::from_str::<WatchRequest>(r#"{"ids": [1]}"#).is_err());

    let answer = WatchAnswer {
        jobs: vec![JobStatus {
            id: Some("a".into()),
            result: JobResult::Completed,
            progress: Some(1.0),
            eta_ms: Some(0),
            reason: None,
        }],
        missing: vec!["b".into()],
    };
    assert_eq!(
        serde_json::to_string(&answer).unwrap(),
        r#"{"jobs":[{"id":"a","result":"completed","progress":1.0,"eta_ms":0}],"missing":["b"]}"#
    );
}

#[test]
fn outcome_cannot_be_pending() {
    assert!(serde_json::from_str::<CreateJob>(r#"{"outcome": "pending"}"#).is_err());
}

#[test]
fn waits_are_written_compactly_and_read_back() {
    for (wait, text) in [(30_000, "30"), (2_500, "2.5"), (125, "0.125"), (0, "0")] {
        let wait = Duration::from_millis(wait);
        assert_eq!(format_wait(wait), text);
        assert_eq!(parse_wait(text), Some(wait));
    }
    for bad in ["-1", "soon", "NaN", "inf", ""] {
        assert_eq!(parse_wait(bad), None, "{bad:?}");
    }
    assert_eq!(
        parse_wait("1e9"),
        Some(MAX_WIRE_WAIT),
        "absurd waits are clamped"
    );
}

#[test]
fn the_wait_preference_is_found_among_others() {
    assert_eq!(wait_preference("wait=10"), Some(Duration::from_secs(10)));
    assert_eq!(
        wait_preference("respond-async, Wait = 2.5"),
        Some(Duration::from_millis(2500))
    );
    assert_eq!(wait_preference("return=minimal"), None);
    assert_eq!(wait_preference("wait=soon"), None);
}

#[test]
fn error_body_has_the_contract_shape() {
    let json = serde_json::to_string(&ErrorBody::new("not_found", "no job")).unwrap();
    assert_eq!(json, r#"{"error":{"code":"not_found","message":"no job"}}"#);
}
