//! The `crypdoc` binary end to end on a real anvil: a doctor's whole journey through the command
//! line, salt recovery after the local state is deleted, and the messages bad input gets.

use serde_json::Value;
use std::{path::Path, process::Command};

mod common;

use common::{model_post_args, post_args, sample, Cli};

#[test]
fn a_doctor_journey_with_salt_recovery() {
    let cli = Cli::new();
    let up = cli.json(&["dev", "up"]);
    assert_eq!(up["deployment"]["chain_id"], 31337);
    let second = cli.json(&["dev", "up"]);
    assert_eq!(second["reused"], true, "a second dev up reuses the running chain");

    let accounts = cli.json(&["account", "list"]);
    for name in ["admin", "hospital", "doctor1", "doctor5", "researcher"] {
        assert!(accounts[name].is_string(), "dev up created {name}");
    }
    // Ocean's contracts came up with the chain: the researcher's commands work at once.
    assert!(up["ocean"]["file"].as_str().unwrap().ends_with("ocean-addresses.json"));
    let datasets = cli.json(&["dataset", "list", "-a", "researcher"]);
    assert_eq!(datasets["datasets"].as_array().map(Vec::len), Some(0));

    cli.json(&["doctor", "set-key", "-a", "doctor1"]);
    let scan = sample("yes/y9.jpg");
    let posted = cli.json(&post_args(&scan, "tumor", "0.9", &["--seats", "1", "--stake", "2"]));
    assert_eq!(posted["task"], "1");
    // 90% on a binary task: 20 + 180 * (1000 / 5000) = 56 tUSD.
    assert_eq!(posted["bounty"], "56000000");
    // One seat is below the market's reputation minimum (3): the task pays but mints nothing.
    assert_eq!(posted["earns_reputation"], false);

    cli.json(&["doctor", "claim", "1", "-a", "doctor1"]);
    // The hospital's agent node sees the claim and releases the key, once.
    let pass = cli.json(&["hospital", "run", "--once", "-a", "hospital"]);
    assert_eq!(pass["keys_released"].as_array().unwrap().len(), 1);
    let again = cli.json(&["hospital", "run", "--once", "-a", "hospital"]);
    assert!(again["keys_released"].as_array().unwrap().is_empty(), "nothing is released twice");
    let released = cli.json(&["task", "release-keys", "1", "-a", "hospital"]);
    assert!(released.as_array().unwrap().is_empty(), "already released by the agent");
    let read_to = cli.state.path().join("read.jpg");
    cli.json(&["doctor", "read", "1", "-a", "doctor1", "--out", read_to.to_str().unwrap()]);
    assert_eq!(std::fs::read(&read_to).unwrap(), std::fs::read(&scan).unwrap());

    cli.json(&["doctor", "commit", "1", "-a", "doctor1", "--diagnosis", "tumor"]);
    // Lose every local trace of the vote: the wallet alone must recover it.
    std::fs::remove_dir_all(cli.state.path().join("salts")).unwrap();
    let revealed = cli.json(&["doctor", "reveal", "1", "-a", "doctor1"]);
    assert_eq!(revealed["salt_recovered"], true);
    assert_eq!(revealed["diagnosis"], "tumor");

    let finalized = cli.json(&["task", "finalize", "1", "-a", "researcher"]);
    assert_eq!(finalized["task"]["phase"], "resolved");
    assert_eq!(finalized["task"]["outcome"], "tumor");
    let shown = cli.json(&["task", "show", "1"]);
    assert_eq!(shown["votes"][0]["diagnosis"], "tumor");
    assert_eq!(shown["earns_reputation"], false);
    // An hour's commit window is shorter than the fill window, so seats had until the commit
    // deadline to fill.
    assert_eq!(shown["fill_deadline"], shown["commit_deadline"]);
    let listed = cli.json(&["task", "list"]);
    assert_eq!(listed[0]["fill_deadline"], shown["fill_deadline"]);

    let withdrawn = cli.json(&["withdraw", "-a", "doctor1"]);
    assert_eq!(withdrawn["amount"], "58000000", "bounty 56 + stake 2");
    let reputation = cli.json(&["reputation", "show", "doctor1"]);
    assert_eq!(reputation["reputation"], "0", "a one-seat task earns no reputation");
    assert_eq!(reputation["credit"], "0");

    let err = cli.error(&["withdraw", "-a", "doctor1"]);
    assert!(err.contains("nothing is credited to"), "{err}");
}

