//! Persisted data: sealed chunks in append-only partition files, and the sled
//! index that finds them.
//!
//! Time is cut into partitions of [`PARTITION_MS`]. The head cuts a chunk at
//! each partition boundary, so every chunk lies in one partition. Partition
//! `S` (its start, in ms) keeps its chunk bytes in `chunks/S` and its chunk
//! references in the sled tree `chunks/S`, keyed by series id then chunk
//! start; retention deletes the file and drops the tree, never visiting
//! samples. The sled tree `series` maps each series id to the time range
//! of its persisted chunks and its labels. storage/docs/format.md has the
//! byte layouts.

use crate::chunkenc::XorIterator;
use crate::labels::Labels;
use crate::sample::Sample;
use crate::wal::{decode_labels, encode_labels};
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// Span of one time partition: two hours, like Prometheus's head block.
pub const PARTITION_MS: i64 = 2 * 3600 * 1000;
const CHUNK_FILE_MAGIC: &[u8; 8] = b"VGCHK\0\0\x01";
const TREE_PREFIX: &str = "chunks/";

/// The start of the partition holding `t`.
pub fn partition_of(t: i64) -> i64 {
    t.div_euclid(PARTITION_MS).saturating_mul(PARTITION_MS)
}

/// A sealed chunk on its way to disk.
#[derive(Clone, Debug)]
pub struct ChunkToWrite {
    pub series: u32,
    pub mint: i64,
    pub maxt: i64,
    pub bytes: Arc<[u8]>,
    /// Bits of the value at `maxt`.
    pub last_v: u64,
}

/// A series as the index holds it.
#[derive(Debug)]
pub struct StoredSeries {
    pub id: u32,
    pub labels: Labels,
    /// Time range of its persisted chunks (`i64::MAX, i64::MIN` when none).
    pub mint: i64,
    pub maxt: i64,
    /// Bits of the value at `maxt`.
    pub last_v: u64,
}

struct Partition {
    start: i64,
    tree: sled::Tree,
    file: File,
    len: Mutex<u64>,
}

/// Sled settings that bound its memory.
#[derive(Clone, Copy, Debug)]
pub struct SledOptions {
    pub cache_bytes: u64,
}

impl Default for SledOptions {
    fn default() -> Self {
        SledOptions { cache_bytes: 64 << 20 }
    }
}

pub(crate) struct Disk {
    root: PathBuf,
    sled: sled::Db,
    series: sled::Tree,
    parts: RwLock<BTreeMap<i64, Arc<Partition>>>,
}

