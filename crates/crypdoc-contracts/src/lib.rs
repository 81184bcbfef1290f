//! Alloy bindings to the CrypDoc contracts and the typed operations built on them.
//!
//! - [`bindings`]: `sol!` bindings generated from the Solidity interfaces in
//!   `contracts/src/interfaces`, with deployment bytecode taken from forge's artifacts.
//! - [`deploy`]: deploying and wiring the registry, the market (which creates its reputation
//!   token) and (on dev chains) a test stablecoin, and the [`Deployment`] file that records them.
//! - [`revert`]: custom errors decoded into typed values ([`Revert`]) whose messages say what to
//!   do.
//! - [`market`]: [`MarketClient`], every market operation with the checks a careful user makes
//!   before sending a transaction (balance, allowance, phase).

pub mod bindings;
pub mod deploy;
pub mod devnet;
pub mod market;
pub mod revert;

pub use deploy::{deploy_all, Deployment, DeploymentError};
pub use market::{
    format_amount, wallet_provider, MarketClient, MarketError, MarketLimits, RpcFailure, ServeRefusal,
    TaskView, TokenInfo, POSTING_LEAD_SECS,
};
pub use revert::{CallError, Revert};
