//! The node's HTTP API (axum, JSON errors): scan intake and status, patient reports, a
//! read-only ciphertext gateway and the doctors' page with the deployment it uses.
//!
//! | route | answer |
//! |---|---|
//! | `POST /v1/scans` (image body) | `202 {scan_id, duplicate}` |
//! | `GET /v1/scans`, `GET /v1/scans/{id}` | the jobs as JSON |
//! | `GET /v1/scans/{id}/report`, `.../report.pdf` | the patient report once the task is final |
//! | `GET /ipfs/{cid}` | the stored ciphertext |
//! | `GET /deployment.json` | chain id, RPC URL, contract addresses, gateway for the page |
//! | `GET /healthz`, `GET /metrics` | liveness and Prometheus counters |
//! | `/ocean/...` | the dataset's Provider routes (ocean-node's API subset), when datasets are on |
//! | `GET /`, other paths | the built page (`web/dist`) |

use axum::{
    body::{Body, Bytes},
    extract::{DefaultBodyLimit, Path as UrlPath, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use crypdoc_storage::{BlobStore, Cid, StorageError};
use serde_json::json;
use std::{
    net::SocketAddr,
    path::{Component, Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

use crate::{Hospital, HospitalError};

/// What the server needs besides the hospital.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Largest accepted scan upload.
    pub max_scan_bytes: usize,
    /// Bearer token required for intake (`None`: intake is open, for loopback only).
    pub intake_token: Option<String>,
    /// The built page (`index.html` and its assets), if served.
    pub web_dir: Option<PathBuf>,
    /// The RPC URL the page's wallet reads through.
    pub public_rpc_url: String,
    /// The dataset's Provider routes, mounted under [`crate::datasets::OCEAN_PATH`].
    pub ocean: Option<Router>,
}

#[derive(Debug, Default)]
struct Counters {
    submitted: AtomicU64,
    duplicates: AtomicU64,
    refused: AtomicU64,
    gateway_reads: AtomicU64,
    gateway_bytes: AtomicU64,
}

#[derive(Debug, Clone)]
struct AppState {
    hospital: Hospital,
    options: Arc<ServerOptions>,
    counters: Arc<Counters>,
}

/// A refusal: status, a machine-readable code and a sentence.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self { status, code, message: message.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.code, "message": self.message }))).into_response()
    }
}

impl From<HospitalError> for ApiError {
    fn from(error: HospitalError) -> Self {
        let (status, code) = match &error {
            HospitalError::NotAnImage(_) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "not_an_image"),
            HospitalError::Preprocess(_) => (StatusCode::UNPROCESSABLE_ENTITY, "unreadable_scan"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self::new(status, code, crypdoc_types::describe_error(&error))
    }
}

/// The router over `hospital`.
pub fn router(hospital: Hospital, options: ServerOptions) -> Router {
    let limit = options.max_scan_bytes;
    let ocean = options.ocean.clone();
    let state = AppState { hospital, options: Arc::new(options), counters: Arc::default() };
    let app = Router::new()
        .route("/v1/scans", post(submit).get(list).layer(DefaultBodyLimit::max(limit)))
        .route("/v1/scans/{id}", get(show))
        .route("/v1/scans/{id}/report", get(report_html))
        .route("/v1/scans/{id}/report.pdf", get(report_pdf))
        .route("/ipfs/{cid}", get(gateway))
        .route("/deployment.json", get(deployment))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .fallback(get(page))
        .with_state(state);
    match ocean {
        Some(provider) => app.nest(crate::datasets::OCEAN_PATH, provider),
        None => app,
    }
}

/// Serves `router` on `listener` until `shutdown` resolves; requests in flight are answered.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown)
        .await
}

async fn submit(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Result<Response, ApiError> {
    if let Some(token) = &app.options.intake_token {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        if presented != Some(token.as_str()) {
            app.counters.refused.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "scan intake needs the node's API token: send `Authorization: Bearer TOKEN`",
            ));
        }
    }
    if body.is_empty() {
        app.counters.refused.fetch_add(1, Ordering::Relaxed);
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "empty_body",
            "the request body is empty: send the scan image (JPEG or PNG) as the body",
        ));
    }
    match app.hospital.submit(&body).await {
        Ok(submitted) => {
            let counter =
                if submitted.duplicate { &app.counters.duplicates } else { &app.counters.submitted };
            counter.fetch_add(1, Ordering::Relaxed);
            let status = if submitted.duplicate { StatusCode::OK } else { StatusCode::ACCEPTED };
            Ok((status, Json(submitted)).into_response())
        }
        Err(error) => {
            app.counters.refused.fetch_add(1, Ordering::Relaxed);
            Err(error.into())
        }
    }
}

async fn list(State(app): State<AppState>) -> Result<Response, ApiError> {
    let jobs = app.hospital.jobs().list().await?;
    Ok(Json(json!({ "scans": jobs.iter().map(job_json).collect::<Vec<_>>() })).into_response())
}

fn job_json(job: &crate::Job) -> serde_json::Value {
    let mut value = serde_json::to_value(job).unwrap_or_default();
    if job.state == crate::JobState::Finalized {
        value["report"] = json!({
            "html": format!("/v1/scans/{}/report", job.id),
            "pdf": format!("/v1/scans/{}/report.pdf", job.id),
        });
    }
    value
}

async fn job_or_404(app: &AppState, id: &str) -> Result<crate::Job, ApiError> {
    app.hospital.jobs().get(id).await?.ok_or_else(|| {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_scan", format!("no scan with id {id:?} on this node"))
    })
}

