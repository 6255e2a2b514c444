//! The write-ahead log: one record per append batch, in checksummed segment
//! files under `wal/`.
//!
//! A record is framed as `len u32 | crc32 u32 | kind u8 | payload`, the CRC
//! (Castagnoli would do as well; crc32fast's IEEE polynomial is fast on every
//! CPU) covering kind and payload. Records go to the kernel with one `write`
//! per batch, so a killed process loses nothing it appended; a background
//! `fdatasync` every second bounds what a power loss can take. Replay stops a
//! segment at the first torn or corrupt record; in the last segment that is
//! the tail a crash cut short, and it is cut off so the segment stays clean.

use crate::model::labels::{Label, Labels};
use crate::model::value::Sample;
use crate::model::varint::{get_uvarint, put_uvarint, unzigzag, zigzag};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

const SEGMENT_MAGIC: &[u8; 8] = b"VGWAL\0\0\x01";
/// A segment is closed and a new one started past this size.
const SEGMENT_BYTES: u64 = 64 << 20;
const KIND_SERIES: u8 = 1;
const KIND_SAMPLES: u8 = 2;
const KIND_STATE: u8 = 3;
const CHECKPOINT_PREFIX: &str = "checkpoint.";
/// Largest record replay accepts; anything bigger is corruption.
const MAX_RECORD: usize = 1 << 30;

/// A decoded record.
#[derive(Debug, PartialEq)]
pub enum Record {
    /// A series' chunks as a checkpoint recorded them.
    State(SeriesState),
    /// Series created since the previous record: id and labels.
    Series(Vec<(u32, Labels)>),
    /// One append batch: series id and sample.
    Samples(Vec<(u32, Sample)>),
}

/// The in-memory chunks of one series at a checkpoint.
#[derive(Debug, PartialEq)]
pub struct SeriesState {
    /// The series' id.
    pub id: u32,
    /// Sealed chunks not yet on disk: (mint, maxt, bytes).
    pub sealed: Vec<(i64, i64, Vec<u8>)>,
    /// The open chunk's bytes.
    pub open: Option<Vec<u8>>,
    /// The newest sample appended (time, value bits), wherever it is now:
    /// appends resume after it.
    pub last: Option<(i64, u64)>,
}

/// What replay found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ReplayStats {
    /// Segments read.
    pub segments: u64,
    /// Records read.
    pub records: u64,
    /// Segments that ended in a torn or corrupt record.
    pub corrupt_segments: u64,
}

/// The appending side of the log.
pub struct Wal {
    dir: PathBuf,
    seq: u64,
    file: Option<File>,
    len: u64,
    dirty: bool,
    buf: Vec<u8>,
}

