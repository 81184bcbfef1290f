//! One module per command.

use clap::Subcommand;

use crate::args::Cli;

mod account;
mod dataset;
mod demo;
mod dev;
mod doctor;
mod encrypted;
mod hospital;
mod model;
mod reputation;
mod store;
mod task;
mod withdraw;

/// Every `crypdoc` command.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Local dev chain: start anvil and deploy, or stop it.
    #[command(subcommand)]
    Dev(dev::DevCommand),
    /// Encrypted JSON keystore accounts.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// Doctor actions: accreditation, encryption key, seats, votes, reading scans.
    #[command(subcommand)]
    Doctor(doctor::DoctorCommand),
    /// Hospital accreditation, and the hospital's agent node (releases scan keys to seated
    /// doctors, records outcomes).
    #[command(subcommand)]
    Hospital(hospital::HospitalCommand),
    /// Hospital and public task actions: post, list, show, release keys, finalize.
    #[command(subcommand)]
    Task(task::TaskCommand),
    /// Withdraw everything the market credited to the account.
    Withdraw(withdraw::WithdrawArgs),
    /// Show an account's reputation.
    #[command(subcommand)]
    Reputation(reputation::ReputationCommand),
    /// Content-addressed storage of ciphertexts (embedded store or an IPFS node).
    #[command(subcommand)]
    Store(store::StoreCommand),
    /// The tumor classifier: train, evaluate, predict (in plaintext, or on the encrypted scan with
    /// `--encrypted`).
    #[command(subcommand)]
    Model(model::ModelCommand),
    /// Run the whole lifecycle on a fresh dev chain.
    Demo(demo::DemoArgs),
    /// Researchers: the hospitals' anonymised diagnosis datasets on Ocean (list, buy, download).
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
}

pub(crate) async fn run(cli: Cli) -> anyhow::Result<()> {
    let global = cli.global;
    match cli.command {
        Command::Dev(cmd) => cmd.run(&global).await,
        Command::Account(cmd) => cmd.run(&global),
        Command::Doctor(cmd) => cmd.run(&global).await,
        Command::Hospital(cmd) => cmd.run(&global).await,
        Command::Task(cmd) => cmd.run(&global).await,
        Command::Withdraw(args) => args.run(&global).await,
        Command::Reputation(cmd) => cmd.run(&global).await,
        Command::Store(cmd) => cmd.run(&global).await,
        Command::Model(cmd) => cmd.run(&global).await,
        Command::Demo(args) => args.run(&global).await,
        Command::Dataset(cmd) => cmd.run(&global).await,
    }
}
