//! `crypdoc reputation show`: an account's non-transferable reputation.

use clap::Subcommand;
use serde_json::json;

use crate::{args::GlobalArgs, commands::account::resolve_address, output::emit};

#[derive(Debug, Subcommand)]
pub(crate) enum ReputationCommand {
    /// Reputation and withdrawable credit of an account.
    Show {
        /// Address or account name; defaults to --account.
        who: Option<String>,
    },
}

impl ReputationCommand {
    pub(crate) async fn run(self, global: &GlobalArgs) -> anyhow::Result<()> {
        let Self::Show { who } = self;
        let who = match who {
            Some(who) => who,
            None => global.account_name()?.to_owned(),
        };
        let address = resolve_address(global, &who)?;
        // Reads need no signature: a throwaway key keeps the password prompt away.
        let client = global.connect_as(alloy::signers::local::PrivateKeySigner::random()).await?;
        let reputation = client.reputation_of(address).await?;
        let credit = match client.deployment().stablecoin {
            Some(token) => Some((client.credit_of(address, token).await?, client.token_info(token).await?)),
            None => None,
        };
        emit(
            global.json,
            &json!({ "address": address, "reputation": reputation.to_string(), "credit": credit.as_ref().map(|(c, _)| c.to_string()) }),
            || {
                let credit =
                    credit.map(|(c, token)| format!(", {} to withdraw", token.format(c))).unwrap_or_default();
                format!("{who} ({address}): reputation {reputation}{credit}")
            },
        );
        Ok(())
    }
}
