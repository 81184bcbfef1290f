//! The worker's limits.

/// How much the worker accepts and keeps.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Expanded server keys kept in memory (about 120 MB each); registering one more evicts the
    /// least recently used.
    pub max_keys: usize,
    /// Evaluations running at once.
    pub eval_concurrency: usize,
    /// Evaluations waiting for a slot; one more is refused with `503` and `Retry-After`.
    pub queue_capacity: usize,
    /// Largest server key upload in bytes (a key is 30.1 MB with the standard parameters).
    pub max_key_bytes: usize,
    /// Largest encrypted input in bytes (8,481 B for a 32x32 scan).
    pub max_input_bytes: usize,
}

/// Default [`WorkerConfig::max_key_bytes`]: 40 MiB, a third above the 30.1 MB of a server key.
pub const DEFAULT_MAX_KEY_BYTES: usize = 40 << 20;
/// Default [`WorkerConfig::max_input_bytes`]: 64 KiB, room for a 64x64 scan (33 KB).
pub const DEFAULT_MAX_INPUT_BYTES: usize = 64 << 10;

impl WorkerConfig {
    /// The default evaluation concurrency: a quarter of the cores, at least one. Each evaluation
    /// already spreads its bootstraps (one per hidden unit) over every core, so more concurrent
    /// evaluations add latency to each without adding throughput; a few help to fill the cores
    /// a single evaluation's last round leaves idle.
    pub fn default_eval_concurrency() -> usize {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        (cores / 4).max(1)
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            max_keys: 8,
            eval_concurrency: Self::default_eval_concurrency(),
            queue_capacity: 16,
            max_key_bytes: DEFAULT_MAX_KEY_BYTES,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}
