//! The UnixFS file layout of `ipfs add --cid-version=1 --raw-leaves --chunker=size-262144`.
//!
//! A file of at most one chunk is a single raw block. A larger file is a balanced tree: raw
//! leaves of [`CHUNK_SIZE`] bytes, grouped [`MAX_LINKS`] to a dag-pb node, those nodes grouped
//! again, until one root remains. Kubo (go-unixfs `balanced.Layout`) and js-ipfs
//! (`ipfs-unixfs-importer`'s `balanced` layout) build the same tree, so the same bytes get the same
//! CID on either node and here.

use crate::{
    cid::{read_varint, write_varint, Cid, DAG_PB_CODEC, RAW_CODEC},
    error::StorageError,
};

/// Bytes per leaf (Kubo's `size-262144` chunker, its default).
pub const CHUNK_SIZE: usize = 262_144;
/// Children per dag-pb node (Kubo's `helpers.DefaultLinksPerBlock`).
pub const MAX_LINKS: usize = 174;

const UNIXFS_FILE: u64 = 2;
const UNIXFS_RAW: u64 = 0;

/// Receives every block of a DAG, children before their parents.
pub(crate) trait BlockSink {
    /// Stores one block under its CID.
    fn put_block(&mut self, cid: &Cid, block: &[u8]) -> Result<(), StorageError>;
}

/// Computes CIDs without keeping any block.
#[derive(Debug, Default)]
pub(crate) struct NoSink;

