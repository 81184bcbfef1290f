//! DDO v4.1.0: the document an Ocean data NFT's metadata holds, and the indexed asset that
//! ocean-node's `/api/aquarius/assets/ddo/{did}` serves.
//!
//! The validation rules are those of the DDO 4.1.0 SHACL schema that ocean-node and
//! `@oceanprotocol/ddo-js` validate with (`schemas/4.1.0.ttl`): required fields and their
//! cardinality and types, plus the checks `V4DDO.validate` adds (a valid NFT address, and an `id`
//! equal to the DID derived from the NFT address and chain id), plus the formats Ocean's documents
//! give (`metadata.type` is `dataset` or `algorithm`, `created`/`updated` are ISO 8601 UTC,
//! addresses are 20-byte hex, the service endpoint is an http(s) URL, `files` is hex).

use alloy::primitives::{Address, B256};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::did::did_for;

/// The DDO version written by this crate.
pub const DDO_VERSION: &str = "4.1.0";

/// A DDO v4 (the fields this crate writes; unknown fields survive a round trip).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Ddo {
    /// JSON-LD context (`https://w3id.org/did/v1`).
    #[serde(rename = "@context")]
    pub context: Vec<String>,
    /// `did:op:...`, derived from `nft_address` and `chain_id`.
    pub id: String,
    /// DDO schema version.
    pub version: String,
    /// Chain of the data NFT.
    pub chain_id: u64,
    /// The data NFT (checksummed).
    pub nft_address: String,
    /// What the asset is.
    pub metadata: Metadata,
    /// How it is obtained.
    pub services: Vec<Service>,
}

/// `metadata` of a DDO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    /// First publication (ISO 8601 UTC), kept across updates.
    pub created: String,
    /// This version (ISO 8601 UTC).
    pub updated: String,
    /// `dataset`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Title.
    pub name: String,
    /// Description (what a record is and the anonymity rule).
    pub description: String,
    /// Who made it.
    pub author: String,
    /// Licence.
    pub license: String,
    /// Keywords.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Holder of the copyright.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copyright_holder: Option<String>,
    /// Free-form: the release (version, file digests, months, counts) lives here.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub additional_information: Value,
}

/// One service of a DDO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// Stable identifier (the provider fee's `providerData` names it).
    pub id: String,
    /// `access` (download).
    #[serde(rename = "type")]
    pub kind: String,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Display description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The files object, encrypted to the Provider (`0x` hex).
    pub files: String,
    /// The datatoken that pays for this service.
    pub datatoken_address: String,
    /// The Provider's URL (the hospital node).
    pub service_endpoint: String,
    /// Seconds an order stays valid for downloads (0 = forever).
    pub timeout: u64,
}

impl Ddo {
    /// The DDO as the exact bytes that go on chain (compact JSON).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a DDO serialises")
    }

    /// The DDO as JSON.
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a DDO serialises")
    }

    /// The NFT address.
    pub fn nft(&self) -> Result<Address, DdoError> {
        self.nft_address
            .parse()
            .map_err(|_| DdoError::Field { path: "nftAddress".into(), reason: "not an address".into() })
    }

    /// The index and service with `id`.
    pub fn service(&self, id: &str) -> Option<(usize, &Service)> {
        self.services.iter().enumerate().find(|(_, s)| s.id == id)
    }
}

/// The `metaDataHash` for a DDO published unencrypted (flags 0): SHA-256 of the `0x`-prefixed
/// lowercase hex of its bytes, exactly as ocean.js `createAsset` computes it and ocean-node's
/// indexer (`checkDdoHash`) checks it.
pub fn metadata_hash(ddo_bytes: &[u8]) -> B256 {
    let hexed = format!("0x{}", hex::encode(ddo_bytes));
    B256::from_slice(&Sha256::digest(hexed.as_bytes()))
}

/// A DDO that breaks a schema rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DdoError {
    /// One rule broken at `path`.
    #[error("DDO field {path}: {reason}")]
    Field {
        /// JSON path (`services[0].timeout`).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Several rules broken.
    #[error("DDO breaks {} rules: {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Many(Vec<Self>),
}