/// The README's "By hand" sequence, as a newcomer runs it from a script: no terminal, no
/// `$CRYPDOC_PASSWORD`. The keystores `dev up` made open with the dev password (said once on
/// stderr); any other keystore fails naming the variable and nothing else.
#[test]
fn the_readme_sequence_runs_without_a_terminal_or_password() {
    let cli = Cli::new();
    let run = |args: &[&str]| -> (Value, String) {
        // setsid: a new session has no controlling terminal, as under CI or an editor's task runner.
        let out = Command::new("setsid")
            .arg("--wait")
            .arg(env!("CARGO_BIN_EXE_crypdoc"))
            .arg("--state-dir")
            .arg(cli.state.path())
            .args(args)
            .arg("--json")
            .env_remove("CRYPDOC_PASSWORD")
            .env_remove("CRYPDOC_RPC_URL")
            .env_remove("CRYPDOC_ACCOUNT")
            .env_remove("CRYPDOC_IPFS_API")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "crypdoc {args:?} failed:\n{stderr}");
        (
            serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("crypdoc {args:?}: not JSON ({e})")),
            stderr,
        )
    };
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/br35h-mlp.json");
    let scan = sample("yes/y2.jpg");

    let (up, _) = run(&["dev", "up"]);
    assert_eq!(up["dev_password"], true);
    #[cfg(unix)]
    {
        // Keystores hold keys: written whole and readable by their owner only.
        use std::os::unix::fs::PermissionsExt;
        let keystore = cli.state.path().join("keystores/doctor1.json");
        assert_eq!(std::fs::metadata(&keystore).unwrap().permissions().mode() & 0o777, 0o600);
        let leftovers = std::fs::read_dir(cli.state.path().join("keystores"))
            .unwrap()
            .filter(|entry| entry.as_ref().unwrap().file_name().to_string_lossy().starts_with('.'))
            .count();
        assert_eq!(leftovers, 0, "no staging directory or temporary file left");
    }
    let (posted, stderr) = run(&[
        "task",
        "post",
        "-a",
        "hospital",
        "--scan",
        &scan,
        "--model",
        model.to_str().unwrap(),
        "--seats",
        "3",
    ]);
    assert_eq!(stderr.matches("dev password").count(), 1, "said once: {stderr}");
    let task = posted["task"].as_str().unwrap().to_owned();
    assert_eq!(posted["earns_reputation"], true);
    let doctors = ["doctor1", "doctor2", "doctor3"];
    for doctor in doctors {
        run(&["doctor", "claim", &task, "-a", doctor]);
    }
    let (pass, _) = run(&["hospital", "run", "--once", "-a", "hospital"]);
    assert_eq!(pass["keys_released"].as_array().map(Vec::len), Some(3));
    for doctor in doctors {
        let out = cli.state.path().join(format!("{doctor}.jpg"));
        run(&["doctor", "read", &task, "-a", doctor, "--out", out.to_str().unwrap()]);
        assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&scan).unwrap());
        run(&["doctor", "commit", &task, "-a", doctor, "--diagnosis", "tumor"]);
    }
    for doctor in doctors {
        run(&["doctor", "reveal", &task, "-a", doctor]);
    }
    let (finalized, _) = run(&["task", "finalize", &task, "-a", "doctor1"]);
    assert_eq!(finalized["task"]["outcome"], "tumor");
    let bounty: u128 = posted["bounty"].as_str().unwrap().parse().unwrap();
    let mut paid = 0u128;
    for doctor in doctors {
        let (withdrawn, _) = run(&["withdraw", "-a", doctor]);
        paid += withdrawn["amount"].as_str().unwrap().parse::<u128>().unwrap();
        let (reputation, _) = run(&["reputation", "show", doctor]);
        assert_eq!(reputation["reputation"], "1");
    }
    // The bounty's indivisible remainder goes back to the poster.
    let (hospital, _) = run(&["reputation", "show", "hospital"]);
    let dust: u128 = hospital["credit"].as_str().unwrap().parse().unwrap();
    assert!(dust < 3, "{dust}");
    assert_eq!(paid + dust, bounty + 3 * 5_000_000, "the bounty and every stake came back");

    // A keystore made with a password of its own keeps asking; without a terminal the error
    // names the variable and nothing else.
    cli.json(&["account", "new", "mine"]);
    let out = Command::new("setsid")
        .arg("--wait")
        .arg(env!("CARGO_BIN_EXE_crypdoc"))
        .args(["--state-dir", cli.state.path().to_str().unwrap(), "withdraw", "-a", "mine"])
        .env_remove("CRYPDOC_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "error: no terminal to ask for a password on: set CRYPDOC_PASSWORD"
    );
}

