//! The HTTP service: routes, admission (queue and evaluation slots), graceful shutdown.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest as _, Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use crypdoc_fhe::{CompressedServerKey, Encoding, EncryptedInput, EncryptedLogits, FheError};
use crypdoc_model::QuantizedModel;
use crypdoc_storage::{BlobStore, Cid, Store};
use serde_json::{json, Value};
use tokio::sync::Semaphore;

use crate::config::WorkerConfig;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::registry::KeyRegistry;
use crate::TARGET;

/// Why the worker cannot start.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// No model to serve.
    #[error("no model to serve")]
    NoModels,
    /// Two model files with the same model id.
    #[error("model {0} is given twice")]
    DuplicateModel(String),
    /// A model that the encrypted circuit cannot evaluate.
    #[error("model {model_id} cannot be served")]
    Model {
        /// Its id.
        model_id: String,
        /// Why.
        source: FheError,
    },
    /// A limit of the configuration is zero.
    #[error("invalid configuration: {0} must be at least 1")]
    Config(&'static str),
}

#[derive(Debug)]
struct Shared {
    config: WorkerConfig,
    models: BTreeMap<String, Arc<QuantizedModel>>,
    keys: KeyRegistry,
    store: Option<Store>,
    /// Running plus waiting evaluations: `eval_concurrency + queue_capacity` permits.
    admission: Arc<Semaphore>,
    /// Running evaluations: `eval_concurrency` permits.
    slots: Arc<Semaphore>,
    /// Key decoding and expansion (hundreds of ms and 120 MB each): one at a time.
    registrations: Semaphore,
    metrics: Metrics,
}

/// The inference worker: its models, keys, limits and metrics. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Worker {
    shared: Arc<Shared>,
}

impl Worker {
    /// A worker serving `models` (each checked against the encrypted circuit), reading inputs by
    /// CID from `store` when one is given.
    pub fn new(
        config: WorkerConfig,
        models: Vec<QuantizedModel>,
        store: Option<Store>,
    ) -> Result<Self, WorkerError> {
        for (value, name) in [
            (config.max_keys, "max_keys"),
            (config.eval_concurrency, "eval_concurrency"),
            (config.max_key_bytes, "max_key_bytes"),
            (config.max_input_bytes, "max_input_bytes"),
        ] {
            if value == 0 {
                return Err(WorkerError::Config(name));
            }
        }
        if models.is_empty() {
            return Err(WorkerError::NoModels);
        }
        let mut by_id = BTreeMap::new();
        for model in models {
            Encoding::for_model(&model)
                .map_err(|source| WorkerError::Model { model_id: model.model_id.clone(), source })?;
            let id = model.model_id.clone();
            if by_id.insert(id.clone(), Arc::new(model)).is_some() {
                return Err(WorkerError::DuplicateModel(id));
            }
        }
        Ok(Self {
            shared: Arc::new(Shared {
                keys: KeyRegistry::new(config.max_keys),
                admission: Arc::new(Semaphore::new(config.eval_concurrency + config.queue_capacity)),
                slots: Arc::new(Semaphore::new(config.eval_concurrency)),
                registrations: Semaphore::new(1),
                models: by_id,
                store,
                config,
                metrics: Metrics::default(),
            }),
        })
    }

    /// The counters and gauges also served at `/metrics`.
    pub fn metrics(&self) -> &Metrics {
        &self.shared.metrics
    }

    /// The configuration in force.
    pub fn config(&self) -> &WorkerConfig {
        &self.shared.config
    }

    /// The routes (see the crate documentation), with their body limits.
    pub fn router(&self) -> Router {
        let config = &self.shared.config;
        Router::new()
            .route("/v1/keys", post(register).layer(DefaultBodyLimit::max(config.max_key_bytes)))
            .route("/v1/keys/{key_id}", get(key_status))
            .route("/v1/infer/{key_id}", post(infer).layer(DefaultBodyLimit::max(config.max_input_bytes)))
            .route("/v1/infer/{key_id}/cid/{cid}", post(infer_cid).layer(DefaultBodyLimit::max(0)))
            .route("/healthz", get(health))
            .route("/metrics", get(metrics))
            .fallback(no_route)
            .with_state(self.clone())
    }