/// Checks `ddo` (a DDO or an indexed asset) against the DDO 4.1.0 rules; every violation is
/// reported.
pub fn validate(ddo: &Value) -> Result<(), DdoError> {
    let mut v = Validator::default();
    v.check(ddo);
    match v.errors.len() {
        0 => Ok(()),
        1 => Err(v.errors.remove(0)),
        _ => Err(DdoError::Many(v.errors)),
    }
}

#[derive(Default)]
struct Validator {
    errors: Vec<DdoError>,
}

fn is_address(s: &str) -> bool {
    s.len() == 42 && s.starts_with("0x") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

/// `YYYY-MM-DDTHH:MM:SS[.mmm]Z`, the pattern the 4.1.0 schema gives for `created`/`updated`.
fn is_iso_utc(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let base = b.len() >= 20
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    base && (&s[19..] == "Z" || (s.len() == 24 && b[19] == b'.' && digits(20..23) && b[23] == b'Z'))
}

impl Validator {
    fn fail(&mut self, path: impl Into<String>, reason: impl Into<String>) {
        self.errors.push(DdoError::Field { path: path.into(), reason: reason.into() });
    }

    /// A required (or optional) string field.
    fn string<'a>(&mut self, obj: &'a Value, parent: &str, key: &str, required: bool) -> Option<&'a str> {
        let path = if parent.is_empty() { key.to_owned() } else { format!("{parent}.{key}") };
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.fail(path, "required");
                }
                None
            }
            Some(Value::String(s)) => Some(s),
            Some(_) => {
                self.fail(path, "must be a string");
                None
            }
        }
    }

    fn string_list(&mut self, obj: &Value, parent: &str, key: &str) {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(Value::String(_)) => {}
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
            Some(_) => self.fail(format!("{parent}.{key}"), "must be strings"),
        }
    }

    fn check(&mut self, ddo: &Value) {
        if !ddo.is_object() {
            self.fail("$", "must be an object");
            return;
        }
        let id = self.string(ddo, "", "id", true);
        if let Some(id) = id.filter(|id| !id.starts_with("did:op:")) {
            self.fail("id", format!("{id:?} does not match ^did:op:"));
        }
        if let Some(version) = self.string(ddo, "", "version", true) {
            if !version.starts_with("4.") {
                self.fail("version", format!("{version:?} is not a DDO v4 version"));
            }
        }
        let chain_id = match ddo.get("chainId") {
            Some(Value::Number(n)) if n.is_u64() => n.as_u64(),
            Some(_) => {
                self.fail("chainId", "must be an integer");
                None
            }
            None => {
                self.fail("chainId", "required");
                None
            }
        };
        let nft = self.string(ddo, "", "nftAddress", true);
        let nft = nft.and_then(|a| match a.parse::<Address>() {
            Ok(addr) if is_address(a) => Some(addr),
            _ => {
                self.fail("nftAddress", format!("{a:?} is not an address"));
                None
            }
        });
        if let (Some(id), Some(chain_id), Some(nft)) = (id, chain_id, nft) {
            let expected = did_for(nft, chain_id);
            if id != expected {
                self.fail("id", format!("is not the DID of this NFT and chain ({expected})"));
            }
        }
        match ddo.get("metadata") {
            Some(m @ Value::Object(_)) => self.metadata(m),
            Some(_) => self.fail("metadata", "must be an object"),
            None => self.fail("metadata", "required"),
        }
        match ddo.get("services") {
            Some(Value::Array(services)) if !services.is_empty() => {
                for (i, s) in services.iter().enumerate() {
                    self.service(s, &format!("services[{i}]"));
                }
            }
            Some(Value::Array(_)) => self.fail("services", "needs at least one service"),
            Some(_) => self.fail("services", "must be an array"),
            None => self.fail("services", "required"),
        }
    }

    fn metadata(&mut self, m: &Value) {
        let p = "metadata";
        for key in ["description", "name", "author", "license"] {
            self.string(m, p, key, true);
        }
        if let Some(kind) = self.string(m, p, "type", true) {
            if kind != "dataset" && kind != "algorithm" {
                self.fail("metadata.type", format!("{kind:?} is neither dataset nor algorithm"));
            }
        }
        for key in ["created", "updated"] {
            if let Some(t) = self.string(m, p, key, true) {
                if !is_iso_utc(t) {
                    self.fail(format!("metadata.{key}"), format!("{t:?} is not YYYY-MM-DDTHH:MM:SSZ"));
                }
            }
        }
        self.string(m, p, "copyrightHolder", false);
        self.string(m, p, "contentLanguage", false);
        for key in ["links", "tags", "categories"] {
            self.string_list(m, p, key);
        }
        if m.get("type").and_then(Value::as_str) == Some("algorithm") && m.get("algorithm").is_none() {
            self.fail("metadata.algorithm", "required for an algorithm");
        }
    }

    fn service(&mut self, s: &Value, p: &str) {
        if !s.is_object() {
            self.fail(p, "must be an object");
            return;
        }
        self.string(s, p, "id", true);
        if let Some(kind) = self.string(s, p, "type", true) {
            if kind != "access" && kind != "compute" {
                self.fail(format!("{p}.type"), format!("{kind:?} is neither access nor compute"));
            }
        }
        self.string(s, p, "name", false);
        self.string(s, p, "description", false);
        if let Some(dt) = self.string(s, p, "datatokenAddress", true) {
            if !is_address(dt) {
                self.fail(format!("{p}.datatokenAddress"), format!("{dt:?} is not an address"));
            }
        }
        if let Some(url) = self.string(s, p, "serviceEndpoint", true) {
            let ok = (url.starts_with("http://") || url.starts_with("https://"))
                && !url.contains(char::is_whitespace);
            if !ok {
                self.fail(format!("{p}.serviceEndpoint"), format!("{url:?} is not an http(s) URL"));
            }
        }
        if let Some(files) = self.string(s, p, "files", true) {
            let hex = files.strip_prefix("0x").unwrap_or(files);
            if hex.is_empty() || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                self.fail(format!("{p}.files"), "must be the encrypted files object as hex");
            }
        }
        match s.get("timeout") {
            Some(Value::Number(n)) if n.is_u64() => {}
            Some(_) => self.fail(format!("{p}.timeout"), "must be a non-negative integer"),
            None => self.fail(format!("{p}.timeout"), "required"),
        }
        if s.get("type").and_then(Value::as_str) == Some("compute")
            && !s.get("compute").is_some_and(Value::is_object)
        {
            self.fail(format!("{p}.compute"), "required for a compute service");
        }
    }
}