impl Wal {
    /// Replays every segment in `dir` in order, handing each record to `f`,
    /// then opens a fresh segment after the last one.
    pub fn open(dir: &Path, mut f: impl FnMut(Record)) -> io::Result<(Wal, ReplayStats)> {
        fs::create_dir_all(dir)?;
        let mut stats = ReplayStats::default();
        // The newest checkpoint stands for every segment up to its number.
        let checkpoints = list_checkpoints(dir)?;
        let mut after = 0;
        if let Some(&n) = checkpoints.last() {
            let path = checkpoint_path(dir, n);
            let (good_len, clean) = replay_segment(&path, &mut f, &mut stats.records)?;
            if !clean {
                // Checkpoints are written whole and renamed into place: a bad one is damage, not a crash.
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("WAL checkpoint {} is corrupt at byte {good_len}", path.display()),
                ));
            }
            after = n;
        }
        for &n in &checkpoints[..checkpoints.len().saturating_sub(1)] {
            fs::remove_file(checkpoint_path(dir, n))?;
        }
        let mut segments = list_segments(dir)?;
        for &seq in segments.iter().filter(|&&s| s <= after) {
            fs::remove_file(segment_path(dir, seq))?;
        }
        segments.retain(|&s| s > after);
        let last = segments.last().copied();
        for &seq in &segments {
            stats.segments += 1;
            let path = segment_path(dir, seq);
            let (good_len, clean) = replay_segment(&path, &mut f, &mut stats.records)?;
            if !clean {
                stats.corrupt_segments += 1;
                tracing::warn!(segment = %path.display(), offset = good_len, "WAL segment ends in a torn or corrupt record; replayed up to it");
                if Some(seq) == last {
                    OpenOptions::new().write(true).open(&path)?.set_len(good_len)?;
                }
            }
        }
        let mut wal = Wal {
            dir: dir.to_path_buf(),
            seq: last.unwrap_or(after),
            file: None,
            len: 0,
            dirty: false,
            buf: Vec::new(),
        };
        wal.rotate()?;
        Ok((wal, stats))
    }

    /// Appends one batch: series created since the last call, then samples.
    /// On error nothing partial stays in the segment and the caller may retry
    /// the series with the next batch.
    pub fn log(&mut self, series: &[(u32, Labels)], samples: &[(u32, Sample)]) -> io::Result<()> {
        if series.is_empty() && samples.is_empty() {
            return Ok(());
        }
        if self.file.is_none() || self.len >= SEGMENT_BYTES {
            self.rotate()?;
        }
        self.buf.clear();
        if !series.is_empty() {
            frame(&mut self.buf, KIND_SERIES, |b| encode_series(b, series));
        }
        if !samples.is_empty() {
            frame(&mut self.buf, KIND_SAMPLES, |b| encode_samples(b, samples));
        }
        let file = self.file.as_mut().expect("rotated above");
        if let Err(e) = file.write_all(&self.buf) {
            // Cut whatever part of the record reached the file; if even that
            // fails, the next batch starts a new segment.
            if file.set_len(self.len).is_err() {
                self.file = None;
            }
            return Err(e);
        }
        self.len += self.buf.len() as u64;
        self.dirty = true;
        Ok(())
    }

    /// A handle to fsync outside the WAL's lock, when anything was written
    /// since the last call.
    pub fn take_sync_handle(&mut self) -> Option<File> {
        if !std::mem::take(&mut self.dirty) {
            return None;
        }
        self.file.as_ref().and_then(|f| f.try_clone().ok())
    }

    /// Closes the current segment and starts a new one; returns the number
    /// of the closed segment (everything logged so far is in it or before).
    pub fn cut(&mut self) -> io::Result<u64> {
        let closed = self.seq;
        if let Some(f) = &self.file {
            f.sync_data()?;
        }
        self.rotate()?;
        Ok(closed)
    }

    /// Writes a checkpoint standing for segments up to `through` (closed by
    /// [`Wal::cut`] before the states were taken), then deletes those
    /// segments and older checkpoints.
    pub fn write_checkpoint(dir: &Path, through: u64, states: impl Iterator<Item = SeriesState>) -> io::Result<()> {
        let mut buf = Vec::with_capacity(1 << 20);
        buf.extend_from_slice(SEGMENT_MAGIC);
        for st in states {
            frame(&mut buf, KIND_STATE, |b| encode_state(b, &st));
        }
        crate::dir::write_atomically(&checkpoint_path(dir, through), &buf)?;
        for n in list_checkpoints(dir)? {
            if n < through {
                fs::remove_file(checkpoint_path(dir, n))?;
            }
        }
        for seq in list_segments(dir)? {
            if seq <= through {
                fs::remove_file(segment_path(dir, seq))?;
            }
        }
        Ok(())
    }

    /// The WAL directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Bytes written to the current segment.
    pub fn segment_len(&self) -> u64 {
        self.len
    }

    /// Bytes in all segments on disk.
    pub fn size_on_disk(&self) -> u64 {
        list_segments(&self.dir)
            .unwrap_or_default()
            .iter()
            .filter_map(|&s| fs::metadata(segment_path(&self.dir, s)).ok())
            .map(|m| m.len())
            .sum()
    }

    fn rotate(&mut self) -> io::Result<()> {
        if let Some(f) = self.file.take() {
            f.sync_data()?;
        }
        self.seq += 1;
        let path = segment_path(&self.dir, self.seq);
        let mut f = OpenOptions::new().create(true).truncate(true).write(true).open(&path)?;
        if let Err(e) = f.write_all(SEGMENT_MAGIC) {
            let _ = fs::remove_file(&path);
            return Err(e);
        }
        File::open(&self.dir).and_then(|d| d.sync_all())?;
        self.len = SEGMENT_MAGIC.len() as u64;
        self.file = Some(f);
        Ok(())
    }
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:08}"))
}

