//! `crypdoc`: the CrypDoc command line.

use clap::Parser;

mod args;
mod commands;
mod context;
mod output;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = args::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("CRYPDOC_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(if cli.global.verbose {
                "info"
            } else {
                "warn,alloy_rpc_client::poller=off"
            })
        }))
        .with_writer(std::io::stderr)
        .init();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // One line that says what to do; the chain of causes only when it adds something.
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