fn sled_err(e: sled::Error) -> io::Error {
    match e {
        sled::Error::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

impl Disk {
    pub fn open(root: &Path, opts: SledOptions) -> io::Result<Disk> {
        fs::create_dir_all(root.join("chunks"))?;
        let sled = sled::Config::new()
            .path(root.join("index"))
            .cache_capacity(opts.cache_bytes)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(sled_err)?;
        let series = sled.open_tree("series").map_err(sled_err)?;
        let disk = Disk { root: root.to_path_buf(), sled, series, parts: RwLock::default() };
        for name in disk.sled.tree_names() {
            let Some(start) = std::str::from_utf8(&name)
                .ok()
                .and_then(|n| n.strip_prefix(TREE_PREFIX))
                .and_then(|s| s.parse::<i64>().ok())
            else {
                continue;
            };
            disk.partition(start)?;
        }
        Ok(disk)
    }

    /// Every stored series.
    pub fn load_series(&self) -> io::Result<Vec<StoredSeries>> {
        let mut out = Vec::new();
        for kv in self.series.iter() {
            let (k, v) = kv.map_err(sled_err)?;
            let (Ok(id), Some((mint, maxt, last_v, labels))) = (<[u8; 4]>::try_from(&*k), decode_series_value(&v))
            else {
                tracing::warn!(key = ?k, "unreadable series entry in the index; skipped");
                continue;
            };
            out.push(StoredSeries { id: u32::from_be_bytes(id), labels, mint, maxt, last_v });
        }
        Ok(out)
    }

    /// Records new series (no chunks yet).
    pub fn put_series(&self, series: &[(u32, Labels)]) -> io::Result<()> {
        let mut batch = sled::Batch::default();
        for (id, labels) in series {
            batch.insert(&id.to_be_bytes(), encode_series_value(i64::MAX, i64::MIN, 0, labels));
        }
        self.series.apply_batch(batch).map_err(sled_err)
    }

    fn partition(&self, start: i64) -> io::Result<Arc<Partition>> {
        if let Some(p) = self.parts.read().unwrap_or_else(|e| e.into_inner()).get(&start) {
            return Ok(p.clone());
        }
        let mut parts = self.parts.write().unwrap_or_else(|e| e.into_inner());
        if let Some(p) = parts.get(&start) {
            return Ok(p.clone());
        }
        let path = self.root.join("chunks").join(start.to_string());
        let mut file = OpenOptions::new().read(true).append(true).create(true).open(&path)?;
        let mut len = file.metadata()?.len();
        if len < CHUNK_FILE_MAGIC.len() as u64 {
            file.set_len(0)?;
            file.write_all(CHUNK_FILE_MAGIC)?;
            len = CHUNK_FILE_MAGIC.len() as u64;
        }
        let tree = self.sled.open_tree(format!("{TREE_PREFIX}{start}")).map_err(sled_err)?;
        let p = Arc::new(Partition { start, tree, file, len: Mutex::new(len) });
        parts.insert(start, p.clone());
        Ok(p)
    }

    /// Writes chunks to their partitions' files, then their references and
    /// the series' time ranges to the index. On error nothing is referenced
    /// and the caller keeps the chunks.
    pub fn write_chunks(
        &self,
        chunks: &[ChunkToWrite],
        series_labels: impl Fn(u32) -> Option<Labels>,
    ) -> io::Result<()> {
        let mut by_part: BTreeMap<i64, Vec<&ChunkToWrite>> = BTreeMap::new();
        for c in chunks {
            by_part.entry(partition_of(c.mint)).or_default().push(c);
        }
        let mut ranges: BTreeMap<u32, (i64, i64, u64)> = BTreeMap::new();
        for (start, cs) in by_part {
            let p = self.partition(start)?;
            let mut buf = Vec::with_capacity(cs.iter().map(|c| c.bytes.len()).sum());
            for c in &cs {
                buf.extend_from_slice(&c.bytes);
            }
            let mut len = p.len.lock().unwrap_or_else(|e| e.into_inner());
            let base = *len;
            if let Err(e) = (&p.file).write_all(&buf) {
                let _ = p.file.set_len(base);
                return Err(e);
            }
            *len += buf.len() as u64;
            drop(len);
            let mut batch = sled::Batch::default();
            let mut off = base;
            for c in cs {
                batch.insert(&chunk_key(c.series, c.mint)[..], &chunk_ref(off, &c.bytes, c.maxt)[..]);
                off += c.bytes.len() as u64;
                let r = ranges.entry(c.series).or_insert((i64::MAX, i64::MIN, 0));
                r.0 = r.0.min(c.mint);
                if c.maxt > r.1 {
                    (r.1, r.2) = (c.maxt, c.last_v);
                }
            }
            p.tree.apply_batch(batch).map_err(sled_err)?;
        }
        let mut batch = sled::Batch::default();
        for (id, (mint, maxt, last_v)) in ranges {
            let key = id.to_be_bytes();
            let old = self.series.get(key).map_err(sled_err)?;
            let (old_min, old_max, old_v, labels) = match old.as_deref().and_then(decode_series_value) {
                Some(v) => v,
                None => match series_labels(id) {
                    Some(l) => (i64::MAX, i64::MIN, 0, l),
                    None => continue,
                },
            };
            let (maxt, last_v) = if old_max > maxt { (old_max, old_v) } else { (maxt, last_v) };
            batch.insert(&key, encode_series_value(old_min.min(mint), maxt, last_v, &labels));
        }
        self.series.apply_batch(batch).map_err(sled_err)
    }

    /// Appends the persisted samples of `series` in `[mint, maxt]` to `out`,
    /// oldest first (chunks of one partition never overlap unless imported).
    pub fn read(&self, series: u32, mint: i64, maxt: i64, out: &mut Vec<Sample>) -> io::Result<()> {
        let parts: Vec<Arc<Partition>> = {
            let parts = self.parts.read().unwrap_or_else(|e| e.into_inner());
            parts.range(partition_of(mint)..=partition_of(maxt)).map(|(_, p)| p.clone()).collect()
        };
        let mut buf = Vec::new();
        for p in parts {
            for kv in p.tree.scan_prefix(series.to_be_bytes()) {
                let (k, v) = kv.map_err(sled_err)?;
                let Some((off, len, cmaxt, crc)) = parse_chunk_ref(&v) else { continue };
                let cmint = key_time(&k);
                if cmaxt < mint || cmint > maxt {
                    continue;
                }
                buf.resize(len as usize, 0);
                p.file.read_exact_at(&mut buf, off)?;
                if crc32fast::hash(&buf) != crc {
                    tracing::warn!(partition = p.start, series, offset = off, "chunk fails its checksum; skipped");
                    continue;
                }
                for (t, v) in XorIterator::new(&buf) {
                    if t > maxt {
                        break;
                    }
                    if t >= mint {
                        out.push(Sample { t, v });
                    }
                }
            }
        }
        Ok(())
    }

    /// Deletes every partition that ends at or before `t`. Returns how many.
    pub fn drop_partitions_before(&self, t: i64) -> io::Result<usize> {
        let doomed: Vec<Arc<Partition>> = {
            let mut parts = self.parts.write().unwrap_or_else(|e| e.into_inner());
            let keep = parts.split_off(&(partition_of(t.saturating_sub(PARTITION_MS)) + PARTITION_MS));
            std::mem::replace(&mut *parts, keep).into_values().collect()
        };
        for p in &doomed {
            self.sled.drop_tree(format!("{TREE_PREFIX}{}", p.start)).map_err(sled_err)?;
            match fs::remove_file(self.root.join("chunks").join(p.start.to_string())) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(doomed.len())
    }

    /// Makes chunk files and the index durable.
    pub fn sync(&self) -> io::Result<()> {
        let parts: Vec<Arc<Partition>> =
            self.parts.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        for p in parts {
            p.file.sync_data()?;
        }
        self.sled.flush().map_err(sled_err)?;
        Ok(())
    }

    /// Bytes of chunk files and of the index on disk.
    pub fn size_on_disk(&self) -> (u64, u64) {
        let chunks = self
            .parts
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .map(|p| *p.len.lock().unwrap_or_else(|e| e.into_inner()))
            .sum();
        (chunks, self.sled.size_on_disk().unwrap_or(0))
    }

    /// Number of partitions on disk.
    pub fn partitions(&self) -> usize {
        self.parts.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

fn chunk_key(series: u32, mint: i64) -> [u8; 12] {
    let mut k = [0; 12];
    k[..4].copy_from_slice(&series.to_be_bytes());
    k[4..].copy_from_slice(&((mint as u64) ^ (1 << 63)).to_be_bytes());
    k
}

fn key_time(k: &[u8]) -> i64 {
    k.get(4..12).and_then(|b| b.try_into().ok()).map_or(i64::MIN, |b| (u64::from_be_bytes(b) ^ (1 << 63)) as i64)
}

/// `offset u64 | len u32 | maxt i64 | crc32 u32`, little-endian.
fn chunk_ref(off: u64, bytes: &[u8], maxt: i64) -> [u8; 24] {
    let mut v = [0; 24];
    v[..8].copy_from_slice(&off.to_le_bytes());
    v[8..12].copy_from_slice(&(bytes.len() as u32).to_le_bytes());
    v[12..20].copy_from_slice(&maxt.to_le_bytes());
    v[20..].copy_from_slice(&crc32fast::hash(bytes).to_le_bytes());
    v
}

fn parse_chunk_ref(v: &[u8]) -> Option<(u64, u32, i64, u32)> {
    let v: &[u8; 24] = v.try_into().ok()?;
    Some((
        u64::from_le_bytes(v[..8].try_into().ok()?),
        u32::from_le_bytes(v[8..12].try_into().ok()?),
        i64::from_le_bytes(v[12..20].try_into().ok()?),
        u32::from_le_bytes(v[20..].try_into().ok()?),
    ))
}

/// `mint i64 | maxt i64 | value bits at maxt u64 | labels`.
fn encode_series_value(mint: i64, maxt: i64, last_v: u64, labels: &Labels) -> Vec<u8> {
    let mut v = Vec::with_capacity(24 + 16 * labels.len());
    v.extend_from_slice(&mint.to_le_bytes());
    v.extend_from_slice(&maxt.to_le_bytes());
    v.extend_from_slice(&last_v.to_le_bytes());
    encode_labels(&mut v, labels);
    v
}

fn decode_series_value(v: &[u8]) -> Option<(i64, i64, u64, Labels)> {
    let mint = i64::from_le_bytes(v.get(..8)?.try_into().ok()?);
    let maxt = i64::from_le_bytes(v.get(8..16)?.try_into().ok()?);
    let last_v = u64::from_le_bytes(v.get(16..24)?.try_into().ok()?);
    let mut pos = 24;
    let labels = decode_labels(v, &mut pos)?;
    (pos == v.len()).then_some((mint, maxt, last_v, labels))
}
