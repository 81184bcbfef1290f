//! The worker over real HTTP on loopback, in process: registration, encrypted inference checked
//! against the plaintext reference, every refusal, the queue, eviction, metrics and graceful
//! shutdown. Key generation (~1 s) happens once per key pair; the evaluations are few.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crypdoc_fhe::{ClientKey, CompressedServerKey, Encoding, EncryptedInput};
use crypdoc_inference::{Worker, WorkerConfig};
use crypdoc_inference_client::{ClientError, WorkerClient};
use crypdoc_model::QuantizedModel;
use crypdoc_storage::{BlobStore, EmbeddedStore, Store};
use serde_json::Value;

struct KeyPair {
    client: ClientKey,
    compressed: CompressedServerKey,
}

fn key_pair() -> &'static KeyPair {
    static KEYS: OnceLock<KeyPair> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (client, compressed) = ClientKey::generate();
        KeyPair { client, compressed }
    })
}

/// A second key pair: for the wrong-key refusal and for eviction.
fn other_key_pair() -> &'static KeyPair {
    static KEYS: OnceLock<KeyPair> = OnceLock::new();
    KEYS.get_or_init(|| {
        let (client, compressed) = ClientKey::generate();
        KeyPair { client, compressed }
    })
}

fn model() -> &'static QuantizedModel {
    static MODEL: OnceLock<QuantizedModel> = OnceLock::new();
    MODEL.get_or_init(|| QuantizedModel::random(42, 32, 16, 2))
}

/// An input whose every hidden unit lies at least 2^-7 of the torus from its sign boundary, so
/// that the decrypted logits must equal the reference exactly (see crypdoc-fhe's roundtrip test).
fn confident_pixels() -> &'static Vec<u8> {
    static PIXELS: OnceLock<Vec<u8>> = OnceLock::new();
    PIXELS.get_or_init(|| {
        let model = model();
        let encoding = Encoding::for_model(model).unwrap();
        (0..200_000u64)
            .map(|s| crypdoc_model::pseudo_random_pixels(s, model.input_len(), 16))
            .find(|x| {
                let pre = model.infer(x).unwrap().pre_activations;
                pre.iter().enumerate().all(|(j, p)| encoding.decision_distance(j, *p) >= 2f64.powi(-7))
            })
            .expect("a confident input")
    })
}

fn encrypted(keys: &KeyPair, model: &QuantizedModel, pixels: &[u8]) -> EncryptedInput {
    keys.client.encrypt(model, pixels).unwrap()
}

fn assert_reference(logits: &crypdoc_fhe::EncryptedLogits) {
    let got = key_pair().client.decrypt(model(), logits).unwrap();
    let reference = model().infer(confident_pixels()).unwrap();
    assert_eq!(got.logits, reference.logits, "decrypted logits differ from the plaintext reference");
}

struct Running {
    url: String,
    worker: Worker,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn start(config: WorkerConfig, models: Vec<QuantizedModel>, store: Option<Store>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let worker = Worker::new(config, models, store).unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(worker.clone().serve(listener, async move {
            let _ = rx.await;
        }));
        Self { url, worker, shutdown: Some(tx), task }
    }

    async fn stop(mut self) {
        self.shutdown.take().unwrap().send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(30), self.task).await.unwrap().unwrap().unwrap();
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.url)).await.unwrap().text().await.unwrap()
    }
}

/// Sends `body` to `path` and returns the status, the JSON error body and the response headers.
async fn post_raw(url: &str, path: &str, body: Vec<u8>) -> (u16, Value, reqwest::header::HeaderMap) {
    let response = reqwest::Client::new().post(format!("{url}{path}")).body(body).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.unwrap();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value, headers)
}