fn checkpoint_path(dir: &Path, n: u64) -> PathBuf {
    dir.join(format!("{CHECKPOINT_PREFIX}{n:08}"))
}

fn list_checkpoints(dir: &Path) -> io::Result<Vec<u64>> {
    let mut v: Vec<u64> = fs::read_dir(dir)?
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_prefix(CHECKPOINT_PREFIX)?.parse().ok())
        .collect();
    v.sort_unstable();
    Ok(v)
}

fn list_segments(dir: &Path) -> io::Result<Vec<u64>> {
    let mut v: Vec<u64> = fs::read_dir(dir)?
        .flatten()
        .filter_map(|e| {
            let name = e.file_name();
            let name = name.to_str()?;
            (name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit())).then(|| name.parse().ok()).flatten()
        })
        .collect();
    v.sort_unstable();
    Ok(v)
}

/// Reads one segment; returns the length of its good prefix, whether the
/// whole file was good.
fn replay_segment(path: &Path, f: &mut impl FnMut(Record), records: &mut u64) -> io::Result<(u64, bool)> {
    let mut data = Vec::new();
    File::open(path)?.read_to_end(&mut data)?;
    if data.len() < SEGMENT_MAGIC.len() || &data[..SEGMENT_MAGIC.len()] != SEGMENT_MAGIC {
        return Ok((0, data.is_empty()));
    }
    let mut pos = SEGMENT_MAGIC.len();
    while pos < data.len() {
        let Some(rec) = data.get(pos..pos + 8) else { return Ok((pos as u64, false)) };
        let len = u32::from_le_bytes(rec[..4].try_into().unwrap()) as usize;
        let crc = u32::from_le_bytes(rec[4..].try_into().unwrap());
        let body = match data.get(pos + 8..pos + 8 + len) {
            Some(b) if len > 0 && len <= MAX_RECORD && crc32fast::hash(b) == crc => b,
            _ => return Ok((pos as u64, false)),
        };
        let Some(record) = decode(body) else { return Ok((pos as u64, false)) };
        *records += 1;
        f(record);
        pos += 8 + len;
    }
    Ok((pos as u64, true))
}

