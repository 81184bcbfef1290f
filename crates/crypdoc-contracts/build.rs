//! The crate embeds forge's artifacts (bytecode for deployment); say how to make them when they
//! are missing instead of failing on an unreadable path.
use std::path::Path;

const ARTIFACTS: &[&str] = &[
    "DiagnosisMarket.sol/DiagnosisMarket.json",
    "DoctorRegistry.sol/DoctorRegistry.json",
    "TestStablecoin.sol/TestStablecoin.json",
];

fn main() {
    // Read when the script runs, not baked in when it is compiled: a build script binary can be
    // reused from a target directory shared with another checkout.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let out = Path::new(&manifest_dir).join("../../out");
    for artifact in ARTIFACTS {
        let path = out.join(artifact);
        println!("cargo:rerun-if-changed={}", path.display());
        assert!(
            path.exists(),
            "missing forge artifact {}: run `forge build` at the repository root first \
             (scripts/test.sh and scripts/demo.sh do)",
            path.display()
        );
    }
}