#[test]
fn bad_input_gets_one_clear_line() {
    let cli = Cli::new();
    let err = cli.error(&["task", "show", "1"]);
    assert!(err.contains("run `crypdoc dev up`"), "{err}");

    // The doctors start without encryption keys, so claims say which of the two facts is missing.
    cli.json(&["dev", "up", "--no-encryption-keys"]);
    let err = cli.error(&["task", "show", "7"]);
    assert_eq!(err, "error: task 7 does not exist (see `crypdoc task list`)");

    let not_an_image = cli.state.path().join("notes.txt");
    std::fs::write(&not_an_image, "not a scan").unwrap();
    let err = cli.error(&post_args(not_an_image.to_str().unwrap(), "tumor", "0.9", &[]));
    assert!(err.contains("not a JPEG or PNG image"), "{err}");

    let scan = sample("no/no6.jpg");
    let err = cli.error(&post_args(&scan, "glioma", "0.9", &[]));
    assert!(err.contains("unknown diagnosis \"glioma\" for the binary set"), "{err}");
    let err = cli.error(&post_args(&scan, "tumor", "1.5", &[]));
    assert!(err.contains("not a probability"), "{err}");
    let err = cli.error(&post_args(&scan, "tumor", "0.9", &["--quorum", "2"]));
    assert!(err.contains("quorum 2 must be more than half of the 5 seats"), "{err}");
    let err = cli.error(&post_args(&scan, "tumor", "0.9", &["--commit-window", "2592001"]));
    assert!(err.contains("the commit window of 2592001 s is longer than the market's maximum"), "{err}");
    // The model decides the diagnosis set: a contradicting --set is refused before any work.
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/br35h-mlp.json");
    let mut contradicting = model_post_args(&scan, model.to_str().unwrap());
    contradicting.extend(["--set", "four-class"]);
    let err = cli.error(&contradicting);
    assert!(err.contains("--set four-class contradicts the model"), "{err}");

    // Only accredited hospitals post; the error names the command that fixes it.
    // JSON carries addresses in lower case, sentences in their EIP-55 checksummed form.
    let researcher: alloy::primitives::Address =
        cli.json(&["account", "list"])["researcher"].as_str().unwrap().parse().unwrap();
    let mut as_researcher = post_args(&scan, "tumor", "0.9", &[]);
    as_researcher[3] = "researcher";
    let err = cli.error(&as_researcher);
    assert!(err.contains(&format!("{researcher} is not an accredited hospital")), "{err}");
    assert!(err.contains(&format!("`crypdoc hospital accredit {researcher} --license TEXT`")), "{err}");
    let accredited = cli.json(&["hospital", "accredit", "researcher", "--license", "R-1", "-a", "admin"]);
    assert_eq!(
        accredited["hospital"].as_str().unwrap().parse::<alloy::primitives::Address>().unwrap(),
        researcher
    );
    // A doctor cannot also be a hospital, and a nonsense expiry is refused before sending.
    let err = cli.error(&["hospital", "accredit", "doctor1", "--license", "D-1", "-a", "admin"]);
    assert!(
        err.contains("is accredited as a doctor, so it cannot also be accredited as a hospital"),
        "{err}"
    );
    let err = cli.error(&[
        "hospital",
        "accredit",
        "researcher",
        "--license",
        "R-1",
        "--days",
        "18446744073709551615",
        "-a",
        "admin",
    ]);
    assert!(err.contains("is too far in the future"), "{err}");

    // A doctor without an encryption key, and a claim before any task exists in that phase.
    cli.json(&post_args(&scan, "no-tumor", "0.9", &[]));
    let err = cli.error(&["doctor", "claim", "1", "-a", "doctor2"]);
    assert!(
        err.contains("cannot take seats: it has published no encryption key (run `crypdoc doctor set-key`)"),
        "{err}"
    );
    let err = cli.error(&["doctor", "claim", "1", "-a", "hospital"]);
    assert!(err.contains("cannot take seats: it is accredited as a hospital"), "{err}");
    // The researcher was accredited as a hospital above; a brand-new account holds nothing.
    cli.json(&["account", "new", "stranger"]);
    let err = cli.error(&["doctor", "claim", "1", "-a", "stranger"]);
    assert!(err.contains("cannot take seats: it is not accredited as a doctor"), "{err}");

    let err = cli.error(&["doctor", "claim", "1", "-a", "nobody"]);
    assert!(err.contains("no account named \"nobody\""), "{err}");
    let out = cli
        .command(&["doctor", "claim", "1", "-a", "doctor1"])
        .env("CRYPDOC_PASSWORD", "wrong")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong password"));

    let err = cli.error(&["task", "show", "1", "--rpc-url", "http://127.0.0.1:1"]);
    assert!(err.contains("cannot reach the chain at http://127.0.0.1:1"), "{err}");

    // Priced by the classifier on the encrypted scan; an unreadable scan is refused before
    // anything is stored or escrowed.
    let model = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/br35h-mlp.json");
    let model = model.to_str().unwrap();
    let err = cli.error(&model_post_args(not_an_image.to_str().unwrap(), model));
    assert!(err.contains("as a scan: ") && err.contains("JPEG or PNG"), "{err}");
    let mut both = model_post_args(&scan, model);
    both.extend(["--predicted", "tumor"]);
    let err = cli.error(&both);
    assert!(err.contains("cannot be used with"), "{err}");
    assert_eq!(cli.json(&["task", "list"]).as_array().unwrap().len(), 1, "nothing was posted");

    let tumor = sample("yes/y2.jpg");
    let posted = cli.json(&model_post_args(&tumor, model));
    assert_eq!(posted["task"], "2");
    assert_eq!(posted["model"]["encrypted"], true);
    let plaintext = cli.json(&["model", "predict", "--model", model, &tumor]);
    assert_eq!(posted["model"]["class"], plaintext["class"], "encrypted and plaintext agree on this scan");
    assert_eq!(posted["predicted"], "tumor", "the model's \"yes\" is the binary set's tumor");
    let bps = posted["confidence_bps"].as_u64().unwrap();
    let expected = (posted["model"]["confidence"].as_f64().unwrap() * 10_000.0).round() as u64;
    assert!(bps.abs_diff(expected) <= 1, "confidence {bps} bps from {expected}");

    // The same image again is the same durable job: its task, not a second escrow.
    let again = cli.json(&model_post_args(&tumor, model));
    assert_eq!(again["task"], posted["task"]);
    assert_eq!(again["duplicate"], true);
    assert_eq!(cli.json(&["task", "list"]).as_array().unwrap().len(), 2, "posted twice");
}