fn frame(buf: &mut Vec<u8>, kind: u8, body: impl FnOnce(&mut Vec<u8>)) {
    let start = buf.len();
    buf.extend_from_slice(&[0; 8]);
    buf.push(kind);
    body(buf);
    let len = (buf.len() - start - 8) as u32;
    let crc = crc32fast::hash(&buf[start + 8..]);
    buf[start..start + 4].copy_from_slice(&len.to_le_bytes());
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_uvarint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

fn get_str(b: &[u8], pos: &mut usize) -> Option<String> {
    let len = get_uvarint(b, pos)? as usize;
    let s = b.get(*pos..pos.checked_add(len)?)?;
    *pos += len;
    String::from_utf8(s.to_vec()).ok()
}

/// Labels as `count, (name, value)*`, strings length-prefixed.
pub(crate) fn encode_labels(buf: &mut Vec<u8>, labels: &Labels) {
    put_uvarint(buf, labels.len() as u64);
    for l in labels {
        put_str(buf, l.name);
        put_str(buf, l.value);
    }
}

pub(crate) fn decode_labels(b: &[u8], pos: &mut usize) -> Option<Labels> {
    let n = get_uvarint(b, pos)? as usize;
    let mut v: Vec<Label> = Vec::with_capacity(n.min(1024));
    for _ in 0..n {
        let name = get_str(b, pos)?;
        let value = get_str(b, pos)?;
        if name.is_empty() || value.is_empty() || v.last().is_some_and(|l| l.name >= name) {
            return None;
        }
        v.push(Label { name, value });
    }
    Some(Labels::from_sorted(v))
}

fn encode_series(buf: &mut Vec<u8>, series: &[(u32, Labels)]) {
    put_uvarint(buf, series.len() as u64);
    for (id, labels) in series {
        put_uvarint(buf, u64::from(*id));
        encode_labels(buf, labels);
    }
}

/// Samples as `base_t i64, count, (id, zigzag(t - base_t), value bits)*`.
fn encode_samples(buf: &mut Vec<u8>, samples: &[(u32, Sample)]) {
    let base = samples[0].1.t;
    buf.extend_from_slice(&base.to_le_bytes());
    put_uvarint(buf, samples.len() as u64);
    for (id, s) in samples {
        put_uvarint(buf, u64::from(*id));
        let d = s.t.wrapping_sub(base);
        put_uvarint(buf, zigzag(d));
        buf.extend_from_slice(&s.v.to_bits().to_le_bytes());
    }
}

fn put_bytes(buf: &mut Vec<u8>, b: &[u8]) {
    put_uvarint(buf, b.len() as u64);
    buf.extend_from_slice(b);
}

fn get_bytes(b: &[u8], pos: &mut usize) -> Option<Vec<u8>> {
    let len = get_uvarint(b, pos)? as usize;
    let s = b.get(*pos..pos.checked_add(len)?)?;
    *pos += len;
    Some(s.to_vec())
}

fn put_i64(buf: &mut Vec<u8>, v: i64) {
    buf.extend_from_slice(&v.to_le_bytes());
}

fn get_i64(b: &[u8], pos: &mut usize) -> Option<i64> {
    let v = i64::from_le_bytes(b.get(*pos..*pos + 8)?.try_into().ok()?);
    *pos += 8;
    Some(v)
}

/// `id, sealed count, (mint, maxt, bytes)*, has_open u8, [bytes], has_last u8, [t i64, value bits u64]`.
fn encode_state(buf: &mut Vec<u8>, st: &SeriesState) {
    put_uvarint(buf, u64::from(st.id));
    put_uvarint(buf, st.sealed.len() as u64);
    for (mint, maxt, bytes) in &st.sealed {
        put_i64(buf, *mint);
        put_i64(buf, *maxt);
        put_bytes(buf, bytes);
    }
    match &st.open {
        Some(b) => {
            buf.push(1);
            put_bytes(buf, b);
        }
        None => buf.push(0),
    }
    match st.last {
        Some((t, v)) => {
            buf.push(1);
            put_i64(buf, t);
            buf.extend_from_slice(&v.to_le_bytes());
        }
        None => buf.push(0),
    }
}

fn decode_state(b: &[u8], pos: &mut usize) -> Option<SeriesState> {
    let id = u32::try_from(get_uvarint(b, pos)?).ok()?;
    let n = get_uvarint(b, pos)? as usize;
    let mut sealed = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        sealed.push((get_i64(b, pos)?, get_i64(b, pos)?, get_bytes(b, pos)?));
    }
    let has_open = *b.get(*pos)?;
    *pos += 1;
    let open = match has_open {
        0 => None,
        1 => Some(get_bytes(b, pos)?),
        _ => return None,
    };
    let has_last = *b.get(*pos)?;
    *pos += 1;
    let last = match has_last {
        0 => None,
        1 => Some((get_i64(b, pos)?, get_i64(b, pos)? as u64)),
        _ => return None,
    };
    Some(SeriesState { id, sealed, open, last })
}

