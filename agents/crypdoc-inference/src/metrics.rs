//! Counters and gauges, rendered in the Prometheus text format (version 0.0.4) by hand.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

/// The worker's counters and gauges.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
    queued: AtomicUsize,
    in_flight: AtomicUsize,
    /// Evaluation time in microseconds, summed.
    eval_micros: AtomicU64,
    evals: AtomicU64,
    expansions: AtomicU64,
    evictions: AtomicU64,
}

/// Decrements a gauge when dropped, so that a cancelled request cannot leave it high.
#[derive(Debug)]
pub(crate) struct GaugeGuard<'a>(&'a AtomicUsize);

impl Drop for GaugeGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Metrics {
    /// Counts one finished request of `route` with `outcome` (`ok` or an [`crate::ApiError`]
    /// code).
    pub(crate) fn request(&self, route: &'static str, outcome: &'static str) {
        let mut requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *requests.entry((route, outcome)).or_default() += 1;
    }

    /// Requests of `route` that ended with `outcome` so far.
    pub fn requests(&self, route: &str, outcome: &str) -> u64 {
        let requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        requests.iter().filter(|((r, o), _)| *r == route && *o == outcome).map(|(_, n)| n).sum()
    }

    pub(crate) fn enter_queue(&self) -> GaugeGuard<'_> {
        self.queued.fetch_add(1, Ordering::SeqCst);
        GaugeGuard(&self.queued)
    }

    pub(crate) fn enter_evaluation(&self) -> GaugeGuard<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        GaugeGuard(&self.in_flight)
    }

    /// Requests waiting for an evaluation slot.
    pub fn queue_depth(&self) -> usize {
        self.queued.load(Ordering::SeqCst)
    }

    /// Evaluations running.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub(crate) fn evaluated(&self, seconds: f64) {
        self.eval_micros.fetch_add((seconds * 1e6) as u64, Ordering::SeqCst);
        self.evals.fetch_add(1, Ordering::SeqCst);
    }

    /// The mean evaluation time so far, if any evaluation finished.
    pub fn mean_evaluation_seconds(&self) -> Option<f64> {
        let n = self.evals.load(Ordering::SeqCst);
        (n > 0).then(|| self.eval_micros.load(Ordering::SeqCst) as f64 / 1e6 / n as f64)
    }

    pub(crate) fn expanded(&self) {
        self.expansions.fetch_add(1, Ordering::SeqCst);
    }

    pub(crate) fn evicted(&self, n: usize) {
        self.evictions.fetch_add(n as u64, Ordering::SeqCst);
    }

    /// The Prometheus text exposition of every metric; `keys` and `key_bytes` describe the key
    /// registry at this moment.
    pub(crate) fn render(&self, keys: usize, key_bytes: usize) -> String {
        let mut out = String::from(
            "# HELP crypdoc_inference_requests_total Finished requests by route and outcome (ok or the error code).\n\
             # TYPE crypdoc_inference_requests_total counter\n",
        );
        let requests = self.requests.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        for ((route, outcome), n) in &requests {
            let _ = writeln!(
                out,
                "crypdoc_inference_requests_total{{route=\"{route}\",outcome=\"{outcome}\"}} {n}"
            );
        }
        let gauges = [
            (
                "queue_depth",
                "gauge",
                "Inference requests waiting for an evaluation slot.",
                self.queue_depth().to_string(),
            ),
            ("in_flight", "gauge", "Evaluations running.", self.in_flight().to_string()),
            ("registered_keys", "gauge", "Expanded server keys held in memory.", keys.to_string()),
            (
                "registered_key_bytes",
                "gauge",
                "Bytes of the expanded server keys held.",
                key_bytes.to_string(),
            ),
            (
                "key_expansions_total",
                "counter",
                "Server keys expanded.",
                self.expansions.load(Ordering::SeqCst).to_string(),
            ),
            (
                "key_evictions_total",
                "counter",
                "Least recently used keys evicted to make room.",
                self.evictions.load(Ordering::SeqCst).to_string(),
            ),
        ];
        for (name, kind, help, value) in gauges {
            let _ = writeln!(out, "# HELP crypdoc_inference_{name} {help}\n# TYPE crypdoc_inference_{name} {kind}\ncrypdoc_inference_{name} {value}");
        }
        let _ = writeln!(
            out,
            "# HELP crypdoc_inference_evaluation_seconds Time spent evaluating the model on encrypted inputs.\n\
             # TYPE crypdoc_inference_evaluation_seconds summary\n\
             crypdoc_inference_evaluation_seconds_sum {}\n\
             crypdoc_inference_evaluation_seconds_count {}",
            self.eval_micros.load(Ordering::SeqCst) as f64 / 1e6,
            self.evals.load(Ordering::SeqCst)
        );
        out
    }
}
