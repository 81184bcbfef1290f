//! Bindings to Ocean Protocol v4's own contracts, generated from the artifacts that Ocean publishes
//! on npm (`@oceanprotocol/contracts`, the exact version pinned in the root `package.json`): the
//! ABI and the creation bytecode come from the same JSON file, so what is deployed and what is
//! called are the published contracts, unchanged. Each contract sits in its own module because the
//! generated struct names (`providerFee`, `NftCreateData`, ...) repeat across artifacts.

#![allow(missing_docs, unreachable_pub, missing_debug_implementations, clippy::too_many_arguments)]

use alloy::primitives::Bytes;
use std::sync::LazyLock;

/// The `@oceanprotocol/contracts` version whose artifacts are embedded (checked by a test against
/// the installed package and the root `package.json`).
pub const OCEAN_CONTRACTS_VERSION: &str = "2.6.0";

pub mod ocean_token {
    alloy::sol!(
        #[sol(rpc)]
        OceanToken,
        "../../node_modules/@oceanprotocol/contracts/artifacts/contracts/utils/OceanToken.sol/OceanToken.json"
    );
}

pub mod factory_router {
    alloy::sol!(
        #[sol(rpc)]
        FactoryRouter,
        "../../node_modules/@oceanprotocol/contracts/artifacts/contracts/pools/FactoryRouter.sol/FactoryRouter.json"
    );
}

pub mod fixed_rate_exchange {
    alloy::sol!(
        #[sol(rpc)]
        FixedRateExchange,
        "../../node_modules/@oceanprotocol/contracts/artifacts/contracts/pools/fixedRate/FixedRateExchange.sol/FixedRateExchange.json"
    );
}

pub mod erc20_template {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        ERC20Template,
        "../../node_modules/@oceanprotocol/contracts/artifacts/contracts/templates/ERC20Template.sol/ERC20Template.json"
    );
}

pub mod erc721_template {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        ERC721Template,
        "../../node_modules/@oceanprotocol/contracts/artifacts/contracts/templates/ERC721Template.sol/ERC721Template.json"
    );
}

pub mod erc721_factory {
    alloy::sol!(
        #[sol(rpc)]
        #[derive(Debug)]
        ERC721Factory,
        "../../node_modules/@oceanprotocol/contracts/artifacts/contracts/ERC721Factory.sol/ERC721Factory.json"
    );
}

pub mod mock_erc20_decimals {
    alloy::sol!(
        #[sol(rpc)]
        MockERC20Decimals,
        "../../node_modules/@oceanprotocol/contracts/artifacts/contracts/utils/mock/MockERC20Decimals.sol/MockERC20Decimals.json"
    );
}

pub use erc20_template::ERC20Template;
pub use erc721_factory::ERC721Factory;
pub use erc721_template::ERC721Template;
pub use factory_router::FactoryRouter;
pub use fixed_rate_exchange::FixedRateExchange;
pub use mock_erc20_decimals::MockERC20Decimals;
pub use ocean_token::OceanToken;

alloy::sol! {
    /// The ERC20 surface a base token needs (any token the exchange is priced in).
    #[sol(rpc)]
    #[derive(Debug)]
    interface IERC20 {
        function approve(address spender, uint256 amount) external returns (bool);
        function allowance(address owner, address spender) external view returns (uint256);
        function balanceOf(address account) external view returns (uint256);
        function transfer(address to, uint256 amount) external returns (bool);
        function decimals() external view returns (uint8);
        function symbol() external view returns (string memory);
        function name() external view returns (string memory);
    }
}

/// Creation bytecode of an artifact that is only deployed, never called through a binding.
fn creation_code(artifact: &str) -> Bytes {
    let json: serde_json::Value = serde_json::from_str(artifact).expect("Ocean artifact is JSON");
    let hex = json["bytecode"].as_str().expect("Ocean artifact has a bytecode string");
    hex.parse().expect("Ocean artifact bytecode is hex")
}

/// `OPFCommunityFeeCollector(address payable newCollector, address OPFOwnerAddress)` creation code.
pub static OPF_COMMUNITY_FEE_COLLECTOR_CODE: LazyLock<Bytes> = LazyLock::new(|| {
    creation_code(include_str!(
        "../../../node_modules/@oceanprotocol/contracts/artifacts/contracts/communityFee/OPFCommunityFeeCollector.sol/OPFCommunityFeeCollector.json"
    ))
});

/// `ERC20TemplateEnterprise()` creation code (template 2; deployed as Ocean's script does).
pub static ERC20_TEMPLATE_ENTERPRISE_CODE: LazyLock<Bytes> = LazyLock::new(|| {
    creation_code(include_str!(
        "../../../node_modules/@oceanprotocol/contracts/artifacts/contracts/templates/ERC20TemplateEnterprise.sol/ERC20TemplateEnterprise.json"
    ))
});

/// `Dispenser(address router)` creation code.
pub static DISPENSER_CODE: LazyLock<Bytes> = LazyLock::new(|| {
    creation_code(include_str!(
        "../../../node_modules/@oceanprotocol/contracts/artifacts/contracts/pools/dispenser/Dispenser.sol/Dispenser.json"
    ))
});

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn json(path: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    /// The artifacts compiled in are the version the root `package.json` pins, and the bytecode
    /// parses.
    #[test]
    fn embedded_artifacts_are_the_pinned_version() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let installed = json(&root.join("node_modules/@oceanprotocol/contracts/package.json"));
        assert_eq!(installed["version"], OCEAN_CONTRACTS_VERSION);
        let pinned = json(&root.join("package.json"));
        assert_eq!(pinned["devDependencies"]["@oceanprotocol/contracts"], OCEAN_CONTRACTS_VERSION);
        for code in [&*OPF_COMMUNITY_FEE_COLLECTOR_CODE, &*ERC20_TEMPLATE_ENTERPRISE_CODE, &*DISPENSER_CODE] {
            assert!(code.len() > 1000);
        }
        assert!(!ERC20Template::BYTECODE.is_empty() && !ERC721Factory::BYTECODE.is_empty());
    }
}