    /// Serves on `listener` until `shutdown` completes, then stops accepting connections and
    /// returns once every accepted request has been answered.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let address = listener.local_addr()?;
        let models: Vec<&String> = self.shared.models.keys().collect();
        tracing::info!(
            target: TARGET,
            %address,
            ?models,
            eval_concurrency = self.shared.config.eval_concurrency,
            queue_capacity = self.shared.config.queue_capacity,
            max_keys = self.shared.config.max_keys,
            "inference worker listening"
        );
        axum::serve(listener, self.router()).with_graceful_shutdown(shutdown).await?;
        tracing::info!(target: TARGET, "inference worker stopped: every accepted request was answered");
        Ok(())
    }

    fn finish(&self, route: &'static str, result: Result<Response, ApiError>) -> Response {
        match result {
            Ok(response) => {
                self.shared.metrics.request(route, "ok");
                response
            }
            Err(error) => {
                self.shared.metrics.request(route, error.code());
                if error.status().is_server_error() && !matches!(error, ApiError::QueueFull { .. }) {
                    tracing::warn!(target: TARGET, route, code = error.code(), "{error}");
                } else {
                    tracing::info!(target: TARGET, route, code = error.code(), "refused: {error}");
                }
                error.into_response()
            }
        }
    }

    fn register_blocking(&self, bytes: &[u8]) -> Result<Response, ApiError> {
        let key = CompressedServerKey::from_bytes(bytes).map_err(|error| match error {
            // The envelope's kind tag is checked before anything else is decoded: a client key
            // is recognised and dropped without being read.
            FheError::Kind { ref found, .. } if found.contains("client") => ApiError::ClientKeyRefused,
            other => ApiError::BadKey(other),
        })?;
        let key_id = key.key_id_hex();
        if let Some(held) = self.shared.keys.get(&key_id) {
            let body = json!({ "key_id": key_id, "created": false, "expanded_bytes": held.expanded_bytes() });
            return Ok((StatusCode::OK, Json(body)).into_response());
        }
        let started = Instant::now();
        let server = key.expand();
        drop(key);
        let expand_ms = started.elapsed().as_secs_f64() * 1e3;
        let expanded_bytes = server.expanded_bytes();
        let evicted = self.shared.keys.insert(server);
        self.shared.metrics.expanded();
        self.shared.metrics.evicted(evicted);
        tracing::info!(target: TARGET, %key_id, expand_ms, expanded_bytes, evicted, "server key registered");
        let body = json!({
            "key_id": key_id,
            "created": true,
            "expanded_bytes": expanded_bytes,
            "expand_ms": expand_ms,
        });
        Ok((StatusCode::CREATED, Json(body)).into_response())
    }

    fn queue_full(&self) -> ApiError {
        let metrics = &self.shared.metrics;
        let (running, queued) = (metrics.in_flight(), metrics.queue_depth());
        let mean = metrics.mean_evaluation_seconds().unwrap_or(1.0);
        let rounds = (running + queued) as f64 / self.shared.config.eval_concurrency as f64;
        let retry_after_s = ((mean * rounds).ceil() as u64).max(1);
        ApiError::QueueFull { running, queued, retry_after_s }
    }

    /// Checks `bytes` against the key and the loaded models, waits for an evaluation slot (or
    /// refuses when the queue is full) and evaluates on a blocking thread.
    async fn evaluate(&self, key_id: &str, bytes: &[u8]) -> Result<EncryptedLogits, ApiError> {
        let key_id = parse_key_id(key_id)?;
        let input = EncryptedInput::from_bytes(bytes).map_err(ApiError::from_input)?;
        let key = self.shared.keys.get(&key_id).ok_or_else(|| ApiError::UnknownKey(key_id.clone()))?;
        let input_key = hex::encode(input.key_id());
        if input_key != key_id {
            return Err(ApiError::Mismatch(FheError::WrongKey {
                what: "encrypted input",
                expected: key_id,
                found: input_key,
            }));
        }
        let model =
            self.shared.models.get(input.model_id()).cloned().ok_or_else(|| ApiError::UnknownModel {
                found: input.model_id().to_owned(),
                served: self.shared.models.keys().cloned().collect(),
            })?;
        let admission =
            Arc::clone(&self.shared.admission).try_acquire_owned().map_err(|_| self.queue_full())?;
        let slot = {
            let _queued = self.shared.metrics.enter_queue();
            Arc::clone(&self.shared.slots)
                .acquire_owned()
                .await
                .map_err(|e| ApiError::Internal(format!("evaluation slots closed: {e}")))?
        };
        let worker = self.clone();
        // The permits move into the blocking task: they are released when the evaluation ends,
        // even if the client has gone away meanwhile.
        tokio::task::spawn_blocking(move || {
            let metrics = &worker.shared.metrics;
            let _running = metrics.enter_evaluation();
            let started = Instant::now();
            let result = key.evaluate(&model, &input);
            let seconds = started.elapsed().as_secs_f64();
            metrics.evaluated(seconds);
            tracing::info!(target: TARGET, key_id, model_id = %model.model_id, seconds, ok = result.is_ok(), "evaluated");
            drop((slot, admission));
            result
        })
        .await
        .map_err(|e| ApiError::Internal(format!("evaluation task failed: {e}")))?
        .map_err(ApiError::from_input)
    }
}

