use super::index::{decode_segment_block, decode_series_block, encode_segment_block, encode_series_block};
use super::*;
use crate::model::value::Sample;

/// Imports land in segments of their own: a series is read from the
/// segment and block that hold it, whichever blocks the others' ids
/// span, before and after a restart (which works out the blocks' ranges
/// again), and again from the decoded blocks queries share.
#[test]
fn series_are_found_in_their_segment_and_block() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = PARTITION_MS * 10;
    let samples = |id: u32| (0..3).map(|k| Sample { t: t0 + k * 1000, v: f64::from(id) + k as f64 }).collect();
    // Three segments: 0, 2, 4, … 4998 (two blocks); 7000..7010; 1, 3, 5 … 99 (between the first's ids).
    let imports: [Vec<u32>; 3] =
        [(0..2500).map(|i| i * 2).collect(), (7000..7010).collect(), (0..50).map(|i| i * 2 + 1).collect()];
    let check = |disk: &Disk| {
        for _ in 0..2 {
            let mut reader = disk.reader();
            for id in [0, 1, 2, 99, 4096, 4098, 4998, 7000, 7009] {
                let mut out = Vec::new();
                reader.chunks(id, t0, t0 + 5000, &mut out).unwrap();
                assert_eq!(out.len(), 1, "series {id}");
                let mut got = Vec::new();
                assert!(chunkenc::decode_into(out[0].data().unwrap(), i64::MIN, i64::MAX, &mut got));
                assert_eq!(got[2].v, f64::from(id) + 2.0, "series {id}");
            }
            for id in [101, 4097, 5000, 6999, 7010, u32::MAX] {
                let mut out = Vec::new();
                reader.chunks(id, t0, t0 + 5000, &mut out).unwrap();
                assert!(out.is_empty(), "series {id}");
            }
        }
    };
    {
        let (disk, _) = Disk::open(dir.path(), SledOptions::default()).unwrap();
        for ids in &imports {
            let series: Vec<(u32, Vec<Sample>)> = ids.iter().map(|&id| (id, samples(id))).collect();
            disk.write_series(&series).unwrap();
        }
        check(&disk);
    }
    let (disk, _) = Disk::open(dir.path(), SledOptions::default()).unwrap();
    check(&disk);
}

#[test]
fn blocks_round_trip_and_reject_damage() {
    let list = vec![
        (2048, Labels::from_pairs([("__name__", "up"), ("job", "a")])),
        (2049, Labels::from_pairs([("__name__", "up"), ("job", "b")])),
        (3000, Labels::from_pairs([("__name__", "x")])),
    ];
    let v = encode_series_block(&list);
    assert_eq!(decode_series_block(2, &v).unwrap(), list);
    let mut bad = v.clone();
    bad[6] ^= 1;
    assert!(decode_series_block(2, &bad).is_none());

    let start = PARTITION_MS * 3;
    let entries = vec![
        (4u32, vec![ChunkLoc { mint: start + 5, maxt: start + 99, off: 8, len: 10, crc: 7 }]),
        (
            9,
            vec![
                ChunkLoc { mint: start, maxt: start + 10, off: 18, len: 3, crc: 1 },
                ChunkLoc { mint: start + 11, maxt: start + 20, off: 21, len: 4, crc: 2 },
            ],
        ),
    ];
    let v = encode_segment_block(start, &entries);
    let got = decode_segment_block(start, &v).unwrap();
    assert_eq!(got.ids, [4, 9]);
    let nine = got.find(9).unwrap();
    assert_eq!((nine.len(), nine[1].off, nine[1].maxt), (2, 21, start + 20));
    assert_eq!(got.find(4).unwrap()[0].mint, start + 5);
    assert!(got.find(5).is_none());
    assert_eq!(got.iter().map(|(id, l)| (id, l.len())).collect::<Vec<_>>(), [(4, 1), (9, 2)]);
    assert!(decode_segment_block(start, &v[..v.len() - 1]).is_none());
}
