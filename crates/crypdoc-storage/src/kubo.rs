//! A small client for the Kubo RPC API (`/api/v0`), also spoken by js-ipfs.
//!
//! Why not the `ipfs-api` crate: 0.17 (backend-hyper 0.6) does not resolve because its `core2`
//! dependency is yanked, and 0.16 (hyper 0.14) rejects js-ipfs's numeric `Size` in `add`
//! responses, so it cannot talk to the js-ipfs node the tests run. Five endpoints over `reqwest`
//! (rustls, no default features) need less code than working around either, give one client for
//! both nodes, and keep a single current HTTP stack in the workspace.

use crate::{
    cid::Cid,
    error::StorageError,
    store::{BlobStore, TARGET},
    unixfs::{DagBuilder, NoSink, CHUNK_SIZE},
};
use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, TryStreamExt};
use reqwest::{multipart, StatusCode};
use serde::Deserialize;
use std::{
    future::Future,
    path::Path,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::io::AsyncWriteExt;

/// Timeouts, retries and checks of a [`KuboClient`].
#[derive(Debug, Clone)]
pub struct KuboConfig {
    /// Limit on establishing a TCP (and TLS) connection.
    pub connect_timeout: Duration,
    /// Limit on a whole small request (`id`, `version`, `block/stat`, `pin/add` of present data).
    pub request_timeout: Duration,
    /// Limit on a pause in a streamed upload or download: large blobs have no total limit.
    pub idle_timeout: Duration,
    /// How long the node may look for content it does not have, passed as the `timeout`
    /// argument. Without it js-ipfs hangs forever on a missing CID when offline.
    pub content_timeout: Duration,
    /// How long `has` lets the node look for a block before answering "absent".
    pub has_timeout: Duration,
    /// Retries after a connection failure, a timeout or a 429/502/503/504; errors the node
    /// reports about the request itself are not retried.
    pub retries: u32,
    /// Delay before the first retry, doubled for each further one (at most 8 s).
    pub backoff: Duration,
    /// Recompute the CID of everything added and read and fail on a mismatch. Turn off only to
    /// read content added with another layout (e.g. CIDv0), which this client cannot recompute.
    pub verify: bool,
}

impl Default for KuboConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(60),
            content_timeout: Duration::from_secs(30),
            has_timeout: Duration::from_secs(1),
            retries: 3,
            backoff: Duration::from_millis(250),
            verify: true,
        }
    }
}

/// What `id` and `version` report about the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// The node's peer ID.
    pub peer_id: String,
    /// E.g. `kubo/0.29.0/` or `js-ipfs/0.18.1`.
    pub agent_version: String,
    /// The `version` endpoint's `Version`.
    pub version: String,
}

/// A client of one IPFS node's RPC API; cheap to clone.
///
/// `put` and `put_file` pin what they add (Kubo's default for `add`), so the node's garbage
/// collector keeps it without a separate `pin`.
#[derive(Debug, Clone)]
pub struct KuboClient {
    http: reqwest::Client,
    /// `http(s)://host:port/api/v0`, without a trailing slash.
    base: Arc<str>,
    config: Arc<KuboConfig>,
}

