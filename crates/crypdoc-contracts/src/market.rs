//! [`MarketClient`]: every market operation, with the checks a careful user makes before
//! spending gas (chain id, deployed code, balances, allowances, phase), and errors that say what
//! to do next.

use alloy::{
    contract::{CallBuilder, CallDecoder},
    primitives::{keccak256, Address, Bytes, TxHash, Uint, B256, U256},
    providers::{DynProvider, Provider, ProviderBuilder},
    rpc::types::TransactionReceipt,
    signers::{local::PrivateKeySigner, Signer},
};
use crypdoc_types::{
    commitment, salt_from_signature, TaskSpec, TaskSpecError, VoteSalt, MAX_COMMIT_WINDOW_SECS,
};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tracing::debug;

use crate::{
    bindings::{
        IDiagnosisMarket::{
            self, IDiagnosisMarketErrors, IDiagnosisMarketInstance, Phase, Task, TaskParams, Vote,
        },
        IDoctorRegistry::{self, Credential, IDoctorRegistryInstance, Role},
        IReputationToken::{self, IReputationTokenInstance},
        IERC20,
    },
    deploy::Deployment,
    revert::{CallError, Revert},
};

/// Why an RPC endpoint could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RpcFailure {
    /// The endpoint is not a URL.
    #[error("not a URL")]
    InvalidUrl(#[source] url::ParseError),
    /// The request failed or the node answered with an error.
    #[error(transparent)]
    Transport(#[from] alloy::transports::TransportError),
    /// A sent transaction's receipt did not arrive.
    #[error(transparent)]
    Receipt(#[from] alloy::providers::PendingTransactionError),
    /// The node has no latest block.
    #[error("the node has no latest block")]
    NoLatestBlock,
}

/// A market operation that could not be done.
#[derive(Debug, thiserror::Error)]
pub enum MarketError {
    /// The RPC endpoint is unreachable or answered with an error.
    #[error("cannot reach the chain at {url} (is it running? `crypdoc dev up` starts one)")]
    Unreachable {
        /// The endpoint.
        url: String,
        /// Why (boxed: transport errors are large, and every result carries this type).
        #[source]
        source: Box<RpcFailure>,
    },
    /// The endpoint serves another chain than the deployment's.
    #[error("the RPC endpoint serves chain {actual} but the deployment is on chain {expected}: wrong --rpc-url or stale deployment file")]
    WrongChain {
        /// The deployment's chain.
        expected: u64,
        /// The endpoint's chain.
        actual: u64,
    },
    /// No code at the market address.
    #[error("no market contract at {0} on this chain: the deployment file is stale (the dev chain was restarted?); run `crypdoc dev up`")]
    NotDeployed(Address),
    /// The node's clock is so far ahead that the task's deadlines do not fit the contract's
    /// 40-bit timestamps.
    #[error(
        "the chain reports time {0}, beyond what task deadlines can hold: is the RPC endpoint a real node?"
    )]
    ChainTimeOutOfRange(u64),
    /// A contract call was refused (a decoded custom error) or did not go through.
    #[error(transparent)]
    Call(#[from] CallError),
    /// The account lacks tokens for a transfer.
    #[error("{account} holds {have} of token {token} but needs {need}: fund the account first")]
    InsufficientBalance {
        /// The account.
        account: Address,
        /// The token.
        token: Address,
        /// Its balance.
        have: U256,
        /// What is needed.
        need: U256,
    },
    /// The task parameters break a contract rule.
    #[error("invalid task")]
    InvalidTask(#[from] TaskSpecError),
    /// The task id is unknown.
    #[error("task {0} does not exist (see `crypdoc task list`)")]
    UnknownTask(U256),
    /// The wallet could not sign.
    #[error("the wallet could not sign")]
    Signing(#[from] alloy::signers::Error),
    /// No diagnosis matches the on-chain commitment with this wallet's salt.
    #[error("no diagnosis matches your commitment on task {0} with the salt this wallet derives: the vote was committed by another wallet or with another salt")]
    SaltNotRecovered(U256),
    /// The account never committed.
    #[error("you have no commitment on task {0}: nothing to reveal")]
    NotCommitted(U256),
    /// No token was configured for the operation.
    #[error("no bounty token: the deployment has no stablecoin, pass --token")]
    NoToken,
    /// The account may not take seats, for the reason the registry gives.
    #[error("{doctor} cannot take seats: {reason}")]
    CannotServe {
        /// The account.
        doctor: Address,
        /// What the registry says.
        reason: ServeRefusal,
    },
    /// A transaction was mined but reverted.
    #[error("transaction {0} reverted")]
    Reverted(TxHash),
    /// An expected event was missing from a receipt.
    #[error("transaction {0} emitted no {1} event")]
    MissingEvent(TxHash, &'static str),
}

/// Why the registry does not let a doctor take seats (`canServe` is false), so the doctor learns
/// which of the two conditions to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ServeRefusal {
    /// No credential at all.
    #[error("it is not accredited as a doctor (the credential issuer runs `crypdoc doctor accredit ADDRESS --license TEXT`)")]
    NotAccredited,
    /// Accredited as a hospital: one address holds one role.
    #[error("it is accredited as a hospital, and a hospital cannot review scans")]
    Hospital,
    /// The issuer revoked the accreditation.
    #[error("its accreditation was revoked (ask the credential issuer)")]
    Revoked,
    /// The accreditation ran out.
    #[error("its accreditation expired at unix time {expired_at} (ask the credential issuer to renew it)")]
    Expired {
        /// When it expired.
        expired_at: u64,
    },
    /// Accredited, but no X25519 key to wrap scan keys to.
    #[error("it has published no encryption key (run `crypdoc doctor set-key`)")]
    NoEncryptionKey,
}

impl From<alloy::contract::Error> for MarketError {
    fn from(error: alloy::contract::Error) -> Self {
        Self::Call(error.into())
    }
}

impl From<Revert> for MarketError {
    fn from(revert: Revert) -> Self {
        Self::Call(CallError::Reverted(revert))
    }
}

impl From<IDiagnosisMarketErrors> for MarketError {
    fn from(error: IDiagnosisMarketErrors) -> Self {
        Revert::from(error).into()
    }
}

impl MarketError {
    /// The contract's custom error, when a contract refused the call (or a check made before
    /// sending found the error the contract would have raised).
    pub const fn revert(&self) -> Option<&Revert> {
        match self {
            Self::Call(call) => call.revert(),
            _ => None,
        }
    }
}

/// How a token's amounts are written, as the token reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// `decimals()`: an amount of 1 token is `10^decimals` units.
    pub decimals: u8,
    /// `symbol()`.
    pub symbol: String,
}

impl TokenInfo {
    /// `units` as a decimal amount with the symbol (`"82.532 tUSD"`).
    pub fn format(&self, units: U256) -> String {
        format!("{} {}", format_amount(units, self.decimals), self.symbol)
    }
}

/// `units` of a token with `decimals` as a decimal amount, trailing zeros dropped (`"82.532"`).
pub fn format_amount(units: U256, decimals: u8) -> String {
    let text = alloy::primitives::utils::format_units(units, decimals).unwrap_or_else(|_| units.to_string());
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

/// The market's fixed bounds, as the deployed contract reports them (`crypdoc_types` mirrors
/// them as constants so that bad parameters are refused before anything is sent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MarketLimits {
    /// Fewest seats a task needs to earn reputation.
    pub min_reputation_seats: u8,
    /// Longest commit window in seconds.
    pub max_commit_window_secs: u64,
    /// Longest reveal window in seconds.
    pub max_reveal_window_secs: u64,
    /// How long a task may wait for its seats to fill, in seconds.
    pub fill_window_secs: u64,
}

impl MarketError {
    /// Whether trying again later can succeed without anyone changing anything: the endpoint
    /// or the transport failed. A contract's refusal, a wrong chain or a missing deployment
    /// needs someone to act first.
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Call(CallError::Failed(_)))
    }
}