impl BlockSink for NoSink {
    fn put_block(&mut self, _: &Cid, _: &[u8]) -> Result<(), StorageError> {
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Link {
    cid: Cid,
    /// The dag-pb `Tsize`: every byte of every block under this link, itself included.
    tsize: u64,
    /// File bytes under this link (an entry of the parent's UnixFS `blocksizes`).
    file_size: u64,
}

/// Builds the DAG of a byte stream incrementally, holding at most one chunk and the pending links
/// of each tree level in memory.
#[derive(Debug)]
pub(crate) struct DagBuilder<S> {
    sink: S,
    pending: Vec<u8>,
    /// `levels[0]` holds leaves, `levels[k]` nodes of height `k`. A level is flushed into a parent
    /// only when a further entry arrives, because only then is it known not to be the root.
    levels: Vec<Vec<Link>>,
    bytes: u64,
}

impl<S: BlockSink> DagBuilder<S> {
    pub(crate) fn new(sink: S) -> Self {
        Self { sink, pending: Vec::with_capacity(CHUNK_SIZE), levels: vec![Vec::new()], bytes: 0 }
    }

    /// Appends file bytes.
    pub(crate) fn update(&mut self, mut data: &[u8]) -> Result<(), StorageError> {
        self.bytes += data.len() as u64;
        while !data.is_empty() {
            let take = (CHUNK_SIZE - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.pending.len() == CHUNK_SIZE {
                self.emit_leaf()?;
            }
        }
        Ok(())
    }

    /// Total file bytes seen so far.
    pub(crate) const fn len(&self) -> u64 {
        self.bytes
    }

    /// Writes the remaining blocks and returns the root CID and the sink.
    pub(crate) fn finish(mut self) -> Result<(Cid, S), StorageError> {
        // An empty file is one empty raw leaf, as with Kubo's raw leaves.
        if !self.pending.is_empty() || self.levels[0].is_empty() {
            self.emit_leaf()?;
        }
        if self.levels.len() == 1 && self.levels[0].len() == 1 {
            return Ok((self.levels[0][0].cid, self.sink));
        }
        let mut height = 0;
        loop {
            let top = height == self.levels.len() - 1;
            if top && height > 0 && self.levels[height].len() == 1 {
                return Ok((self.levels[height][0].cid, self.sink));
            }
            let children = std::mem::take(&mut self.levels[height]);
            let node = self.emit_node(&children)?;
            self.push(height + 1, node)?;
            height += 1;
        }
    }

    fn emit_leaf(&mut self) -> Result<(), StorageError> {
        let cid = Cid::v1_for_block(RAW_CODEC, &self.pending);
        self.sink.put_block(&cid, &self.pending)?;
        let size = self.pending.len() as u64;
        self.pending.clear();
        self.push(0, Link { cid, tsize: size, file_size: size })
    }

    fn push(&mut self, height: usize, link: Link) -> Result<(), StorageError> {
        if self.levels.len() == height {
            self.levels.push(Vec::new());
        }
        if self.levels[height].len() == MAX_LINKS {
            let children = std::mem::take(&mut self.levels[height]);
            let node = self.emit_node(&children)?;
            self.push(height + 1, node)?;
        }
        self.levels[height].push(link);
        Ok(())
    }

    fn emit_node(&mut self, children: &[Link]) -> Result<Link, StorageError> {
        let block = encode_file_node(children);
        let cid = Cid::v1_for_block(DAG_PB_CODEC, &block);
        self.sink.put_block(&cid, &block)?;
        Ok(Link {
            cid,
            tsize: block.len() as u64 + children.iter().map(|l| l.tsize).sum::<u64>(),
            file_size: children.iter().map(|l| l.file_size).sum(),
        })
    }
}

/// The CID that `ipfs add --cid-version=1 --raw-leaves --chunker=size-262144` gives `data`.
pub fn compute_cid(data: &[u8]) -> Cid {
    let mut builder = DagBuilder::new(NoSink);
    builder.update(data).expect("NoSink cannot fail");
    builder.finish().expect("NoSink cannot fail").0
}

/// dag-pb: links (field 2) before data (field 1), the canonical order Kubo and js-ipfs write.
fn encode_file_node(children: &[Link]) -> Vec<u8> {
    let mut unixfs = Vec::with_capacity(16 + children.len() * 4);
    put_key(&mut unixfs, 1, 0);
    write_varint(&mut unixfs, UNIXFS_FILE);
    put_key(&mut unixfs, 3, 0);
    write_varint(&mut unixfs, children.iter().map(|l| l.file_size).sum());
    // proto2 `repeated uint64` is not packed: one key per entry.
    for link in children {
        put_key(&mut unixfs, 4, 0);
        write_varint(&mut unixfs, link.file_size);
    }

    let mut node = Vec::with_capacity(unixfs.len() + children.len() * 48);
    let mut pb_link = Vec::with_capacity(48);
    for link in children {
        pb_link.clear();
        put_bytes(&mut pb_link, 1, &link.cid.to_bytes());
        // Both implementations write the empty name rather than omitting it.
        put_bytes(&mut pb_link, 2, b"");
        put_key(&mut pb_link, 3, 0);
        write_varint(&mut pb_link, link.tsize);
        put_bytes(&mut node, 2, &pb_link);
    }
    put_bytes(&mut node, 1, &unixfs);
    node
}

fn put_key(out: &mut Vec<u8>, field: u64, wire_type: u64) {
    write_varint(out, field << 3 | wire_type);
}

fn put_bytes(out: &mut Vec<u8>, field: u64, bytes: &[u8]) {
    put_key(out, field, 2);
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// What a verified block contributes to the file: inline bytes, then children in order.
#[derive(Debug)]
pub(crate) struct FileNode<'a> {
    pub(crate) data: &'a [u8],
    pub(crate) links: Vec<Cid>,
    /// The UnixFS `filesize`, which must equal the bytes under this node.
    pub(crate) file_size: Option<u64>,
}

/// Decodes a block already checked against `cid`.
pub(crate) fn decode_block<'a>(cid: &Cid, block: &'a [u8]) -> Result<FileNode<'a>, StorageError> {
    match cid.codec() {
        RAW_CODEC => Ok(FileNode { data: block, links: Vec::new(), file_size: None }),
        DAG_PB_CODEC => decode_dag_pb(block)
            .map_err(|reason| StorageError::MalformedBlock { cid: *cid, reason: reason.to_owned() }),
        other => Err(StorageError::UnsupportedCid(format!("{cid} has codec 0x{other:x}"))),
    }
}

fn decode_dag_pb(block: &[u8]) -> Result<FileNode<'_>, &'static str> {
    let mut links = Vec::new();
    let mut unixfs: Option<&[u8]> = None;
    for field in Fields::new(block) {
        match field? {
            (2, Value::Bytes(link)) => {
                let hash = Fields::new(link)
                    .find_map(|f| match f {
                        Ok((1, Value::Bytes(hash))) => Some(Ok(hash)),
                        Ok(_) => None,
                        Err(e) => Some(Err(e)),
                    })
                    .ok_or("link without hash")??;
                links.push(Cid::from_bytes(hash).map_err(|_| "link hash is not a CID")?);
            }
            (1, Value::Bytes(data)) => unixfs = Some(data),
            _ => return Err("unexpected dag-pb field"),
        }
    }
    let unixfs = unixfs.ok_or("dag-pb node without UnixFS data")?;
    let mut kind = None;
    let mut data: &[u8] = &[];
    let mut file_size = None;
    for field in Fields::new(unixfs) {
        match field? {
            (1, Value::Varint(t)) => kind = Some(t),
            (2, Value::Bytes(d)) => data = d,
            (3, Value::Varint(size)) => file_size = Some(size),
            // blocksizes, hash type, fanout, mode, mtime: not needed to read a file's bytes.
            _ => {}
        }
    }
    match kind {
        Some(UNIXFS_FILE | UNIXFS_RAW) => Ok(FileNode { data, links, file_size }),
        Some(_) => Err("UnixFS node is not a file"),
        None => Err("UnixFS data without type"),
    }
}

enum Value<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// A protobuf field reader that knows just the wire types dag-pb and UnixFS use.
struct Fields<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    const fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u64, Value<'a>), &'static str>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let result = (|| {
            let key = read_varint(self.bytes, &mut self.pos).ok_or("truncated key")?;
            let value = match key & 7 {
                0 => Value::Varint(read_varint(self.bytes, &mut self.pos).ok_or("truncated varint")?),
                2 => {
                    let len = read_varint(self.bytes, &mut self.pos).ok_or("truncated length")?;
                    let end = usize::try_from(len)
                        .ok()
                        .and_then(|len| self.pos.checked_add(len))
                        .filter(|&end| end <= self.bytes.len())
                        .ok_or("length past end of block")?;
                    let value = &self.bytes[self.pos..end];
                    self.pos = end;
                    Value::Bytes(value)
                }
                _ => return Err("unsupported wire type"),
            };
            Ok((key >> 3, value))
        })();
        if result.is_err() {
            // Stop after the first error instead of reading garbage from a misaligned position.
            self.pos = self.bytes.len();
        }
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[derive(Default)]
    struct MemSink(HashMap<Cid, Vec<u8>>, Vec<Cid>);