fn decode(body: &[u8]) -> Option<Record> {
    let (&kind, b) = body.split_first()?;
    let mut pos = 0;
    let rec = match kind {
        KIND_SERIES => {
            let n = get_uvarint(b, &mut pos)? as usize;
            let mut v = Vec::with_capacity(n.min(b.len()));
            for _ in 0..n {
                let id = u32::try_from(get_uvarint(b, &mut pos)?).ok()?;
                v.push((id, decode_labels(b, &mut pos)?));
            }
            Record::Series(v)
        }
        KIND_SAMPLES => {
            let base = i64::from_le_bytes(b.get(..8)?.try_into().ok()?);
            pos = 8;
            let n = get_uvarint(b, &mut pos)? as usize;
            let mut v = Vec::with_capacity(n.min(b.len() / 10));
            for _ in 0..n {
                let id = u32::try_from(get_uvarint(b, &mut pos)?).ok()?;
                let z = get_uvarint(b, &mut pos)?;
                let d = unzigzag(z);
                let bits = u64::from_le_bytes(b.get(pos..pos + 8)?.try_into().ok()?);
                pos += 8;
                v.push((id, Sample { t: base.wrapping_add(d), v: f64::from_bits(bits) }));
            }
            Record::Samples(v)
        }
        KIND_STATE => Record::State(decode_state(b, &mut pos)?),
        _ => return None,
    };
    (pos == b.len()).then_some(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(dir: &Path) -> (Vec<Record>, ReplayStats, Wal) {
        let mut got = Vec::new();
        let (wal, stats) = Wal::open(dir, |r| got.push(r)).unwrap();
        (got, stats, wal)
    }

    #[test]
    fn records_survive_reopen_bit_exact() {
        let tmp = tempfile::tempdir().unwrap();
        let labels = Labels::from_pairs([("__name__", "up"), ("job", "a")]);
        let samples = vec![
            (0, Sample { t: 1_000, v: 1.5 }),
            (7, Sample { t: 990, v: crate::stale_nan() }),
            (3, Sample { t: -5, v: 0.0 }),
        ];
        {
            let (got, _, mut wal) = replay(tmp.path());
            assert!(got.is_empty());
            wal.log(&[(0, labels.clone())], &samples).unwrap();
            wal.log(&[], &samples[..1]).unwrap();
        }
        let (got, stats, _) = replay(tmp.path());
        assert_eq!(stats.records, 3);
        assert_eq!(got[0], Record::Series(vec![(0, labels)]));
        let Record::Samples(s) = &got[1] else { panic!("{got:?}") };
        assert_eq!(s.len(), 3);
        assert!(crate::is_stale_nan(s[1].1.v));
        assert_eq!((s[2].0, s[2].1.t), (3, -5));
    }

    #[test]
    fn torn_tail_is_cut_and_earlier_records_kept() {
        let tmp = tempfile::tempdir().unwrap();
        {
            let (_, _, mut wal) = replay(tmp.path());
            for k in 0..10 {
                wal.log(&[], &[(1, Sample { t: k, v: k as f64 })]).unwrap();
            }
        }
        let seg = segment_path(tmp.path(), 1);
        let full = fs::metadata(&seg).unwrap().len();
        OpenOptions::new().write(true).open(&seg).unwrap().set_len(full - 3).unwrap();
        let (got, stats, _) = replay(tmp.path());
        assert_eq!(got.len(), 9);
        assert_eq!(stats.corrupt_segments, 1);
        assert!(fs::metadata(&seg).unwrap().len() < full - 3, "torn tail cut off");
        // A flipped bit in a record is caught by its checksum.
        let mut bytes = fs::read(&seg).unwrap();
        let n = bytes.len();
        bytes[n - 2] ^= 0x10;
        fs::write(&seg, bytes).unwrap();
        let (got, _, _) = replay(tmp.path());
        assert_eq!(got.len(), 8);
    }

    #[test]
    fn checkpoint_replaces_the_segments_it_covers() {
        let tmp = tempfile::tempdir().unwrap();
        let (_, _, mut wal) = replay(tmp.path());
        wal.log(&[(1, Labels::from_pairs([("a", "b")]))], &[(1, Sample { t: 10, v: 1.0 })]).unwrap();
        let through = wal.cut().unwrap();
        wal.log(&[], &[(1, Sample { t: 20, v: 2.0 })]).unwrap();
        let st = SeriesState { id: 1, sealed: vec![(1, 5, vec![9, 9])], open: Some(vec![1, 2, 3]), last: Some((7, 8)) };
        Wal::write_checkpoint(tmp.path(), through, std::iter::once(st)).unwrap();
        drop(wal);
        let (got, stats, _) = replay(tmp.path());
        assert_eq!(stats.segments, 1, "the checkpointed segment is gone");
        assert_eq!(
            got,
            vec![
                Record::State(SeriesState {
                    id: 1,
                    sealed: vec![(1, 5, vec![9, 9])],
                    open: Some(vec![1, 2, 3]),
                    last: Some((7, 8))
                }),
                Record::Samples(vec![(1, Sample { t: 20, v: 2.0 })]),
            ]
        );
    }

    #[test]
    fn garbage_never_panics() {
        for body in
            [&b""[..], b"\x03\x01\x05", b"\x01", b"\x02\0\0\0\0\0\0\0\0\xff", b"\x01\x01\x00\x01\x00", b"\x09abc"]
        {
            let _ = decode(body);
        }
    }
}