/// ISO 8601 UTC (`YYYY-MM-DDTHH:MM:SSZ`) for a unix time.
pub fn iso_utc(unix_seconds: u64) -> String {
    let days = (unix_seconds / 86_400) as i64;
    let secs = unix_seconds % 86_400;
    let (y, m, d) = crate::ledger::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

/// What ocean-node's indexer adds to a DDO: `indexedMetadata` (NFT, last metadata event,
/// pricing stats, purgatory) and `datatokens`. `orderAsset` in ocean.js reads `datatokens`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Asset {
    /// The DDO itself.
    #[serde(flatten)]
    pub ddo: Ddo,
    /// What the chain says about it.
    pub indexed_metadata: Value,
    /// `[{address, name, symbol, serviceId}]`, one per service.
    pub datatokens: Vec<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn sample() -> Value {
        let nft: Address = "0x1111111111111111111111111111111111111111".parse().unwrap();
        json!({
            "@context": ["https://w3id.org/did/v1"],
            "id": did_for(nft, 31337),
            "version": "4.1.0",
            "chainId": 31337,
            "nftAddress": nft.to_checksum(None),
            "metadata": {
                "created": "2026-03-01T10:00:00Z",
                "updated": "2026-03-02T10:00:00Z",
                "type": "dataset",
                "name": "n", "description": "d", "author": "a", "license": "CC-BY-4.0",
                "tags": ["mri"],
            },
            "services": [{
                "id": "s", "type": "access", "files": "0xabcd",
                "datatokenAddress": "0x2222222222222222222222222222222222222222",
                "serviceEndpoint": "http://127.0.0.1:8080", "timeout": 86400
            }]
        })
    }

    fn errors_at(v: &Value) -> Vec<String> {
        match validate(v) {
            Ok(()) => vec![],
            Err(DdoError::Field { path, .. }) => vec![path],
            Err(DdoError::Many(all)) => all
                .into_iter()
                .map(|e| match e {
                    DdoError::Field { path, .. } => path,
                    DdoError::Many(_) => unreachable!(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_good_ddo_passes_and_round_trips() {
        let v = sample();
        validate(&v).unwrap();
        let ddo: Ddo = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(ddo.to_value(), v);
    }

    #[test]
    fn every_required_field_is_required() {
        for key in ["id", "version", "chainId", "nftAddress", "metadata", "services"] {
            let mut v = sample();
            v.as_object_mut().unwrap().remove(key);
            assert!(errors_at(&v).contains(&key.to_owned()), "{key}: {:?}", errors_at(&v));
        }
        for key in ["description", "name", "type", "author", "license", "created", "updated"] {
            let mut v = sample();
            v["metadata"].as_object_mut().unwrap().remove(key);
            assert_eq!(errors_at(&v), vec![format!("metadata.{key}")]);
        }
        for key in ["id", "type", "datatokenAddress", "serviceEndpoint", "files", "timeout"] {
            let mut v = sample();
            v["services"][0].as_object_mut().unwrap().remove(key);
            assert_eq!(errors_at(&v), vec![format!("services[0].{key}")]);
        }
    }

    #[test]
    fn formats_are_checked() {
        type Mutation = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("id", Box::new(|v| v["id"] = json!(format!("did:op:{}", "0".repeat(64))))),
            ("id", Box::new(|v| v["id"] = json!("did:ope:1"))),
            ("chainId", Box::new(|v| v["chainId"] = json!("31337"))),
            ("version", Box::new(|v| v["version"] = json!("5.0.0"))),
            ("nftAddress", Box::new(|v| v["nftAddress"] = json!("0x12"))),
            ("metadata.type", Box::new(|v| v["metadata"]["type"] = json!("model"))),
            ("metadata.created", Box::new(|v| v["metadata"]["created"] = json!("2026-03-01"))),
            ("metadata.name", Box::new(|v| v["metadata"]["name"] = json!(3))),
            ("metadata.tags", Box::new(|v| v["metadata"]["tags"] = json!([1]))),
            ("services", Box::new(|v| v["services"] = json!([]))),
            ("services[0].timeout", Box::new(|v| v["services"][0]["timeout"] = json!(-1))),
            ("services[0].timeout", Box::new(|v| v["services"][0]["timeout"] = json!("60"))),
            ("services[0].type", Box::new(|v| v["services"][0]["type"] = json!("download"))),
            ("services[0].files", Box::new(|v| v["services"][0]["files"] = json!("https://x/file.csv"))),
            (
                "services[0].serviceEndpoint",
                Box::new(|v| v["services"][0]["serviceEndpoint"] = json!("ftp://x")),
            ),
            (
                "services[0].datatokenAddress",
                Box::new(|v| v["services"][0]["datatokenAddress"] = json!("dt")),
            ),
        ];
        for (path, mutate) in cases {
            let mut v = sample();
            mutate(&mut v);
            assert!(errors_at(&v).contains(&path.to_owned()), "{path}: {:?}", errors_at(&v));
        }
        let mut v = sample();
        v["metadata"]["updated"] = json!("2026-03-02T10:00:00.123Z");
        validate(&v).unwrap();
    }

    #[test]
    fn hash_matches_ocean_js() {
        // ocean.js (run with node): '0x' + createHash('sha256').update(hexlify(Buffer.from('{"a":1}'))).digest('hex')
        assert_eq!(
            metadata_hash(br#"{"a":1}"#).to_string(),
            "0xf634d4a2d5a8d7257e55f596d925fa3baaa69e2b5666f0995fe0b1b75fad3faa"
        );
    }

    #[test]
    fn iso_times() {
        assert_eq!(iso_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso_utc(1_773_576_000), "2026-03-15T12:00:00Z");
        assert!(is_iso_utc(&iso_utc(1_709_251_199)));
    }
}
