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

use crate::chunkenc;
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
    /// Sealed by the head (not imported).
    pub from_head: bool,
}

/// A series as the index holds it.
#[derive(Debug)]
pub struct StoredSeries {
    pub id: u32,
    pub labels: Labels,
    /// Time range of its persisted chunks (`i64::MAX, i64::MIN` when none).
    pub mint: i64,
    pub maxt: i64,
    /// Newest persisted sample that came through the head (`i64::MIN` when
    /// none), and its value bits: a restart takes the WAL from there.
    pub head_maxt: i64,
    pub last_v: u64,
}

struct Partition {
    start: i64,
    file: File,
    len: Mutex<u64>,
}

/// The sled handles. sled refuses every operation once a write of its own
/// has failed (disk full, read-only), so after an error the whole index is
/// closed and opened again; until that succeeds it is absent.
struct Index {
    db: sled::Db,
    series: sled::Tree,
    /// Samples per partition (`samples/<start>` → u64), for bytes per sample.
    meta: sled::Tree,
    trees: Mutex<BTreeMap<i64, sled::Tree>>,
}

impl Index {
    fn open(root: &Path, opts: SledOptions) -> io::Result<Index> {
        let config =
            sled::Config::new().path(root.join("index")).cache_capacity(opts.cache_bytes).flush_every_ms(Some(1000));
        // sled releases its file lock only when the flusher thread of a dropped
        // instance exits, a little after the drop (spacejam/sled#1289). The data
        // dir's own lock already keeps other processes out, so the only holder
        // can be that thread of this process: wait for it, briefly.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let db = loop {
            match config.open() {
                Ok(db) => break db,
                Err(sled::Error::Io(e))
                    if e.kind() == io::ErrorKind::WouldBlock && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(sled_err(e)),
            }
        };
        let series = db.open_tree("series").map_err(sled_err)?;
        let meta = db.open_tree("meta").map_err(sled_err)?;
        Ok(Index { db, series, meta, trees: Mutex::default() })
    }

    fn tree(&self, start: i64) -> io::Result<sled::Tree> {
        let mut trees = self.trees.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(t) = trees.get(&start) {
            return Ok(t.clone());
        }
        let t = self.db.open_tree(format!("{TREE_PREFIX}{start}")).map_err(sled_err)?;
        trees.insert(start, t.clone());
        Ok(t)
    }

    /// Partition starts with a chunk tree.
    fn partition_starts(&self) -> Vec<i64> {
        self.db
            .tree_names()
            .iter()
            .filter_map(|name| std::str::from_utf8(name).ok()?.strip_prefix(TREE_PREFIX)?.parse().ok())
            .collect()
    }
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
    opts: SledOptions,
    index: RwLock<Option<Index>>,
    parts: RwLock<BTreeMap<i64, Arc<Partition>>>,
}

fn sled_err(e: sled::Error) -> io::Error {
    match e {
        sled::Error::Io(e) => e,
        other => io::Error::other(other.to_string()),
    }
}

fn unavailable() -> io::Error {
    io::Error::other("the index is being reopened after a write error")
}

impl Disk {
    pub fn open(root: &Path, opts: SledOptions) -> io::Result<Disk> {
        fs::create_dir_all(root.join("chunks"))?;
        let index = Index::open(root, opts)?;
        let starts = index.partition_starts();
        let disk = Disk { root: root.to_path_buf(), opts, index: RwLock::new(Some(index)), parts: RwLock::default() };
        for start in starts {
            disk.partition(start)?;
        }
        Ok(disk)
    }

    /// Runs `f` on the index; a failure closes it for [`Disk::recover`].
    fn with_index<T>(&self, f: impl FnOnce(&Index) -> io::Result<T>) -> io::Result<T> {
        let res = {
            let g = self.index.read().unwrap_or_else(|e| e.into_inner());
            let Some(idx) = g.as_ref() else { return Err(unavailable()) };
            f(idx)
        };
        if res.is_err() {
            // sled keeps failing after a write error of its own: start over from what it has on disk.
            *self.index.write().unwrap_or_else(|e| e.into_inner()) = None;
        }
        res
    }

    /// Reopens the index after a failure. Returns whether it is open.
    pub fn recover(&self) -> bool {
        let mut g = self.index.write().unwrap_or_else(|e| e.into_inner());
        if g.is_some() {
            return true;
        }
        match Index::open(&self.root, self.opts) {
            Ok(idx) => {
                *g = Some(idx);
                tracing::info!("index reopened");
                true
            }
            Err(e) => {
                tracing::debug!(error = %e, "index cannot be reopened yet");
                false
            }
        }
    }

    /// Every stored series.
    pub fn load_series(&self) -> io::Result<Vec<StoredSeries>> {
        self.with_index(|idx| {
            let mut out = Vec::new();
            for kv in idx.series.iter() {
                let (k, v) = kv.map_err(sled_err)?;
                let (Ok(id), Some((m, labels))) = (<[u8; 4]>::try_from(&*k), decode_series_value(&v)) else {
                    tracing::warn!(key = ?k, "unreadable series entry in the index; skipped");
                    continue;
                };
                out.push(StoredSeries {
                    id: u32::from_be_bytes(id),
                    labels,
                    mint: m.mint,
                    maxt: m.maxt,
                    head_maxt: m.head_maxt,
                    last_v: m.last_v,
                });
            }
            Ok(out)
        })
    }