/// A task with its phase, seats and votes, as `task show` prints it.
#[derive(Debug, Clone)]
pub struct TaskView {
    /// The id.
    pub id: U256,
    /// The stored task.
    pub task: Task,
    /// The phase now.
    pub phase: Phase,
    /// Seated doctors and their votes, in seat order.
    pub votes: Vec<(Address, Vote)>,
}

/// How long to wait for a transaction to be mined before calling it lost.
pub(crate) const RECEIPT_TIMEOUT: Duration = Duration::from_secs(120);

/// Seconds added to a task's commit window when posting. The market measures the window from
/// the block that includes the post, which comes after the time the deadline is computed from;
/// without a lead, a task asking for exactly the reputation minimum (one hour by default) would
/// lose its reputation to those few seconds. The window never goes past the market's maximum.
pub const POSTING_LEAD_SECS: u64 = 60;

/// A provider that signs with `signer`. Nonces are read from the node for every transaction:
/// a cached nonce counter moves on when gas estimation rejects a call, and the next transaction
/// would then wait forever behind the gap.
pub fn wallet_provider(rpc_url: &str, signer: PrivateKeySigner) -> Result<DynProvider, RpcFailure> {
    let url = rpc_url.parse().map_err(RpcFailure::InvalidUrl)?;
    Ok(ProviderBuilder::new().with_simple_nonce_management().wallet(signer).connect_http(url).erased())
}

