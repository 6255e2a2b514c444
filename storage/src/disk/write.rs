//! Writing chunks: head-sealed chunks appended to their partition's head
//! file, whole series written as segments, and head files compacted into
//! segments once the head has moved past their partition.

use super::index::{encode_segment_block, samples_key, segment_key};
use super::reader::sort_dedup;
use super::*;
use crate::chunkenc::{self, MAX_CHUNK_SAMPLES};
use crate::model::value::Sample;
use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::sync::Arc;

impl Disk {
    /// Appends head-sealed chunks to their partitions' head files. Durable
    /// after [`Disk::sync`].
    pub fn write_chunks(&self, chunks: &[ChunkToWrite]) -> io::Result<()> {
        let mut by_part: BTreeMap<i64, Vec<&ChunkToWrite>> = BTreeMap::new();
        for c in chunks {
            by_part.entry(partition_of(c.mint)).or_default().push(c);
        }
        for (start, cs) in by_part {
            let p = self.partition(start)?;
            let encoded: Vec<Option<Vec<u8>>> = cs.iter().map(|c| chunkenc::compact(&c.bytes)).collect();
            let mut buf = Vec::new();
            let mut locs = Vec::with_capacity(cs.len());
            let mut head = lock(&p.head);
            if head.is_none() {
                let path = p.dir.join("head");
                let file = OpenOptions::new().read(true).append(true).create(true).open(&path)?;
                let len = file.metadata()?.len();
                if len == 0 {
                    (&file).write_all(HEAD_MAGIC)?;
                }
                *head = Some(HeadFile { file, len: len.max(HEAD_MAGIC.len() as u64) });
            }
            let h = head.as_mut().expect("opened above");
            let mut samples = 0u64;
            for (c, e) in cs.iter().zip(&encoded) {
                let bytes = e.as_deref().unwrap_or(&c.bytes);
                let crc = crc32fast::hash(bytes);
                buf.extend_from_slice(&c.series.to_le_bytes());
                buf.extend_from_slice(&c.mint.to_le_bytes());
                buf.extend_from_slice(&c.maxt.to_le_bytes());
                buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
                buf.extend_from_slice(&crc.to_le_bytes());
                let off = h.len + buf.len() as u64;
                buf.extend_from_slice(bytes);
                locs.push((c.series, ChunkLoc { mint: c.mint, maxt: c.maxt, off, len: bytes.len() as u32, crc }));
                samples += u64::from(chunkenc::count(bytes));
            }
            if let Err(e) = (&h.file).write_all(&buf) {
                let _ = h.file.set_len(h.len);
                return Err(e);
            }
            h.len += buf.len() as u64;
            p.head_bytes.store(h.len, std::sync::atomic::Ordering::Relaxed);
            p.head_samples.fetch_add(samples, std::sync::atomic::Ordering::Relaxed);
            let mut refs = write_lock(&p.head_refs);
            for (series, loc) in locs {
                let v = refs.entry(series).or_default();
                let at = v.partition_point(|c| c.mint <= loc.mint);
                v.insert(at, loc);
            }
        }
        Ok(())
    }

    /// Writes whole series into new segments, one per partition touched
    /// (imports). Each series' samples must be sorted and unique by time.
    pub fn write_series(&self, series: &[(u32, Vec<Sample>)]) -> io::Result<u64> {
        let mut by_part: BTreeMap<i64, Vec<(u32, &[Sample])>> = BTreeMap::new();
        for (id, samples) in series {
            let mut rest = &samples[..];
            while let Some(first) = rest.first() {
                let end = partition_of(first.t).saturating_add(PARTITION_MS);
                let n = rest.partition_point(|s| s.t < end);
                by_part.entry(partition_of(first.t)).or_default().push((*id, &rest[..n]));
                rest = &rest[n..];
            }
        }
        let mut chunks = 0;
        for (start, mut list) in by_part {
            list.sort_by_key(|(id, _)| *id);
            let p = self.partition(start)?;
            chunks += self.write_segment(&p, &list)?;
        }
        Ok(chunks)
    }

