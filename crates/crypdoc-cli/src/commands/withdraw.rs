//! `crypdoc withdraw`: pull every credited payout of one token.

use alloy::primitives::Address;
use clap::Args;
use serde_json::json;

use crate::{args::GlobalArgs, output::emit};

#[derive(Debug, Args)]
pub(crate) struct WithdrawArgs {
    /// Token to withdraw; defaults to the deployment's stablecoin.
    #[arg(long)]
    token: Option<Address>,
}

impl WithdrawArgs {
    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        let client = global.connect().await?;
        let token = client.token(self.token)?;
        let info = client.token_info(token).await?;
        let (amount, tx) = client.withdraw(token).await?;
        emit(
            global.json,
            &json!({ "account": client.address(), "token": token, "amount": amount.to_string(), "tx": tx }),
            || format!("withdrew {} to {} (tx {tx})", info.format(amount), client.address()),
        );
        Ok(())
    }
}