/// A wallet connected to one CrypDoc deployment.
#[derive(Debug, Clone)]
pub struct MarketClient {
    provider: DynProvider,
    signer: PrivateKeySigner,
    deployment: Deployment,
}

impl MarketClient {
    /// Connects `signer` to the deployment through `rpc_url`, checking that the endpoint is up,
    /// serves the deployment's chain and holds the market's code.
    pub async fn connect(
        rpc_url: &str,
        signer: PrivateKeySigner,
        deployment: Deployment,
    ) -> Result<Self, MarketError> {
        let unreachable = |source: RpcFailure| MarketError::Unreachable {
            url: rpc_url.to_owned(),
            source: Box::new(source),
        };
        let provider = wallet_provider(rpc_url, signer.clone()).map_err(unreachable)?;
        let chain_id = provider.get_chain_id().await.map_err(|e| unreachable(e.into()))?;
        if chain_id != deployment.chain_id {
            return Err(MarketError::WrongChain { expected: deployment.chain_id, actual: chain_id });
        }
        let code = provider.get_code_at(deployment.market).await.map_err(|e| unreachable(e.into()))?;
        if code.is_empty() {
            return Err(MarketError::NotDeployed(deployment.market));
        }
        Ok(Self { provider, signer, deployment })
    }

    /// The wallet, for services that act as the same account (the hospital node).
    pub const fn signer(&self) -> &PrivateKeySigner {
        &self.signer
    }

    /// The signing account.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The deployment.
    pub const fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The provider, for reads the client does not wrap.
    pub const fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The market contract.
    pub fn market(&self) -> IDiagnosisMarketInstance<DynProvider> {
        IDiagnosisMarket::new(self.deployment.market, self.provider.clone())
    }

    /// The doctor registry.
    pub fn registry(&self) -> IDoctorRegistryInstance<DynProvider> {
        IDoctorRegistry::new(self.deployment.registry, self.provider.clone())
    }

    /// The reputation token.
    pub fn reputation(&self) -> IReputationTokenInstance<DynProvider> {
        IReputationToken::new(self.deployment.reputation, self.provider.clone())
    }

    /// The bounty token: `explicit`, or the deployment's stablecoin.
    pub fn token(&self, explicit: Option<Address>) -> Result<Address, MarketError> {
        explicit.or(self.deployment.stablecoin).ok_or(MarketError::NoToken)
    }