/// Key ids are lowercase hex SHA-256 digests; upper case is accepted.
fn parse_key_id(key_id: &str) -> Result<String, ApiError> {
    if key_id.len() == 64 && key_id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(key_id.to_ascii_lowercase())
    } else {
        Err(ApiError::BadKeyId(key_id.chars().take(80).collect()))
    }
}

/// Reads the body, refusing it before reading anything when its declared length is over
/// `limit` (a client that sent `Expect: 100-continue` then never sends it), and while reading
/// when an undeclared length goes over (the route's [`DefaultBodyLimit`]).
async fn read_body(request: Request, what: &'static str, limit: usize) -> Result<Bytes, ApiError> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::TooLarge { what, limit });
    }
    Bytes::from_request(request, &()).await.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge { what, limit }
        } else {
            ApiError::Body(rejection.body_text())
        }
    })
}

fn octets(bytes: Vec<u8>) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"))], bytes).into_response()
}

async fn register(State(worker): State<Worker>, request: Request) -> Response {
    let result = async {
        let bytes = read_body(request, "server key", worker.shared.config.max_key_bytes).await?;
        let _permit = worker
            .shared
            .registrations
            .acquire()
            .await
            .map_err(|e| ApiError::Internal(format!("registrations closed: {e}")))?;
        let w = worker.clone();
        tokio::task::spawn_blocking(move || w.register_blocking(&bytes))
            .await
            .map_err(|e| ApiError::Internal(format!("key registration failed: {e}")))?
    }
    .await;
    if matches!(result, Err(ApiError::ClientKeyRefused)) {
        tracing::warn!(target: TARGET, "a client key was uploaded to the worker: refused and dropped unread");
    }
    worker.finish("register", result)
}

async fn key_status(State(worker): State<Worker>, Path(key_id): Path<String>) -> Response {
    let result = parse_key_id(&key_id).and_then(|id| match worker.shared.keys.get(&id) {
        Some(key) => {
            Ok(Json(json!({ "key_id": id, "expanded_bytes": key.expanded_bytes() })).into_response())
        }
        None => Err(ApiError::UnknownKey(id)),
    });
    worker.finish("key", result)
}