#[test]
fn store_commands_on_the_embedded_store_and_a_real_node() {
    let cli = Cli::new();
    let file = cli.state.path().join("blob.bin");
    // Two and a half chunks, so the CID is a UnixFS DAG root, not a single raw block.
    let data: Vec<u8> = (0..655_360u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    std::fs::write(&file, &data).unwrap();

    let put = cli.json(&["store", "put", file.to_str().unwrap()]);
    let cid = put["cid"].as_str().unwrap().to_owned();
    assert!(cid.starts_with("bafybei"), "a multi-chunk file has a dag-pb root: {cid}");
    let out = cli.state.path().join("back.bin");
    cli.json(&["store", "get", &cid, "-o", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(&out).unwrap(), data);
    cli.json(&["store", "pin", &cid]);

    let err = cli.error(&["store", "get", "not-a-cid"]);
    assert!(err.contains("not-a-cid"), "{err}");
    let missing = cli.error(&["store", "get", "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am"]);
    assert!(missing.starts_with("error:"), "{missing}");

    // The same bytes get the same CID from a real node (js-ipfs, started by scripts/test.sh).
    match std::env::var("CRYPDOC_IPFS_API") {
        Ok(api) => {
            let on_node = cli.json(&["store", "put", file.to_str().unwrap(), "--ipfs-api", &api]);
            assert_eq!(on_node["cid"], cid);
            let from_node = cli.state.path().join("from-node.bin");
            cli.json(&["store", "get", &cid, "-o", from_node.to_str().unwrap(), "--ipfs-api", &api]);
            assert_eq!(std::fs::read(&from_node).unwrap(), data);
        }
        Err(_) => assert!(
            std::env::var("CRYPDOC_REQUIRE_IPFS").is_err(),
            "CRYPDOC_REQUIRE_IPFS is set but CRYPDOC_IPFS_API is not"
        ),
    }
}
