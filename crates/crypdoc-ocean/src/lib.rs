//! CrypDoc datasets on Ocean Protocol v4.
//!
//! When a task is finalized, the hospital node adds one anonymised record (month of the final
//! diagnosis, diagnosis, code set) to a [`DatasetLedger`]. When every (month, diagnosis) group of
//! a month holds at least `k` records, the ledger yields a [`Release`]: a new version of one file
//! in CSV and JSON. The node publishes it with a [`Publisher`] as an Ocean asset (one data NFT,
//! datatoken and fixed-rate exchange per dataset, and a DDO v4.1.0 whose `files` are sealed to
//! the node), and serves it as the asset's Provider through [`provider_router`], the subset of
//! ocean-node's HTTP API that ocean.js uses. Researchers buy, order and download with ocean.js or
//! with [`Researcher`].
//!
//! - [`artifacts`]: bindings and bytecode of Ocean's published contracts (npm
//!   `@oceanprotocol/contracts`, unchanged).
//! - [`deploy`]: deploying them on a dev chain; Ocean's address file.
//! - [`ledger`]: records, k-anonymity, releases.
//! - [`ddo`], [`did`]: the DDO v4.1.0 document, its validation, the DID rule.
//! - [`files`]: the sealed files object and where the Provider gets file bytes.
//! - [`publish`]: creating the dataset and publishing releases.
//! - [`catalog`]: datasets as the chain records them (the Provider's and the researcher's index).
//! - [`signing`]: request signatures and provider fees.
//! - [`provider`]: the Provider routes.
//! - [`researcher`]: list, buy, order, download.
//!
//! Logs go to the tracing target `crypdoc::ocean`.

pub mod artifacts;
pub mod catalog;
pub mod ddo;
pub mod deploy;
pub mod did;
pub mod error;
pub mod files;
pub mod ledger;
pub mod provider;
pub mod publish;
pub mod researcher;
mod serde_fmt;
pub mod signing;

pub use catalog::Catalog;
pub use ddo::{Asset, Ddo};
pub use deploy::{deploy_ocean, OceanAddresses};
pub use error::ChainError;
pub use files::{DatasetFile, FilesKey, LedgerSource, MemorySource, ReleaseSource};
pub use ledger::{DatasetLedger, Month, Record, Release, DEFAULT_K};
pub use provider::{provider_router, ApiError, ProviderState};
pub use publish::{DatasetConfig, DatasetHandle, PublishError, Published, Publisher};
pub use researcher::{Researcher, ResearcherError};