async fn infer(State(worker): State<Worker>, Path(key_id): Path<String>, request: Request) -> Response {
    let result = async {
        let bytes = read_body(request, "encrypted input", worker.shared.config.max_input_bytes).await?;
        let logits = worker.evaluate(&key_id, &bytes).await?;
        Ok(octets(logits.to_bytes()))
    }
    .await;
    worker.finish("infer", result)
}

async fn infer_cid(State(worker): State<Worker>, Path((key_id, cid)): Path<(String, String)>) -> Response {
    let result = async {
        let store = worker.shared.store.as_ref().ok_or(ApiError::NoStore)?;
        let cid: Cid = cid.parse().map_err(ApiError::from_storage)?;
        // Before fetching anything: an unknown key is the common case after an eviction.
        let id = parse_key_id(&key_id)?;
        if !worker.shared.keys.contains(&id) {
            return Err(ApiError::UnknownKey(id));
        }
        let bytes = store.get(&cid).await.map_err(ApiError::from_storage)?;
        let limit = worker.shared.config.max_input_bytes;
        if bytes.len() > limit {
            return Err(ApiError::TooLarge { what: "encrypted input (by CID)", limit });
        }
        let logits = worker.evaluate(&id, &bytes).await?.to_bytes();
        let mut response = octets(logits.clone());
        // As the design's flow has it, the result goes to the store too; the caller may fetch
        // it later by this CID.
        match store.put(Bytes::from(logits)).await {
            Ok(result_cid) => {
                if let Ok(value) = HeaderValue::from_str(&result_cid.to_string()) {
                    response.headers_mut().insert("x-crypdoc-result-cid", value);
                }
            }
            Err(error) => tracing::warn!(target: TARGET, %cid, "could not store the result: {error}"),
        }
        Ok(response)
    }
    .await;
    worker.finish("infer_cid", result)
}

async fn health(State(worker): State<Worker>) -> Response {
    let shared = &worker.shared;
    let (keys, key_bytes) = shared.keys.usage();
    let models: Vec<Value> = shared
        .models
        .values()
        .map(|m| json!({ "model_id": m.model_id, "classes": m.classes, "input_len": m.input_len() }))
        .collect();
    let body = json!({
        "status": "ok",
        "models": models,
        "parameter_id": crypdoc_fhe::PARAMETER_ID,
        "format_version": crypdoc_fhe::FORMAT_VERSION,
        "keys": keys,
        "key_bytes": key_bytes,
        "max_keys": shared.config.max_keys,
        "in_flight": shared.metrics.in_flight(),
        "queue_depth": shared.metrics.queue_depth(),
        "eval_concurrency": shared.config.eval_concurrency,
        "queue_capacity": shared.config.queue_capacity,
        "max_key_bytes": shared.config.max_key_bytes,
        "max_input_bytes": shared.config.max_input_bytes,
        "store": shared.store.is_some(),
    });
    worker.finish("healthz", Ok(Json(body).into_response()))
}

async fn metrics(State(worker): State<Worker>) -> Response {
    let (keys, key_bytes) = worker.shared.keys.usage();
    // Counted before rendering, so that a scrape sees itself.
    worker.shared.metrics.request("metrics", "ok");
    let text = worker.shared.metrics.render(keys, key_bytes);
    ([(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; version=0.0.4"))], text).into_response()
}

async fn no_route(method: Method, uri: Uri) -> Response {
    let body = json!({
        "error": "no_route",
        "message": format!(
            "no route {method} {}; routes: POST /v1/keys, GET /v1/keys/{{key_id}}, POST /v1/infer/{{key_id}}, POST /v1/infer/{{key_id}}/cid/{{cid}}, GET /healthz, GET /metrics",
            uri.path()
        ),
    });
    (StatusCode::NOT_FOUND, Json(body)).into_response()
}

/// Completes on SIGINT or SIGTERM: pass it to [`Worker::serve`].
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::warn!(target: TARGET, "cannot listen for SIGINT: {error}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(target: TARGET, "cannot listen for SIGTERM: {error}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!(target: TARGET, "shutting down: no new connections, finishing accepted requests");
}