    /// How amounts of `token` are written: its `decimals()` and `symbol()`. Any allow-listed
    /// ERC20 can pay bounties, so nothing assumes the dev stablecoin's 6 decimals.
    pub async fn token_info(&self, token: Address) -> Result<TokenInfo, MarketError> {
        let erc20 = IERC20::new(token, self.provider.clone());
        let decimals = self.read(erc20.decimals().call().await).await?;
        let symbol = self.read(erc20.symbol().call().await).await?;
        Ok(TokenInfo { decimals, symbol })
    }

    async fn send<D: CallDecoder>(
        &self,
        call: CallBuilder<&DynProvider, D>,
    ) -> Result<TransactionReceipt, MarketError> {
        let pending = call.send().await?;
        let receipt = pending.with_timeout(Some(RECEIPT_TIMEOUT)).get_receipt().await.map_err(|e| {
            MarketError::Unreachable { url: "the RPC endpoint".into(), source: Box::new(e.into()) }
        })?;
        if !receipt.status() {
            return Err(MarketError::Reverted(receipt.transaction_hash));
        }
        debug!(target: "crypdoc::contracts", tx = %receipt.transaction_hash, gas = receipt.gas_used, "mined");
        Ok(receipt)
    }

    async fn read<T>(&self, result: Result<T, alloy::contract::Error>) -> Result<T, MarketError> {
        Ok(result?)
    }

    /// Makes sure the market may pull `amount` of `token` from this account: checks the balance
    /// and approves exactly the shortfall's total when the allowance is too small.
    pub async fn ensure_allowance(&self, token: Address, amount: U256) -> Result<(), MarketError> {
        if amount.is_zero() {
            return Ok(());
        }
        let erc20 = IERC20::new(token, self.provider.clone());
        let me = self.address();
        let have = self.read(erc20.balanceOf(me).call().await).await?;
        if have < amount {
            return Err(MarketError::InsufficientBalance { account: me, token, have, need: amount });
        }
        let allowance = self.read(erc20.allowance(me, self.deployment.market).call().await).await?;
        if allowance < amount {
            self.send(erc20.approve(self.deployment.market, amount)).await?;
        }
        Ok(())
    }

    /// Posts a task paying `spec.bounty` of `token`, as an accredited hospital. The commit
    /// deadline is [`POSTING_LEAD_SECS`] beyond `spec.commit_window_secs` from now (capped at
    /// the market's maximum window), the reveal deadline `spec.reveal_window_secs` after it.
    /// Returns the task id and the transaction hash.
    pub async fn post_task(&self, spec: &TaskSpec, token: Address) -> Result<(U256, TxHash), MarketError> {
        spec.validate()?;
        // Say why a poster cannot post before asking for an approval it would not need.
        self.ensure_can_post().await?;
        self.ensure_allowance(token, U256::from(spec.bounty)).await?;
        // After the approval, so that its block does not eat into the window.
        let now = self.posting_time().await?;
        // `validate` bounds both windows by 30 days; only a node reporting an absurd time can
        // push the deadlines past what the contract's 40-bit timestamps hold.
        let deadline = |after: u64, secs: u64| after.checked_add(secs).filter(|at| *at < 1 << 40);
        let window = spec.commit_window_secs.saturating_add(POSTING_LEAD_SECS).min(MAX_COMMIT_WINDOW_SECS);
        let commit_deadline = deadline(now, window).ok_or(MarketError::ChainTimeOutOfRange(now))?;
        let reveal_deadline = deadline(commit_deadline, spec.reveal_window_secs)
            .ok_or(MarketError::ChainTimeOutOfRange(now))?;
        let params = TaskParams {
            scanCid: spec.scan_cid.clone(),
            token,
            bounty: Uint::from(spec.bounty),
            stakePerSeat: Uint::from(spec.stake_per_seat),
            minReputation: spec.min_reputation,
            commitDeadline: Uint::from(commit_deadline),
            revealDeadline: Uint::from(reveal_deadline),
            predictedClass: spec.predicted_class,
            confidenceBps: spec.confidence.get(),
            numClasses: spec.diagnosis_set.len(),
            seats: spec.seats,
            quorum: spec.quorum,
        };
        let market = self.market();
        let receipt = self.send(market.postTask(params)).await?;
        let posted = receipt
            .decoded_log::<IDiagnosisMarket::TaskPosted>()
            .ok_or(MarketError::MissingEvent(receipt.transaction_hash, "TaskPosted"))?;
        Ok((posted.taskId, receipt.transaction_hash))
    }

