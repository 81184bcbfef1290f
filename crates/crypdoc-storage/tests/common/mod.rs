//! Shared by the integration tests: the byte pattern of the CID test vectors.

/// `len` bytes of `i % 251`, the content the CID vectors were added to js-ipfs with.
pub(crate) fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i % 251) as u8).collect()
}

/// `(length, CID)` pairs from `ipfs add --cid-version=1 --raw-leaves --chunker=size-262144
/// --cid-base=base32` of [`pattern`] on js-ipfs 0.66.1 (js-ipfs-core 0.18.1), whose CIDs for
/// these options equal Kubo's.
pub(crate) const CID_VECTORS: &[(usize, &str)] = &[
    (0, "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"),
    // Exactly one chunk: still a single raw block.
    (262_144, "bafkreibruh455iawsviqslif5c7uurdcfdemh22mtnytyzvnzn75kpejxy"),
    // One byte more: a dag-pb root over two raw leaves.
    (262_145, "bafybeiexg2oqkfnj56l7fcmawswqbijt5shq4b5rg6a546uwpkqqzwjioi"),
    (300 * 1024, "bafybeicqqpsudfblbjer72m5vzragvjxnpa7tv65nbz72epjrcxqm3jcs4"),
    (1 << 20, "bafybeiedpcapwld4tkgtzwahfofgn4wex5ryysf4se6hwpmlrsh4ntnrau"),
];

/// 175 leaves, one more than a node holds: a two-level tree (`ipfs add` as above).
pub(crate) const TWO_LEVEL_VECTOR: (usize, &str) =
    (174 * 262_144 + 5, "bafybeieezdu5bmzsyetu6b5ict3hwjx6o7p6hudjkfuohgxmyygt7shk4y");

/// `hello\n`.
pub(crate) const HELLO_CID: &str = "bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am";