    /// Records new series (no chunks yet).
    pub fn put_series(&self, series: &[(u32, Labels)]) -> io::Result<()> {
        if series.is_empty() {
            return Ok(());
        }
        self.with_index(|idx| {
            let mut batch = sled::Batch::default();
            for (id, labels) in series {
                batch.insert(&id.to_be_bytes(), encode_series_value(&SeriesMeta::EMPTY, labels));
            }
            idx.series.apply_batch(batch).map_err(sled_err)
        })
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
        let p = Arc::new(Partition { start, file, len: Mutex::new(len) });
        parts.insert(start, p.clone());
        Ok(p)
    }

    /// Writes chunks to their partitions' files, then their references and
    /// the series' time ranges to the index. Rewriting a chunk (same series
    /// and start) replaces its reference. The index is durable only after
    /// [`Disk::sync`].
    pub fn write_chunks(
        &self,
        chunks: &[ChunkToWrite],
        series_labels: impl Fn(u32) -> Option<Labels>,
    ) -> io::Result<()> {
        let mut by_part: BTreeMap<i64, Vec<&ChunkToWrite>> = BTreeMap::new();
        for c in chunks {
            by_part.entry(partition_of(c.mint)).or_default().push(c);
        }
        let mut refs: Vec<(i64, sled::Batch, u64)> = Vec::new();
        let mut ranges: BTreeMap<u32, SeriesMeta> = BTreeMap::new();
        for (start, cs) in by_part {
            let p = self.partition(start)?;
            // Whole-number chunks are stored in the integer encoding when that is smaller.
            let encoded: Vec<Option<Vec<u8>>> = cs.iter().map(|c| chunkenc::compact(&c.bytes)).collect();
            let bytes_of = |i: usize| encoded[i].as_deref().unwrap_or(&cs[i].bytes);
            let mut buf = Vec::with_capacity(cs.iter().map(|c| c.bytes.len()).sum());
            for i in 0..cs.len() {
                buf.extend_from_slice(bytes_of(i));
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
            for (i, c) in cs.iter().enumerate() {
                let bytes = bytes_of(i);
                batch.insert(&chunk_key(c.series, c.mint)[..], &chunk_ref(off, bytes, c.maxt)[..]);
                off += bytes.len() as u64;
                ranges.entry(c.series).or_insert(SeriesMeta::EMPTY).add(c);
            }
            let samples: u64 = cs.iter().map(|c| u64::from(chunkenc::count(&c.bytes))).sum();
            refs.push((start, batch, samples));
        }
        self.with_index(|idx| {
            for (start, batch, samples) in refs {
                idx.tree(start)?.apply_batch(batch).map_err(sled_err)?;
                idx.meta
                    .fetch_and_update(samples_key(start), |old| {
                        let n = old.and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_le_bytes);
                        Some((n + samples).to_le_bytes().to_vec())
                    })
                    .map_err(sled_err)?;
            }
            let mut batch = sled::Batch::default();
            for (id, new) in ranges {
                let key = id.to_be_bytes();
                let old = idx.series.get(key).map_err(sled_err)?;
                let (mut meta, labels) = match old.as_deref().and_then(decode_series_value) {
                    Some(v) => v,
                    None => match series_labels(id) {
                        Some(l) => (SeriesMeta::EMPTY, l),
                        None => continue,
                    },
                };
                meta.merge(&new);
                batch.insert(&key, encode_series_value(&meta, &labels));
            }
            idx.series.apply_batch(batch).map_err(sled_err)
        })
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
            let refs: Vec<(i64, u64, u32, i64, u32)> = self.with_index(|idx| {
                let mut v = Vec::new();
                for kv in idx.tree(p.start)?.scan_prefix(series.to_be_bytes()) {
                    let (k, r) = kv.map_err(sled_err)?;
                    if let Some((off, len, cmaxt, crc)) = parse_chunk_ref(&r) {
                        v.push((key_time(&k), off, len, cmaxt, crc));
                    }
                }
                Ok(v)
            })?;
            for (cmint, off, len, cmaxt, crc) in refs {
                if cmaxt < mint || cmint > maxt {
                    continue;
                }
                buf.resize(len as usize, 0);
                p.file.read_exact_at(&mut buf, off)?;
                if crc32fast::hash(&buf) != crc {
                    tracing::warn!(partition = p.start, series, offset = off, "chunk fails its checksum; skipped");
                    continue;
                }
                for (t, v) in chunkenc::iter(&buf) {
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
            self.with_index(|idx| {
                idx.trees.lock().unwrap_or_else(|e| e.into_inner()).remove(&p.start);
                idx.db.drop_tree(format!("{TREE_PREFIX}{}", p.start)).map_err(sled_err)?;
                idx.meta.remove(samples_key(p.start)).map_err(sled_err)?;
                Ok(())
            })?;
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
        self.with_index(|idx| idx.db.flush().map(|_| ()).map_err(sled_err))
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
        let index = self
            .index
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map_or(0, |i| i.db.size_on_disk().unwrap_or(0));
        (chunks, index)
    }

    /// Copies the index (every tree, entry by entry) into a new sled
    /// database under `dest`, then the chunk files as they are now: a
    /// superset of what the copied index references.
    pub fn copy_to(&self, dest: &Path) -> io::Result<()> {
        let target = Index::open(dest, self.opts)?;
        self.with_index(|idx| {
            for name in idx.db.tree_names() {
                let from = idx.db.open_tree(&name).map_err(sled_err)?;
                let to = target.db.open_tree(&name).map_err(sled_err)?;
                let mut batch = sled::Batch::default();
                let mut n = 0;
                for kv in from.iter() {
                    let (k, v) = kv.map_err(sled_err)?;
                    batch.insert(k, v);
                    n += 1;
                    if n % 10_000 == 0 {
                        to.apply_batch(std::mem::take(&mut batch)).map_err(sled_err)?;
                    }
                }
                to.apply_batch(batch).map_err(sled_err)?;
            }
            Ok(())
        })?;
        target.db.flush().map_err(sled_err)?;
        drop(target);
        let chunks = dest.join("chunks");
        fs::create_dir_all(&chunks)?;
        let parts: Vec<Arc<Partition>> =
            self.parts.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        for p in parts {
            let to = chunks.join(p.start.to_string());
            match fs::copy(self.root.join("chunks").join(p.start.to_string()), &to) {
                Ok(_) => File::open(&to)?.sync_all()?,
                // Removed by retention meanwhile.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        File::open(&chunks)?.sync_all()
    }

    /// Samples in chunk files.
    pub fn samples_on_disk(&self) -> u64 {
        let g = self.index.read().unwrap_or_else(|e| e.into_inner());
        let Some(idx) = g.as_ref() else { return 0 };
        idx.meta
            .scan_prefix(b"samples/")
            .values()
            .flatten()
            .filter_map(|v| <[u8; 8]>::try_from(&*v).ok())
            .map(u64::from_le_bytes)
            .sum()
    }

    /// The index cache's capacity setting, in bytes.
    pub fn cache_capacity(&self) -> u64 {
        self.opts.cache_bytes
    }

    /// Number of partitions on disk.
    pub fn partitions(&self) -> usize {
        self.parts.read().unwrap_or_else(|e| e.into_inner()).len()
    }
}

fn samples_key(start: i64) -> Vec<u8> {
    format!("samples/{start}").into_bytes()
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

/// What the `series` tree keeps besides the labels.
#[derive(Clone, Copy, Debug)]
struct SeriesMeta {
    mint: i64,
    maxt: i64,
    head_maxt: i64,
    last_v: u64,
}

impl SeriesMeta {
    const EMPTY: SeriesMeta = SeriesMeta { mint: i64::MAX, maxt: i64::MIN, head_maxt: i64::MIN, last_v: 0 };

    fn add(&mut self, c: &ChunkToWrite) {
        self.mint = self.mint.min(c.mint);
        self.maxt = self.maxt.max(c.maxt);
        if c.from_head && c.maxt > self.head_maxt {
            (self.head_maxt, self.last_v) = (c.maxt, c.last_v);
        }
    }

    fn merge(&mut self, o: &SeriesMeta) {
        self.mint = self.mint.min(o.mint);
        self.maxt = self.maxt.max(o.maxt);
        if o.head_maxt > self.head_maxt {
            (self.head_maxt, self.last_v) = (o.head_maxt, o.last_v);
        }
    }
}

/// `mint i64 | maxt i64 | head_maxt i64 | value bits at head_maxt u64 | labels`, little-endian.
fn encode_series_value(m: &SeriesMeta, labels: &Labels) -> Vec<u8> {
    let mut v = Vec::with_capacity(32 + 16 * labels.len());
    for x in [m.mint, m.maxt, m.head_maxt] {
        v.extend_from_slice(&x.to_le_bytes());
    }
    v.extend_from_slice(&m.last_v.to_le_bytes());
    encode_labels(&mut v, labels);
    v
}

fn decode_series_value(v: &[u8]) -> Option<(SeriesMeta, Labels)> {
    let word = |k: usize| v.get(k * 8..k * 8 + 8).and_then(|b| <[u8; 8]>::try_from(b).ok());
    let meta = SeriesMeta {
        mint: i64::from_le_bytes(word(0)?),
        maxt: i64::from_le_bytes(word(1)?),
        head_maxt: i64::from_le_bytes(word(2)?),
        last_v: u64::from_le_bytes(word(3)?),
    };
    let mut pos = 32;
    let labels = decode_labels(v, &mut pos)?;
    (pos == v.len()).then_some((meta, labels))
}