impl KuboClient {
    /// A client of the node at `api`: an HTTP(S) URL (`http://127.0.0.1:5001`, with or without
    /// `/api/v0`) or the multiaddr a node writes to its repo's `api` file
    /// (`/ip4/127.0.0.1/tcp/5001`).
    pub fn new(api: &str, config: KuboConfig) -> Result<Self, StorageError> {
        let base = api_base_url(api)?;
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.idle_timeout)
            .build()
            .map_err(|source| StorageError::Http { endpoint: "client", source })?;
        Ok(Self { http, base: base.into(), config: Arc::new(config) })
    }

    /// The API base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// The node's identity and version (`id` and `version`); a cheap liveness check.
    pub async fn node_info(&self) -> Result<NodeInfo, StorageError> {
        #[derive(Deserialize)]
        struct Id {
            #[serde(rename = "ID")]
            id: String,
            #[serde(rename = "AgentVersion", default)]
            agent_version: String,
        }
        #[derive(Deserialize)]
        struct Version {
            #[serde(rename = "Version")]
            version: String,
        }
        let id: Id = self.small_json("id", &[]).await?;
        let version: Version = self.small_json("version", &[]).await?;
        Ok(NodeInfo { peer_id: id.id, agent_version: id.agent_version, version: version.version })
    }

    fn add_query() -> Vec<(&'static str, String)> {
        [
            ("cid-version", "1"),
            ("raw-leaves", "true"),
            ("chunker", "size-262144"),
            // js-ipfs prints CIDv1 in base58 unless told otherwise; Kubo already uses base32.
            ("cid-base", "base32"),
            ("progress", "false"),
            ("pin", "true"),
        ]
        .into_iter()
        .map(|(k, v)| (k, v.to_owned()))
        .collect()
    }

    async fn add(&self, form: multipart::Form) -> Result<Cid, StorageError> {
        let response = self.post("add", &Self::add_query(), Some(form), None).await?;
        let body = response.bytes().await.map_err(|source| StorageError::Http { endpoint: "add", source })?;
        parse_add_response(&body)
    }

    async fn get_streaming<F>(&self, cid: &Cid, mut on_chunk: F) -> Result<u64, StorageError>
    where
        F: FnMut(Bytes) -> Result<(), StorageError> + Send,
    {
        let query = [("arg", cid.to_string()), ("timeout", millis(self.config.content_timeout))];
        let response = self.post("cat", &query, None, None).await.map_err(|e| not_found(e, cid))?;
        let mut check = self.config.verify.then(|| DagBuilder::new(NoSink));
        let mut stream = response.bytes_stream();
        let mut len = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|source| StorageError::Http { endpoint: "cat", source })?;
            len += chunk.len() as u64;
            if let Some(check) = &mut check {
                check.update(&chunk)?;
            }
            on_chunk(chunk)?;
        }
        if let Some(check) = check {
            let (actual, _) = check.finish()?;
            if actual != *cid {
                return Err(StorageError::CidMismatch { expected: *cid, actual });
            }
        }
        Ok(len)
    }

    async fn small_json<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &'static str,
        query: &[(&'static str, String)],
    ) -> Result<T, StorageError> {
        let body = self
            .retrying(endpoint, || async {
                let response = self.post(endpoint, query, None, Some(self.config.request_timeout)).await?;
                response.bytes().await.map_err(|source| StorageError::Http { endpoint, source })
            })
            .await?;
        serde_json::from_slice(&body).map_err(|e| StorageError::UnexpectedResponse {
            endpoint,
            detail: format!("{e}: {}", String::from_utf8_lossy(&body)),
        })
    }

    /// One POST (the RPC API takes nothing else), not retried: callers wrap the whole exchange,
    /// body included, in [`Self::retrying`], because a half-read response cannot be resumed.
    async fn post(
        &self,
        endpoint: &'static str,
        query: &[(&'static str, String)],
        form: Option<multipart::Form>,
        timeout: Option<Duration>,
    ) -> Result<reqwest::Response, StorageError> {
        let mut request = self.http.post(format!("{}/{endpoint}", self.base)).query(query);
        if let Some(form) = form {
            request = request.multipart(form);
        }
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        let response = request.send().await.map_err(|source| StorageError::Http { endpoint, source })?;
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.bytes().await.unwrap_or_default();
        #[derive(Deserialize)]
        struct RpcError {
            #[serde(rename = "Message")]
            message: String,
        }
        let message = serde_json::from_slice::<RpcError>(&body)
            .map(|e| e.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
        Err(StorageError::Rpc { endpoint, status: status.as_u16(), message })
    }

    async fn retrying<T, F, Fut>(&self, endpoint: &'static str, mut attempt: F) -> Result<T, StorageError>
    where
        F: FnMut() -> Fut + Send,
        Fut: Future<Output = Result<T, StorageError>> + Send,
    {
        let mut delay = self.config.backoff;
        let mut retries_left = self.config.retries;
        loop {
            match attempt().await {
                Err(e) if retries_left > 0 && is_transient(&e) => {
                    tracing::warn!(target: TARGET, endpoint, error = %e, ?delay, "IPFS RPC failed, retrying");
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(8));
                    retries_left -= 1;
                }
                other => return other,
            }
        }
    }
}

/// One JSON object per line; the last one is the file. `Size` is a string in Kubo and a number in
/// js-ipfs, so it is not parsed at all.
fn parse_add_response(body: &[u8]) -> Result<Cid, StorageError> {
    #[derive(Deserialize)]
    struct Added {
        #[serde(rename = "Hash")]
        hash: Option<String>,
    }
    let unexpected = |detail: String| StorageError::UnexpectedResponse { endpoint: "add", detail };
    let mut last = None;
    for line in body.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)) {
        let added: Added = serde_json::from_slice(line)
            .map_err(|e| unexpected(format!("{e}: {}", String::from_utf8_lossy(line))))?;
        if let Some(hash) = added.hash {
            last = Some(hash);
        }
    }
    last.ok_or_else(|| unexpected("no Hash in response".into()))?.parse()
}

fn is_transient(error: &StorageError) -> bool {
    match error {
        StorageError::Http { source, .. } => {
            source.is_connect() || source.is_timeout() || source.is_request() || source.is_body()
        }
        StorageError::Rpc { status, .. } => matches!(
            StatusCode::from_u16(*status),
            Ok(StatusCode::TOO_MANY_REQUESTS
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT)
        ),
        _ => false,
    }
}

/// Kubo says "not found" for content it cannot find; js-ipfs only times out looking for it.
fn is_absent(error: &StorageError) -> bool {
    match error {
        StorageError::Rpc { message, .. } => {
            let message = message.to_ascii_lowercase();
            message.contains("not found") || message.contains("timed out") || message.contains("timeout")
        }
        _ => false,
    }
}

fn not_found(error: StorageError, cid: &Cid) -> StorageError {
    if is_absent(&error) {
        StorageError::NotFound(*cid)
    } else {
        error
    }
}

fn millis(duration: Duration) -> String {
    format!("{}ms", duration.as_millis().max(1))
}

fn api_base_url(api: &str) -> Result<String, StorageError> {
    let invalid =
        |reason: &str| StorageError::InvalidApiUrl { url: api.to_owned(), reason: reason.to_owned() };
    let api = api.trim();
    let origin = if let Some(rest) = api.strip_prefix('/') {
        // A multiaddr such as /ip4/127.0.0.1/tcp/5001/http.
        let parts: Vec<&str> = rest.split('/').collect();
        match parts.as_slice() {
            [proto @ ("ip4" | "ip6" | "dns" | "dns4" | "dns6"), host, "tcp", port, tail @ ..] => {
                let scheme = if tail.first() == Some(&"https") { "https" } else { "http" };
                let host = if *proto == "ip6" { format!("[{host}]") } else { (*host).to_owned() };
                port.parse::<u16>().map_err(|_| invalid("bad TCP port"))?;
                format!("{scheme}://{host}:{port}")
            }
            _ => return Err(invalid("unsupported multiaddr, expected /ip4|ip6|dns/HOST/tcp/PORT")),
        }
    } else if api.starts_with("http://") || api.starts_with("https://") {
        let trimmed = api.trim_end_matches('/');
        trimmed.strip_suffix("/api/v0").unwrap_or(trimmed).to_owned()
    } else {
        return Err(invalid("expected an http(s) URL or a multiaddr"));
    };
    let url = format!("{origin}/api/v0");
    reqwest::Url::parse(&url).map_err(|e| invalid(&e.to_string()))?;
    Ok(url)
}

impl BlobStore for KuboClient {
    async fn put(&self, data: Bytes) -> Result<Cid, StorageError> {
        let expected = self.config.verify.then(|| crate::unixfs::compute_cid(&data));
        let len = data.len();
        let cid = self
            .retrying("add", || {
                let part = multipart::Part::stream_with_length(data.clone(), len as u64)
                    .file_name("blob")
                    .mime_str("application/octet-stream")
                    .expect("static MIME type is valid");
                self.add(multipart::Form::new().part("file", part))
            })
            .await?;
        if let Some(expected) = expected.filter(|e| *e != cid) {
            return Err(StorageError::CidMismatch { expected, actual: cid });
        }
        tracing::debug!(target: TARGET, %cid, len, "added to IPFS node");
        Ok(cid)
    }

    async fn put_file(&self, path: &Path) -> Result<Cid, StorageError> {
        // The CID is computed from the bytes as they are sent, so a file changing underneath
        // cannot leave us trusting a CID for content we did not upload.
        let check: Arc<Mutex<Option<DagBuilder<NoSink>>>> = Arc::new(Mutex::new(None));
        let cid = self
            .retrying("add", || async {
                let file =
                    tokio::fs::File::open(path).await.map_err(|e| StorageError::io("opening", path, e))?;
                let len = file.metadata().await.map_err(|e| StorageError::io("reading", path, e))?.len();
                *check.lock().expect("not poisoned") = self.config.verify.then(|| DagBuilder::new(NoSink));
                let tap = Arc::clone(&check);
                let stream =
                    tokio_util::io::ReaderStream::with_capacity(file, CHUNK_SIZE).inspect_ok(move |chunk| {
                        if let Some(builder) = tap.lock().expect("not poisoned").as_mut() {
                            builder.update(chunk).expect("NoSink cannot fail");
                        }
                    });
                let part = multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), len)
                    .file_name("blob")
                    .mime_str("application/octet-stream")
                    .expect("static MIME type is valid");
                self.add(multipart::Form::new().part("file", part)).await
            })
            .await?;
        let builder = check.lock().expect("not poisoned").take();
        if let Some(builder) = builder {
            let (expected, _) = builder.finish()?;
            if expected != cid {
                return Err(StorageError::CidMismatch { expected, actual: cid });
            }
        }
        tracing::debug!(target: TARGET, %cid, path = %path.display(), "added file to IPFS node");
        Ok(cid)
    }

    async fn get(&self, cid: &Cid) -> Result<Bytes, StorageError> {
        self.retrying("cat", || async {
            let mut buf = BytesMut::new();
            self.get_streaming(cid, |chunk| {
                buf.extend_from_slice(&chunk);
                Ok(())
            })
            .await?;
            Ok(buf.freeze())
        })
        .await
    }

    async fn get_to_file(&self, cid: &Cid, path: &Path) -> Result<u64, StorageError> {
        self.retrying("cat", || async {
            let mut tmp = crypdoc_fs::AtomicFile::create(path, crypdoc_fs::Access::Shared)
                .map_err(|e| StorageError::io("creating a temporary file for", path, e))?;
            let std_file = tmp.file_mut().try_clone().map_err(|e| StorageError::io("opening", path, e))?;
            let mut file =
                tokio::io::BufWriter::with_capacity(CHUNK_SIZE, tokio::fs::File::from_std(std_file));
            let query = [("arg", cid.to_string()), ("timeout", millis(self.config.content_timeout))];
            let response = self.post("cat", &query, None, None).await.map_err(|e| not_found(e, cid))?;
            let mut check = self.config.verify.then(|| DagBuilder::new(NoSink));
            let mut stream = response.bytes_stream();
            let mut written = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|source| StorageError::Http { endpoint: "cat", source })?;
                if let Some(check) = &mut check {
                    check.update(&chunk)?;
                }
                file.write_all(&chunk).await.map_err(|e| StorageError::io("writing", path, e))?;
                written += chunk.len() as u64;
            }
            if let Some(check) = check {
                let (actual, _) = check.finish()?;
                if actual != *cid {
                    return Err(StorageError::CidMismatch { expected: *cid, actual });
                }
            }
            file.flush().await.map_err(|e| StorageError::io("writing", path, e))?;
            drop(file);
            tokio::task::spawn_blocking(move || tmp.commit())
                .await?
                .map_err(|e| StorageError::io("renaming into", path, e))?;
            Ok(written)
        })
        .await
    }

    async fn pin(&self, cid: &Cid) -> Result<(), StorageError> {
        let query = [
            ("arg", cid.to_string()),
            ("recursive", "true".to_owned()),
            ("timeout", millis(self.config.content_timeout)),
        ];
        self.retrying("pin/add", || self.post("pin/add", &query, None, None))
            .await
            .map_err(|e| not_found(e, cid))?;
        tracing::debug!(target: TARGET, %cid, "pinned on IPFS node");
        Ok(())
    }

    async fn has(&self, cid: &Cid) -> Result<bool, StorageError> {
        let query = [
            ("arg", cid.to_string()),
            // Kubo answers at once from its blockstore; js-ipfs ignores this and waits for the
            // timeout.
            ("offline", "true".to_owned()),
            ("timeout", millis(self.config.has_timeout)),
        ];
        let timeout = Some(self.config.request_timeout);
        match self.retrying("block/stat", || self.post("block/stat", &query, None, timeout)).await {
            Ok(_) => Ok(true),
            Err(e) if is_absent(&e) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_urls_and_multiaddrs() {
        let base = |s| api_base_url(s).unwrap();
        assert_eq!(base("http://127.0.0.1:5001"), "http://127.0.0.1:5001/api/v0");
        assert_eq!(base("http://127.0.0.1:5001/api/v0/"), "http://127.0.0.1:5001/api/v0");
        assert_eq!(base("/ip4/127.0.0.1/tcp/45123/http"), "http://127.0.0.1:45123/api/v0");
        assert_eq!(base("/ip6/::1/tcp/5001"), "http://[::1]:5001/api/v0");
        assert_eq!(base("/dns4/ipfs.example/tcp/443/https"), "https://ipfs.example:443/api/v0");
        assert!(api_base_url("127.0.0.1:5001").is_err());
        assert!(api_base_url("/ip4/127.0.0.1/udp/5001").is_err());
        assert!(api_base_url("/ip4/127.0.0.1/tcp/99999").is_err());
    }

    #[test]
    fn add_responses_of_kubo_and_js_ipfs() {
        let hello = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
        let kubo = format!("{{\"Name\":\"blob\",\"Hash\":\"{hello}\",\"Size\":\"6\"}}\n");
        let js =
            "{\"Name\":\"blob\",\"Hash\":\"zb2rhcc1wJn2GHDLT2YkmPq5b69cXc2xfRZZmyufbjFUfBkxr\",\"Size\":6}\n";
        assert_eq!(parse_add_response(kubo.as_bytes()).unwrap().to_string(), hello);
        assert_eq!(parse_add_response(js.as_bytes()).unwrap().to_string(), hello);
        assert!(parse_add_response(b"").is_err());
        assert!(parse_add_response(b"<html>").is_err());
    }

    /// Answers each connection with the next canned response, then closes it; returns how many
    /// connections it served.
    async fn fake_node(responses: Vec<&'static str>) -> (String, tokio::task::JoinHandle<usize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            let mut served = 0;
            for response in responses {
                let (mut socket, _) = listener.accept().await.unwrap();
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = socket.read(&mut buf).await.unwrap();
                    assert!(n > 0, "client closed before sending a request");
                    request.extend_from_slice(&buf[..n]);
                }
                socket.write_all(response.as_bytes()).await.unwrap();
                socket.shutdown().await.unwrap();
                served += 1;
            }
            served
        });
        (url, server)
    }

    fn fast_retries() -> KuboConfig {
        KuboConfig { backoff: Duration::from_millis(10), ..KuboConfig::default() }
    }

    #[tokio::test]
    async fn substituted_content_is_rejected() {
        let hello: Cid = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am".parse().unwrap();
        let lie = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhellO\n";
        let (url, server) = fake_node(vec![lie, lie]).await;
        let client = KuboClient::new(&url, fast_retries()).unwrap();
        assert!(matches!(client.get(&hello).await, Err(StorageError::CidMismatch { .. })));
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        assert!(matches!(client.get_to_file(&hello, &out).await, Err(StorageError::CidMismatch { .. })));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "nothing written");
        assert_eq!(server.await.unwrap(), 2, "a mismatch is not retried");
    }

    #[tokio::test]
    async fn transient_failures_are_retried_and_request_errors_are_not() {
        let busy = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let ok = "HTTP/1.1 200 OK\r\nContent-Length: 18\r\nConnection: close\r\n\r\n{\"Version\":\"0.29\"}";
        let (url, server) = fake_node(vec![busy, busy, ok]).await;
        let client = KuboClient::new(&url, fast_retries()).unwrap();
        #[derive(Debug, Deserialize)]
        struct Version {
            #[serde(rename = "Version")]
            version: String,
        }
        let version: Version = client.small_json("version", &[]).await.unwrap();
        assert_eq!(version.version, "0.29");
        assert_eq!(server.await.unwrap(), 3);

        let bad = "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 50\r\nConnection: close\r\n\r\n{\"Message\":\"invalid path\",\"Code\":0,\"Type\":\"error\"}";
        let (url, server) = fake_node(vec![bad]).await;
        let client = KuboClient::new(&url, fast_retries()).unwrap();
        let err = client.small_json::<Version>("version", &[]).await.unwrap_err();
        assert!(
            matches!(err, StorageError::Rpc { status: 500, ref message, .. } if message == "invalid path")
        );
        assert_eq!(server.await.unwrap(), 1);
    }

    #[tokio::test]
    async fn unreachable_node_fails_after_retries() {
        // Bind and drop to get a loopback port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = KuboConfig { retries: 2, ..fast_retries() };
        let client = KuboClient::new(&format!("http://127.0.0.1:{port}"), config).unwrap();
        let started = std::time::Instant::now();
        let err = client.node_info().await.unwrap_err();
        assert!(matches!(err, StorageError::Http { ref source, .. } if source.is_connect()), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(30), "two backoffs of 10 and 20 ms");
    }

    #[test]
    fn absent_content_messages_of_both_nodes() {
        let rpc = |m: &str| StorageError::Rpc { endpoint: "cat", status: 500, message: m.into() };
        assert!(is_absent(&rpc("Failed to cat file: request timed out")));
        assert!(is_absent(&rpc("block was not found locally (offline): ipld: could not find x")));
        assert!(!is_absent(&rpc("invalid path \"x\": selected encoding not supported")));
        assert!(!is_transient(&rpc("Failed to cat file: request timed out")));
        let busy = StorageError::Rpc { endpoint: "cat", status: 503, message: String::new() };
        assert!(is_transient(&busy));
    }
}