/// Sends only the head of a request declaring a body of `length` bytes and returns the status
/// and JSON body of the answer: an oversized body is refused before a byte of it is sent. (A
/// client that sends the body anyway may see the connection closed before it reads the answer.)
async fn declare_only(url: &str, path: &str, length: usize) -> (u16, Value) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = url.strip_prefix("http://").unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/octet-stream\r\nContent-Length: {length}\r\nExpect: 100-continue\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    tokio::time::timeout(Duration::from_secs(10), read).await.expect("an answer without the body").unwrap();
    let answer = String::from_utf8(answer).unwrap();
    let status = answer.split(' ').nth(1).unwrap().parse().unwrap();
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn metric(text: &str, line_start: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(line_start).and_then(|rest| rest.strip_prefix(' ')))
        .unwrap_or_else(|| panic!("no metric {line_start} in:\n{text}"))
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_infer_by_bytes_and_by_cid_with_metrics() {
    let store_dir = tempfile::tempdir().unwrap();
    let store = Store::Embedded(EmbeddedStore::open(store_dir.path()).unwrap());
    let server = Running::start(WorkerConfig::default(), vec![model().clone()], Some(store.clone())).await;
    let client = WorkerClient::new(&server.url).unwrap();
    let keys = key_pair();

    let first = client.register(&keys.compressed).await.unwrap();
    assert_eq!(first.key_id, keys.compressed.key_id_hex());
    assert!(first.created);
    assert!(first.expanded_bytes > 100_000_000, "{}", first.expanded_bytes);
    let again = client.register(&keys.compressed).await.unwrap();
    assert!(!again.created, "registration is idempotent");
    assert!(client.is_registered(&first.key_id).await.unwrap());

    let input = encrypted(keys, model(), confident_pixels());
    let started = Instant::now();
    let logits = client.infer(&first.key_id, &input).await.unwrap();
    eprintln!("one inference over HTTP: {:?}", started.elapsed());
    assert_reference(&logits);

    // The same input by CID from the worker's store; the result is stored too.
    let cid = store.put(input.to_bytes().into()).await.unwrap();
    let (status, _, headers) =
        post_raw(&server.url, &format!("/v1/infer/{}/cid/{cid}", first.key_id), vec![]).await;
    assert_eq!(status, 200);
    let result_cid: crypdoc_storage::Cid = headers["x-crypdoc-result-cid"].to_str().unwrap().parse().unwrap();
    let stored = store.get(&result_cid).await.unwrap();
    assert_reference(&crypdoc_fhe::EncryptedLogits::from_bytes(&stored).unwrap());
    let by_client = client.infer_cid(&first.key_id, &cid.to_string()).await;
    assert_reference(&by_client.unwrap());

    // CIDs that are not valid, or not in the store.
    let (status, body, _) =
        post_raw(&server.url, &format!("/v1/infer/{}/cid/not-a-cid", first.key_id), vec![]).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad_cid")), "{body}");
    let absent = crypdoc_storage::compute_cid(b"never stored");
    let (status, body, _) =
        post_raw(&server.url, &format!("/v1/infer/{}/cid/{absent}", first.key_id), vec![]).await;
    assert_eq!((status, body["error"].as_str()), (404, Some("cid_not_found")), "{body}");

    let health: Value = client.health().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["keys"], 1);
    assert_eq!(health["models"][0]["model_id"], model().model_id.as_str());

    let text = server.metrics().await;
    assert_eq!(metric(&text, "crypdoc_inference_requests_total{route=\"register\",outcome=\"ok\"}"), 2.0);
    assert_eq!(metric(&text, "crypdoc_inference_requests_total{route=\"infer\",outcome=\"ok\"}"), 1.0);
    assert_eq!(metric(&text, "crypdoc_inference_requests_total{route=\"infer_cid\",outcome=\"ok\"}"), 2.0);
    assert_eq!(
        metric(&text, "crypdoc_inference_requests_total{route=\"infer_cid\",outcome=\"cid_not_found\"}"),
        1.0
    );
    assert_eq!(metric(&text, "crypdoc_inference_evaluation_seconds_count"), 3.0);
    assert!(metric(&text, "crypdoc_inference_evaluation_seconds_sum") > 0.0);
    assert_eq!(metric(&text, "crypdoc_inference_registered_keys"), 1.0);
    assert_eq!(metric(&text, "crypdoc_inference_key_expansions_total"), 1.0);
    assert_eq!(metric(&text, "crypdoc_inference_in_flight"), 0.0);
    assert_eq!(metric(&text, "crypdoc_inference_queue_depth"), 0.0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_are_named_with_their_status() {
    let config = WorkerConfig { max_key_bytes: 1 << 20, ..WorkerConfig::default() };
    let server = Running::start(config, vec![model().clone()], None).await;
    let keys = key_pair();
    let url = &server.url;
    let refused = |expected_status: u16, code: &str, (status, body, _): (u16, Value, _)| {
        assert_eq!((status, body["error"].as_str()), (expected_status, Some(code)), "{body}");
        body["message"].as_str().unwrap().to_owned()
    };

    // A client key is never accepted, and the message says why.
    let message = refused(400, "client_key_refused", post_raw(url, "/v1/keys", keys.client.to_bytes()).await);
    assert!(message.contains("client key"), "{message}");
    // Garbage and oversized keys (the limit is 1 MiB here; a real key is 30 MB).
    refused(400, "bad_key", post_raw(url, "/v1/keys", b"hello".to_vec()).await);
    let (status, body) = declare_only(url, "/v1/keys", keys.compressed.to_bytes().len()).await;
    assert_eq!((status, body["error"].as_str()), (413, Some("too_large")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("1048576"), "{body}");

    // This worker cannot take a real key: the refusals that need one run on a second worker.
    let input = encrypted(keys, model(), confident_pixels());
    let key_id = keys.compressed.key_id_hex();
    refused(404, "unknown_key", post_raw(url, &format!("/v1/infer/{key_id}"), input.to_bytes()).await);
    refused(400, "bad_key_id", post_raw(url, "/v1/infer/xyz", input.to_bytes()).await);
    refused(404, "no_route", post_raw(url, "/v1/nothing", vec![]).await);
    refused(501, "no_store", post_raw(url, &format!("/v1/infer/{key_id}/cid/bafkqaaa"), vec![]).await);
    let text = server.metrics().await;
    assert_eq!(
        metric(&text, "crypdoc_inference_requests_total{route=\"register\",outcome=\"client_key_refused\"}"),
        1.0
    );
    assert_eq!(metric(&text, "crypdoc_inference_registered_keys"), 0.0);
    server.stop().await;

    let server = Running::start(WorkerConfig::default(), vec![model().clone()], None).await;
    let url = &server.url;
    let client = WorkerClient::new(url).unwrap();
    client.register(&keys.compressed).await.unwrap();
    let path = format!("/v1/infer/{key_id}");

    let message = refused(400, "bad_input", post_raw(url, &path, b"garbage".to_vec()).await);
    assert!(message.contains("malformed encrypted input"), "{message}");
    let mut tampered = input.to_bytes();
    let at = tampered.len() - 100;
    tampered[at] ^= 0x40;
    let message = refused(400, "bad_input", post_raw(url, &path, tampered).await);
    assert!(message.contains("tampered"), "{message}");
    let mut truncated = input.to_bytes();
    truncated.truncate(truncated.len() / 2);
    refused(400, "bad_input", post_raw(url, &path, truncated).await);
    // Another kind of object where an input belongs.
    let message = refused(400, "bad_input", post_raw(url, &path, other_key_pair().client.to_bytes()).await);
    assert!(message.contains("expected encrypted input"), "{message}");
    let (status, body) = declare_only(url, &path, 70_000).await;
    assert_eq!((status, body["error"].as_str()), (413, Some("too_large")), "{body}");
    assert!(body["message"].as_str().unwrap().contains("65536"), "{body}");

    // Well-formed, but for another model, or under another key.
    let other_model = QuantizedModel::random(7, 32, 16, 2);
    let for_other = encrypted(keys, &other_model, confident_pixels());
    let message = refused(422, "wrong_model", post_raw(url, &path, for_other.to_bytes()).await);
    assert!(message.contains(&other_model.model_id) && message.contains(&model().model_id), "{message}");
    let stranger = encrypted(other_key_pair(), model(), confident_pixels());
    let message = refused(422, "wrong_key", post_raw(url, &path, stranger.to_bytes()).await);
    assert!(message.contains(&other_key_pair().compressed.key_id_hex()), "{message}");

    // The client maps refusals to typed errors carrying the worker's message; an unknown key it
    // never registered is not retried.
    let stranger_id = other_key_pair().compressed.key_id_hex();
    match client.infer(&stranger_id, &stranger).await {
        Err(ClientError::Refused { status: 404, code, message, .. }) => {
            assert_eq!(code, "unknown_key");
            assert!(message.contains(&stranger_id), "{message}");
        }
        other => panic!("expected a 404 refusal, got {other:?}"),
    }

    let text = server.metrics().await;
    assert_eq!(metric(&text, "crypdoc_inference_requests_total{route=\"infer\",outcome=\"bad_input\"}"), 4.0);
    assert_eq!(metric(&text, "crypdoc_inference_requests_total{route=\"infer\",outcome=\"too_large\"}"), 1.0);
    assert_eq!(
        metric(&text, "crypdoc_inference_requests_total{route=\"infer\",outcome=\"unknown_key\"}"),
        1.0
    );
    // None of these reached an evaluation.
    assert_eq!(metric(&text, "crypdoc_inference_evaluation_seconds_count"), 0.0);
    server.stop().await;
}

/// With room for one key, registering a second evicts the first; the client that registered the
/// first gets a 404 on its next inference, registers again and retries, transparently.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evicted_keys_are_registered_again_by_the_client() {
    let config = WorkerConfig { max_keys: 1, ..WorkerConfig::default() };
    let server = Running::start(config, vec![model().clone()], None).await;
    let client = WorkerClient::new(&server.url).unwrap();
    let keys = key_pair();
    client.register(&keys.compressed).await.unwrap();
    let other = WorkerClient::new(&server.url).unwrap();
    other.register(&other_key_pair().compressed).await.unwrap();
    assert!(!client.is_registered(&keys.compressed.key_id_hex()).await.unwrap(), "evicted");

    let input = encrypted(keys, model(), confident_pixels());
    let logits = client.infer(&keys.compressed.key_id_hex(), &input).await.unwrap();
    assert_reference(&logits);

    let text = server.metrics().await;
    assert_eq!(metric(&text, "crypdoc_inference_key_evictions_total"), 2.0);
    assert_eq!(
        metric(&text, "crypdoc_inference_requests_total{route=\"infer\",outcome=\"unknown_key\"}"),
        1.0
    );
    assert_eq!(metric(&text, "crypdoc_inference_requests_total{route=\"infer\",outcome=\"ok\"}"), 1.0);
    assert_eq!(metric(&text, "crypdoc_inference_registered_keys"), 1.0);
    server.stop().await;
}

/// One evaluation slot and no queue: a second request while one runs is refused with 503 and
/// Retry-After. Then shutdown is requested while the first still runs: it completes, the server
/// returns, and new connections are refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_queue_is_refused_and_shutdown_finishes_in_flight_work() {
    // A wider model, so that the evaluation lasts long enough to act during it (~1 s).
    let wide = QuantizedModel::random(5, 32, 64, 2);
    let config = WorkerConfig { eval_concurrency: 1, queue_capacity: 0, ..WorkerConfig::default() };
    let server = Running::start(config, vec![wide.clone()], None).await;
    let keys = key_pair();
    let key_id = keys.compressed.key_id_hex();
    let client = WorkerClient::new(&server.url).unwrap();
    client.register(&keys.compressed).await.unwrap();
    let pixels = crypdoc_model::pseudo_random_pixels(3, wide.input_len(), 16);
    let input = encrypted(keys, &wide, &pixels);

    let url = server.url.clone();
    let body = input.to_bytes();
    let first = tokio::spawn(async move {
        let response =
            reqwest::Client::new().post(format!("{url}/v1/infer/{key_id}")).body(body).send().await?;
        let status = response.status();
        response.bytes().await.map(|b| (status, b))
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    while server.worker.metrics().in_flight() == 0 {
        assert!(Instant::now() < deadline, "the first evaluation never started");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let (status, body, headers) =
        post_raw(&server.url, &format!("/v1/infer/{}", keys.compressed.key_id_hex()), input.to_bytes()).await;
    assert_eq!((status, body["error"].as_str()), (503, Some("queue_full")), "{body}");
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1, "{retry_after}");
    match client.infer(&keys.compressed.key_id_hex(), &input).await {
        Err(ClientError::Refused { status: 503, retry_after_s: Some(_), .. }) => {}
        other => panic!("expected a 503 refusal, got {other:?}"),
    }

    let worker = server.worker.clone();
    let url = server.url.clone();
    let in_flight_at_shutdown = worker.metrics().in_flight();
    let stopping = tokio::spawn(server.stop());
    assert_eq!(in_flight_at_shutdown, 1, "the first evaluation ended before shutdown was requested");
    let (status, bytes) = first.await.unwrap().unwrap();
    assert_eq!(status, 200);
    let logits = crypdoc_fhe::EncryptedLogits::from_bytes(&bytes).unwrap();
    let got = keys.client.decrypt(&wide, &logits).unwrap();
    assert_eq!(got.logits.len(), 2);
    stopping.await.unwrap();
    assert!(reqwest::get(format!("{url}/healthz")).await.is_err(), "the listener is closed");
    assert_eq!(worker.metrics().requests("infer", "queue_full"), 2);
    assert_eq!(worker.metrics().requests("infer", "ok"), 1);
}
