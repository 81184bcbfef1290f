//! The crate embeds Ocean Protocol's published contract artifacts (npm `@oceanprotocol/contracts`,
//! pinned in the root `package.json`); say how to get them when they are missing instead of
//! failing on an unreadable path.
use std::path::Path;

/// Every artifact `src/artifacts.rs` includes, relative to the package's `artifacts/contracts`.
const ARTIFACTS: &[&str] = &[
    "utils/OceanToken.sol/OceanToken.json",
    "communityFee/OPFCommunityFeeCollector.sol/OPFCommunityFeeCollector.json",
    "pools/FactoryRouter.sol/FactoryRouter.json",
    "pools/fixedRate/FixedRateExchange.sol/FixedRateExchange.json",
    "pools/dispenser/Dispenser.sol/Dispenser.json",
    "templates/ERC20Template.sol/ERC20Template.json",
    "templates/ERC20TemplateEnterprise.sol/ERC20TemplateEnterprise.json",
    "templates/ERC721Template.sol/ERC721Template.json",
    "ERC721Factory.sol/ERC721Factory.json",
    "utils/mock/MockERC20Decimals.sol/MockERC20Decimals.json",
];

fn main() {
    // Read when the script runs, not baked in when it is compiled: a build script binary can be
    // reused from a target directory shared with another checkout.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let package = Path::new(&manifest_dir).join("../../node_modules/@oceanprotocol/contracts");
    let manifest = package.join("package.json");
    println!("cargo:rerun-if-changed={}", manifest.display());
    assert!(
        manifest.exists(),
        "missing {}: run `npm ci` at the repository root first (scripts/test.sh and \
         scripts/demo.sh do); the Ocean contracts come from npm `@oceanprotocol/contracts`",
        package.display()
    );
    for artifact in ARTIFACTS {
        let path = package.join("artifacts/contracts").join(artifact);
        println!("cargo:rerun-if-changed={}", path.display());
        assert!(
            path.exists(),
            "missing Ocean artifact {}: the installed @oceanprotocol/contracts is not the pinned \
             version; run `npm ci` at the repository root",
            path.display()
        );
    }
}