async fn show(State(app): State<AppState>, UrlPath(id): UrlPath<String>) -> Result<Response, ApiError> {
    let job = job_or_404(&app, &id).await?;
    Ok(Json(job_json(&job)).into_response())
}

async fn report_data(app: &AppState, id: &str) -> Result<crate::report::ReportData, ApiError> {
    let job = job_or_404(app, id).await?;
    let text = app.hospital.jobs().report(&job.id).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "not_final",
            format!("scan {id} is {}: its report exists once the task is final", job.state),
        )
    })?;
    serde_json::from_str(&text).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("stored report of scan {id} is unreadable: {e}"),
        )
    })
}

async fn report_html(
    State(app): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let data = report_data(&app, &id).await?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], crate::report::render_html(&data))
        .into_response())
}

async fn report_pdf(State(app): State<AppState>, UrlPath(id): UrlPath<String>) -> Result<Response, ApiError> {
    let data = report_data(&app, &id).await?;
    let pdf = crate::report::render_pdf(&data);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/pdf")),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&format!("inline; filename=\"crypdoc-report-{id}.pdf\""))
                    .unwrap_or(HeaderValue::from_static("inline")),
            ),
        ],
        pdf,
    )
        .into_response())
}

async fn gateway(State(app): State<AppState>, UrlPath(cid): UrlPath<String>) -> Result<Response, ApiError> {
    let cid: Cid = cid
        .parse()
        .map_err(|e: StorageError| ApiError::new(StatusCode::BAD_REQUEST, "bad_cid", e.to_string()))?;
    let store = app.hospital.store();
    if !store.has(&cid).await.map_err(HospitalError::from)? {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_cid",
            format!("{cid} is not in this node's store"),
        ));
    }
    let bytes = store.get(&cid).await.map_err(HospitalError::from)?;
    app.counters.gateway_reads.fetch_add(1, Ordering::Relaxed);
    app.counters.gateway_bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream")),
            // Content addressed: the bytes behind a CID never change.
            (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
        ],
        Body::from(bytes),
    )
        .into_response())
}

async fn deployment(State(app): State<AppState>) -> Response {
    let d = app.hospital.client().deployment();
    Json(json!({
        "chainId": d.chain_id,
        "rpcUrl": app.options.public_rpc_url,
        "market": d.market,
        "registry": d.registry,
        "reputation": d.reputation,
        "stablecoin": d.stablecoin,
        "startBlock": d.start_block,
        "gateway": "/ipfs/",
        "hospital": app.hospital.client().address(),
    }))
    .into_response()
}

async fn health(State(app): State<AppState>) -> Response {
    let head = app.hospital.head().await;
    let jobs = app.hospital.jobs().counts().await.unwrap_or_default();
    let ok = head.is_ok();
    let body = json!({
        "ok": ok,
        "chain_head": head.as_ref().ok(),
        "chain_error": head.as_ref().err().map(ToString::to_string),
        "model": app.hospital.inference().model().model_id,
        "jobs": jobs.into_iter().map(|(k, v)| (k, json!(v))).collect::<serde_json::Map<_, _>>(),
    });
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(body)).into_response()
}

async fn metrics(State(app): State<AppState>) -> Response {
    use std::fmt::Write as _;
    let c = &app.counters;
    let mut text = String::new();
    let mut counter = |name: &str, help: &str, value: u64| {
        let _ = writeln!(text, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}");
    };
    counter(
        "crypdoc_hospital_scans_submitted_total",
        "Scans accepted through the API.",
        c.submitted.load(Ordering::Relaxed),
    );
    counter(
        "crypdoc_hospital_scans_duplicate_total",
        "Submissions of an image already held.",
        c.duplicates.load(Ordering::Relaxed),
    );
    counter(
        "crypdoc_hospital_scans_refused_total",
        "Submissions refused.",
        c.refused.load(Ordering::Relaxed),
    );
    counter(
        "crypdoc_hospital_gateway_reads_total",
        "Ciphertexts served by the gateway.",
        c.gateway_reads.load(Ordering::Relaxed),
    );
    counter(
        "crypdoc_hospital_gateway_bytes_total",
        "Ciphertext bytes served by the gateway.",
        c.gateway_bytes.load(Ordering::Relaxed),
    );
    let _ = writeln!(
        text,
        "# HELP crypdoc_hospital_jobs Scan jobs by state.\n# TYPE crypdoc_hospital_jobs gauge"
    );
    for (state, n) in app.hospital.jobs().counts().await.unwrap_or_default() {
        let _ = writeln!(text, "crypdoc_hospital_jobs{{state=\"{state}\"}} {n}");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

async fn page(State(app): State<AppState>, uri: axum::http::Uri) -> Result<Response, ApiError> {
    let not_found =
        || ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("nothing at {}", uri.path()));
    let Some(dir) = &app.options.web_dir else { return Err(not_found()) };
    let relative = uri.path().trim_start_matches('/');
    let relative = if relative.is_empty() { "index.html" } else { relative };
    let path = Path::new(relative);
    // Only plain names below the page's folder: no `..`, no absolute paths.
    if !path.components().all(|c| matches!(c, Component::Normal(_))) {
        return Err(not_found());
    }
    let file = dir.join(path);
    let bytes = tokio::fs::read(&file).await.map_err(|_| not_found())?;
    let content_type = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("map") => "application/json",
        _ => "application/octet-stream",
    };
    Ok(([(header::CONTENT_TYPE, content_type)], bytes).into_response())
}