    /// The timestamp of the latest block: deadlines are measured against chain time.
    pub async fn chain_time(&self) -> Result<u64, MarketError> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(|e| MarketError::Unreachable {
                url: "the RPC endpoint".into(),
                source: Box::new(e.into()),
            })?
            .ok_or_else(|| MarketError::Unreachable {
                url: "the RPC endpoint".into(),
                source: Box::new(RpcFailure::NoLatestBlock),
            })?;
        Ok(block.header.timestamp)
    }

    /// Refuses with the market's own `HospitalNotAccredited` unless this wallet is an accredited
    /// hospital now: callers check before preparing a task (sealing, storing, approving) that
    /// could never be posted.
    pub async fn ensure_can_post(&self) -> Result<(), MarketError> {
        let me = self.address();
        if self.is_accredited_hospital(me).await? {
            return Ok(());
        }
        let error = IDiagnosisMarket::HospitalNotAccredited { poster: me };
        Err(IDiagnosisMarketErrors::HospitalNotAccredited(error).into())
    }

    /// When a transaction sent now will most likely be mined: the latest block's time, or this
    /// machine's clock when it is later (an idle dev chain mines no blocks, so its latest block
    /// can be minutes old).
    async fn posting_time(&self) -> Result<u64, MarketError> {
        let chain = self.chain_time().await?;
        let clock = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        Ok(chain.max(clock))
    }

    /// The stored task, or [`MarketError::UnknownTask`].
    pub async fn task(&self, task_id: U256) -> Result<Task, MarketError> {
        let task = self.read(self.market().getTask(task_id).call().await).await?;
        if task.poster == Address::ZERO {
            return Err(MarketError::UnknownTask(task_id));
        }
        Ok(task)
    }

    /// The task with its phase and votes.
    pub async fn task_view(&self, task_id: U256) -> Result<TaskView, MarketError> {
        let task = self.task(task_id).await?;
        let market = self.market();
        let phase = self.read(market.phaseOf(task_id).call().await).await?;
        let seats = self.read(market.seatsOf(task_id).call().await).await?;
        let mut votes = Vec::with_capacity(seats.len());
        for doctor in seats {
            votes.push((doctor, self.read(market.voteOf(task_id, doctor).call().await).await?));
        }
        Ok(TaskView { id: task_id, task, phase, votes })
    }

    /// The scan CID of a task, from its `TaskPosted` event (the contract stores only its hash),
    /// checked against the stored digest.
    pub async fn scan_cid(&self, task_id: U256) -> Result<String, MarketError> {
        let task = self.task(task_id).await?;
        let logs = self
            .market()
            .TaskPosted_filter()
            .topic1(task_id)
            .from_block(self.deployment.start_block)
            .query()
            .await?;
        logs.into_iter()
            .map(|(event, _)| event.scanCid)
            .find(|cid| keccak256(cid.as_bytes()) == task.scanDigest)
            .ok_or(MarketError::MissingEvent(TxHash::ZERO, "TaskPosted"))
    }

    /// The wrapped scan keys released on a task, by doctor, in release order.
    pub async fn released_keys(&self, task_id: U256) -> Result<Vec<(Address, Bytes)>, MarketError> {
        let logs = self
            .market()
            .KeyReleased_filter()
            .topic1(task_id)
            .from_block(self.deployment.start_block)
            .query()
            .await?;
        Ok(logs.into_iter().map(|(event, _)| (event.doctor, event.wrappedKey)).collect())
    }

    /// The X25519 public key `doctor` registered, or `None`.
    pub async fn encryption_key_of(&self, doctor: Address) -> Result<Option<B256>, MarketError> {
        let key = self.read(self.registry().encryptionKeyOf(doctor).call().await).await?;
        Ok((key != B256::ZERO).then_some(key))
    }

    /// Number of tasks posted.
    pub async fn task_count(&self) -> Result<U256, MarketError> {
        self.read(self.market().taskCount().call().await).await
    }

    /// Claims a seat, approving the stake first when needed.
    pub async fn claim_seat(&self, task_id: U256) -> Result<TxHash, MarketError> {
        let task = self.task(task_id).await?;
        // Say why a doctor cannot serve before asking for tokens they would not need.
        let me = self.address();
        if !self.read(self.registry().canServe(me).call().await).await? {
            return Err(match self.serve_refusal(me).await? {
                Some(reason) => MarketError::CannotServe { doctor: me, reason },
                None => IDiagnosisMarketErrors::DoctorCannotServe(IDiagnosisMarket::DoctorCannotServe {
                    doctor: me,
                })
                .into(),
            });
        }
        self.ensure_allowance(task.token, U256::from(task.stakePerSeat)).await?;
        let market = self.market();
        Ok(self.send(market.claimSeat(task_id)).await?.transaction_hash)
    }

    /// Why `doctor` may not take seats now, or `None` when the registry lets it serve.
    pub async fn serve_refusal(&self, doctor: Address) -> Result<Option<ServeRefusal>, MarketError> {
        let credential = self.credential_of(doctor).await?;
        let now = self.chain_time().await?;
        let reason = match credential.role {
            Role::None => Some(ServeRefusal::NotAccredited),
            Role::Hospital => Some(ServeRefusal::Hospital),
            _ if credential.revoked => Some(ServeRefusal::Revoked),
            _ if credential.expiresAt <= now => {
                Some(ServeRefusal::Expired { expired_at: credential.expiresAt })
            }
            _ if self.encryption_key_of(doctor).await?.is_none() => Some(ServeRefusal::NoEncryptionKey),
            _ => None,
        };
        Ok(reason)
    }

    /// Publishes the scan key wrapped to `doctor`.
    pub async fn release_key(
        &self,
        task_id: U256,
        doctor: Address,
        wrapped_key: Bytes,
    ) -> Result<TxHash, MarketError> {
        let market = self.market();
        Ok(self.send(market.releaseKey(task_id, doctor, wrapped_key)).await?.transaction_hash)
    }

    /// The salt of this wallet's vote on `task_id`, from its EIP-712 signature: the same on
    /// every device that holds the wallet.
    pub async fn vote_salt(&self, task_id: U256) -> Result<B256, MarketError> {
        let message = VoteSalt::new(self.deployment.market, task_id);
        let domain = VoteSalt::domain(self.deployment.chain_id, self.deployment.market);
        let signature = self.signer.sign_typed_data(&message, &domain).await?;
        Ok(salt_from_signature(&signature.as_bytes()))
    }

    /// This wallet's EIP-191 (`personal_sign`) signature of `message`, as `r || s || v`.
    pub async fn sign_message(&self, message: &[u8]) -> Result<[u8; 65], MarketError> {
        Ok(self.signer.sign_message(message).await?.as_bytes())
    }

    /// Commits a blind vote for `diagnosis`; returns the salt (to be kept locally) and the
    /// transaction hash.
    pub async fn commit(&self, task_id: U256, diagnosis: u8) -> Result<(B256, TxHash), MarketError> {
        let task = self.task(task_id).await?;
        if diagnosis >= task.numClasses {
            let error = IDiagnosisMarket::DiagnosisOutOfRange { diagnosis, numClasses: task.numClasses };
            return Err(IDiagnosisMarketErrors::DiagnosisOutOfRange(error).into());
        }
        let salt = self.vote_salt(task_id).await?;
        let hash = self.commitment(task_id, diagnosis, salt);
        let market = self.market();
        let receipt = self.send(market.commit(task_id, hash)).await?;
        Ok((salt, receipt.transaction_hash))
    }

    /// Recovers this wallet's committed diagnosis and salt from the chain alone: re-derives the
    /// salt and tries every code of the task's set against the stored commitment.
    pub async fn recover_vote(&self, task_id: U256) -> Result<(u8, B256), MarketError> {
        let task = self.task(task_id).await?;
        let vote = self.read(self.market().voteOf(task_id, self.address()).call().await).await?;
        if vote.commitment == B256::ZERO {
            return Err(MarketError::NotCommitted(task_id));
        }
        let salt = self.vote_salt(task_id).await?;
        (0..task.numClasses)
            .find(|&code| self.commitment(task_id, code, salt) == vote.commitment)
            .map(|code| (code, salt))
            .ok_or(MarketError::SaltNotRecovered(task_id))
    }

    /// The commitment of this wallet's vote for `diagnosis` on `task_id`, bound to this
    /// deployment's chain and market as `DiagnosisMarket.commitmentOf` computes it.
    pub fn commitment(&self, task_id: U256, diagnosis: u8, salt: B256) -> B256 {
        let d = &self.deployment;
        commitment(d.chain_id, d.market, task_id, self.address(), diagnosis, salt)
    }

    /// Reveals a vote.
    pub async fn reveal(&self, task_id: U256, diagnosis: u8, salt: B256) -> Result<TxHash, MarketError> {
        let market = self.market();
        Ok(self.send(market.reveal(task_id, diagnosis, salt)).await?.transaction_hash)
    }

    /// Finalizes a task.
    pub async fn finalize(&self, task_id: U256) -> Result<TxHash, MarketError> {
        let market = self.market();
        Ok(self.send(market.finalize(task_id)).await?.transaction_hash)
    }

    /// Withdraws everything credited to this account in `token`; returns the amount.
    pub async fn withdraw(&self, token: Address) -> Result<(U256, TxHash), MarketError> {
        let market = self.market();
        let receipt = self.send(market.withdraw(token)).await?;
        let withdrawn = receipt
            .decoded_log::<IDiagnosisMarket::Withdrawn>()
            .ok_or(MarketError::MissingEvent(receipt.transaction_hash, "Withdrawn"))?;
        Ok((withdrawn.amount, receipt.transaction_hash))
    }

    /// What `account` can withdraw in `token`.
    pub async fn credit_of(&self, account: Address, token: Address) -> Result<U256, MarketError> {
        self.read(self.market().creditOf(account, token).call().await).await
    }

    /// The reputation of `account`.
    pub async fn reputation_of(&self, account: Address) -> Result<U256, MarketError> {
        self.read(self.reputation().balanceOf(account).call().await).await
    }

    /// The token balance of `account`.
    pub async fn token_balance(&self, token: Address, account: Address) -> Result<U256, MarketError> {
        self.read(IERC20::new(token, self.provider.clone()).balanceOf(account).call().await).await
    }

    /// Accredits `doctor` until `expires_at` (credential issuer only).
    pub async fn accredit(
        &self,
        doctor: Address,
        license_hash: B256,
        expires_at: u64,
    ) -> Result<TxHash, MarketError> {
        let registry = self.registry();
        Ok(self.send(registry.accredit(doctor, license_hash, expires_at)).await?.transaction_hash)
    }

    /// Accredits `hospital` to post tasks until `expires_at` (credential issuer only). Refused
    /// with `RoleConflict` while the account is an accredited doctor.
    pub async fn accredit_hospital(
        &self,
        hospital: Address,
        license_hash: B256,
        expires_at: u64,
    ) -> Result<TxHash, MarketError> {
        let registry = self.registry();
        Ok(self.send(registry.accreditHospital(hospital, license_hash, expires_at)).await?.transaction_hash)
    }

    /// Whether `account` is an accredited hospital now, and so may post tasks.
    pub async fn is_accredited_hospital(&self, account: Address) -> Result<bool, MarketError> {
        self.read(self.registry().isAccreditedHospital(account).call().await).await
    }

    /// Whether `account` is an accredited doctor now.
    pub async fn is_accredited_doctor(&self, account: Address) -> Result<bool, MarketError> {
        self.read(self.registry().isAccredited(account).call().await).await
    }

    /// The credential of `account`, doctor or hospital (all zero if none).
    pub async fn credential_of(&self, account: Address) -> Result<Credential, MarketError> {
        self.read(self.registry().credentialOf(account).call().await).await
    }

    /// The smallest bounty in `token` whose task earns reputation; zero: no task in it does.
    pub async fn min_reputation_bounty(&self, token: Address) -> Result<u128, MarketError> {
        let amount = self.read(self.market().minReputationBounty(token).call().await).await?;
        Ok(amount.to())
    }

    /// The shortest commit window that earns reputation, in seconds.
    pub async fn min_reputation_window(&self) -> Result<u64, MarketError> {
        Ok(self.read(self.market().minReputationWindow().call().await).await?.to())
    }

    /// The market's fixed bounds as the deployed contract reports them.
    pub async fn limits(&self) -> Result<MarketLimits, MarketError> {
        let market = self.market();
        Ok(MarketLimits {
            min_reputation_seats: self.read(market.MIN_REPUTATION_SEATS().call().await).await?,
            max_commit_window_secs: self.read(market.MAX_COMMIT_WINDOW().call().await).await?.to(),
            max_reveal_window_secs: self.read(market.MAX_REVEAL_WINDOW().call().await).await?.to(),
            fill_window_secs: self.read(market.FILL_WINDOW().call().await).await?.to(),
        })
    }

    /// Sets the smallest bounty in `token` whose task earns reputation (market admin only).
    pub async fn set_min_reputation_bounty(
        &self,
        token: Address,
        amount: u128,
    ) -> Result<TxHash, MarketError> {
        if amount > crypdoc_types::pricing::MAX_BOUNTY {
            return Err(TaskSpecError::AmountTooLarge { what: "minimum reputation bounty", amount }.into());
        }
        let market = self.market();
        Ok(self.send(market.setMinReputationBounty(token, Uint::from(amount))).await?.transaction_hash)
    }

    /// Sets the shortest commit window that earns reputation, in seconds (market admin only).
    pub async fn set_min_reputation_window(&self, secs: u64) -> Result<TxHash, MarketError> {
        if secs > MAX_COMMIT_WINDOW_SECS {
            let error = IDiagnosisMarket::ReputationWindowTooLong {
                window: Uint::saturating_from(secs),
                maxWindow: Uint::from(MAX_COMMIT_WINDOW_SECS),
            };
            return Err(IDiagnosisMarketErrors::ReputationWindowTooLong(error).into());
        }
        let market = self.market();
        Ok(self.send(market.setMinReputationWindow(Uint::from(secs))).await?.transaction_hash)
    }

    /// Publishes this doctor's X25519 public key.
    pub async fn set_encryption_key(&self, key: B256) -> Result<TxHash, MarketError> {
        let registry = self.registry();
        Ok(self.send(registry.setEncryptionKey(key)).await?.transaction_hash)
    }

    /// Mints dev stablecoins to `to` (the stablecoin's owner only).
    pub async fn mint_stablecoin(&self, to: Address, amount: U256) -> Result<TxHash, MarketError> {
        let token = self.token(None)?;
        let erc20 = IERC20::new(token, self.provider.clone());
        Ok(self.send(erc20.mint(to, amount)).await?.transaction_hash)
    }
}
