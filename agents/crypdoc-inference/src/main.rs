//! `crypdoc-inference`: the inference worker's binary.

use anyhow::Context as _;
use clap::Parser as _;
use crypdoc_inference::{shutdown_signal, Worker};
use crypdoc_model::QuantizedModel;
use crypdoc_storage::Store;

mod args;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args::Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("CRYPDOC_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let models = args
        .models
        .iter()
        .map(|path| {
            QuantizedModel::load(path).with_context(|| format!("cannot load model {}", path.display()))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = match (&args.ipfs_api, &args.store_dir) {
        (None, None) => None,
        (api, dir) => Some(
            Store::open(api.as_deref(), dir.as_deref().unwrap_or(std::path::Path::new(".")))
                .context("cannot open the store")?,
        ),
    };
    let worker = Worker::new(args.config(), models, store)?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    worker.serve(listener, shutdown_signal()).await.context("serving")?;
    Ok(())
}