    impl BlockSink for MemSink {
        fn put_block(&mut self, cid: &Cid, block: &[u8]) -> Result<(), StorageError> {
            self.0.insert(*cid, block.to_vec());
            self.1.push(*cid);
            Ok(())
        }
    }

    fn read_back(blocks: &HashMap<Cid, Vec<u8>>, root: &Cid) -> Vec<u8> {
        let block = &blocks[root];
        assert!(root.matches(block));
        let node = decode_block(root, block).unwrap();
        let mut out = node.data.to_vec();
        for child in &node.links {
            out.extend(read_back(blocks, child));
        }
        if let Some(size) = node.file_size {
            assert_eq!(size, out.len() as u64);
        }
        out
    }

    fn build(data: &[u8], piece: usize) -> (Cid, MemSink) {
        let mut builder = DagBuilder::new(MemSink::default());
        for part in data.chunks(piece.max(1)) {
            builder.update(part).unwrap();
        }
        builder.finish().unwrap()
    }

    #[test]
    fn one_chunk_is_a_single_raw_block() {
        let data = vec![7u8; CHUNK_SIZE];
        let (root, sink) = build(&data, 1000);
        assert_eq!(root.codec(), RAW_CODEC);
        assert_eq!(sink.0.len(), 1);
        assert_eq!(root, Cid::v1_for_block(RAW_CODEC, &data));
    }

    #[test]
    fn empty_file_is_the_empty_raw_block() {
        let (root, _) = build(b"", 1);
        assert_eq!(root.to_string(), "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
    }

    #[test]
    fn tree_shape_and_roundtrip_across_levels() {
        // Shrinking the test instead of the constants would test a different layout; 175 chunks
        // is the smallest file that needs a second level.
        let data: Vec<u8> = (0..(MAX_LINKS * CHUNK_SIZE + 5)).map(|i| (i % 251) as u8).collect();
        let (root, sink) = build(&data, 100_003);
        assert_eq!(root.codec(), DAG_PB_CODEC);
        let top = decode_block(&root, &sink.0[&root]).unwrap();
        assert_eq!(top.links.len(), 2, "174 full leaves in one child, the 175th in a second");
        let second = decode_block(&top.links[1], &sink.0[&top.links[1]]).unwrap();
        assert_eq!(second.links.len(), 1);
        assert_eq!(sink.1.last(), Some(&root), "the root is written last");
        assert_eq!(read_back(&sink.0, &root), data);
        assert_eq!(compute_cid(&data), root);
    }

    #[test]
    fn chunking_of_the_input_does_not_change_the_cid() {
        let data: Vec<u8> = (0..(3 * CHUNK_SIZE + 17)).map(|i| (i * 7 % 256) as u8).collect();
        let whole = build(&data, data.len()).0;
        assert_eq!(build(&data, 4096).0, whole);
        assert_eq!(build(&data, CHUNK_SIZE + 1).0, whole);
    }

    #[test]
    fn malformed_dag_pb_is_rejected() {
        let cid = Cid::v1_for_block(DAG_PB_CODEC, b"x");
        assert!(decode_block(&cid, &[0x12, 0x05, 0x0a]).is_err());
        assert!(decode_block(&cid, &[0x0a, 0x02, 0x08, 0x01]).is_err(), "a directory is not a file");
        assert!(decode_block(&cid, &[]).is_err());
    }
}