    /// Writes one segment of series (sorted by id) into partition `p`, file
    /// first, then its index blocks; returns the chunks written.
    pub(super) fn write_segment(&self, p: &Partition, series: &[(u32, &[Sample])]) -> io::Result<u64> {
        let n = read_lock(&p.segments).iter().map(|s| s.n).max().map_or(1, |n| n + 1);
        let path = p.dir.join(format!("{n}.seg"));
        let mut data = Vec::with_capacity(64 << 10);
        data.extend_from_slice(SEGMENT_MAGIC);
        let mut blocks: Vec<((u32, u32), Vec<u8>)> = Vec::new();
        let mut entries: Vec<(u32, Vec<ChunkLoc>)> = Vec::new();
        let mut samples_total = 0u64;
        let mut chunk_count = 0u64;
        let flush_block = |entries: &mut Vec<(u32, Vec<ChunkLoc>)>, blocks: &mut Vec<((u32, u32), Vec<u8>)>| {
            if let (Some((first, _)), Some((last, _))) = (entries.first(), entries.last()) {
                blocks.push(((*first, *last), encode_segment_block(p.start, entries)));
                entries.clear();
            }
        };
        for (id, samples) in series {
            let mut locs = Vec::new();
            for part in samples.chunks(MAX_CHUNK_SAMPLES) {
                let pairs: Vec<(i64, f64)> = part.iter().map(|s| (s.t, s.v)).collect();
                let bytes = chunkenc::encode_best(&pairs);
                locs.push(ChunkLoc {
                    mint: part[0].t,
                    maxt: part[part.len() - 1].t,
                    off: data.len() as u64,
                    len: bytes.len() as u32,
                    crc: crc32fast::hash(&bytes),
                });
                data.extend_from_slice(&bytes);
                samples_total += part.len() as u64;
                chunk_count += 1;
            }
            entries.push((*id, locs));
            if entries.len() >= SEGMENT_BLOCK_SERIES {
                flush_block(&mut entries, &mut blocks);
            }
        }
        flush_block(&mut entries, &mut blocks);
        if blocks.is_empty() {
            return Ok(0);
        }
        {
            let mut f = OpenOptions::new().write(true).create_new(true).open(&path)?;
            if let Err(e) = f.write_all(&data).and_then(|()| f.sync_all()) {
                let _ = fs::remove_file(&path);
                return Err(e);
            }
        }
        File::open(&p.dir)?.sync_all()?;
        let firsts: Vec<(u32, u32)> = blocks.iter().map(|(f, _)| *f).collect();
        let res = self.with_index(|idx| {
            let mut batch = sled::Batch::default();
            for ((first, _), value) in blocks {
                batch.insert(&segment_key(p.start, n, first)[..], value);
            }
            idx.segments.apply_batch(batch).map_err(sled_err)?;
            idx.meta.insert(samples_key(p.start, n), &samples_total.to_le_bytes()).map_err(sled_err)?;
            idx.db.flush().map_err(sled_err)?;
            Ok(())
        });
        if let Err(e) = res {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        let map = map_file(&File::open(&path)?)?;
        write_lock(&p.segments).push(Arc::new(Segment {
            uid: next_segment_uid(),
            n,
            len: data.len() as u64,
            map: Arc::new(map),
            blocks: firsts,
        }));
        Ok(chunk_count)
    }

    /// Compacts the head files of partitions starting before `before`
    /// (the head has moved past them) into segments. Returns how many.
    pub fn compact_before(&self, before: i64) -> io::Result<usize> {
        let parts: Vec<Arc<Partition>> = read_lock(&self.parts).range(..before).map(|(_, p)| p.clone()).collect();
        let mut done = 0;
        for p in parts {
            if p.start.saturating_add(PARTITION_MS) > before {
                continue;
            }
            let mut head = lock(&p.head);
            let Some(h) = head.as_ref() else { continue };
            let refs = read_lock(&p.head_refs).clone();
            let mut ids: Vec<u32> = refs.keys().copied().collect();
            ids.sort_unstable();
            let mut series: Vec<(u32, Vec<Sample>)> = Vec::with_capacity(ids.len());
            let mut buf = Vec::new();
            for id in ids {
                let mut samples = Vec::new();
                for loc in &refs[&id] {
                    buf.resize(loc.len as usize, 0);
                    h.file.read_exact_at(&mut buf, loc.off)?;
                    if crc32fast::hash(&buf) != loc.crc {
                        tracing::warn!(
                            partition = p.start,
                            series = id,
                            "chunk fails its checksum; left out of compaction"
                        );
                        continue;
                    }
                    samples.extend(chunkenc::iter(&buf).map(|(t, v)| Sample { t, v }));
                }
                sort_dedup(&mut samples);
                if !samples.is_empty() {
                    series.push((id, samples));
                }
            }
            let list: Vec<(u32, &[Sample])> = series.iter().map(|(id, s)| (*id, &s[..])).collect();
            self.write_segment(&p, &list)?;
            // The segment is durable: the head file goes.
            *head = None;
            *write_lock(&p.head_map) = None;
            write_lock(&p.head_refs).clear();
            p.head_samples.store(0, std::sync::atomic::Ordering::Relaxed);
            p.head_bytes.store(0, std::sync::atomic::Ordering::Relaxed);
            fs::remove_file(p.dir.join("head"))?;
            done += 1;
        }
        Ok(done)
    }
}
