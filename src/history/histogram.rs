//! A mergeable latency distribution (pure): log-linear buckets over microseconds, exact below 128 µs and
//! within 1/128 of the value above, so any percentile read back is within 0.4 % of the run's own latency.

use std::collections::BTreeMap;

/// Sub-buckets per power of two (2^7): the relative width of a bucket is at most 1/128.
const SUB_BITS: u32 = 7;
const SUB: u64 = 1 << SUB_BITS;

/// Counts of latencies (µs) per log-linear bucket; only non-empty buckets are held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Histogram {
    buckets: BTreeMap<u32, u64>,
}

/// The bucket index of `us`: the value itself below 128; above, 128 per power of two.
pub fn bucket_of(us: u64) -> u32 {
    if us < SUB {
        return us as u32;
    }
    let exp = 63 - us.leading_zeros(); // ≥ SUB_BITS
    let shift = exp - SUB_BITS;
    let sub = (us >> shift) - SUB; // 0..128
    (SUB + u64::from(shift) * SUB + sub) as u32
}

/// The bucket's values `[low, high]` (inclusive).
pub fn bucket_bounds(index: u32) -> (u64, u64) {
    let index = u64::from(index);
    if index < SUB {
        return (index, index);
    }
    let shift = (index - SUB) / SUB;
    let sub = (index - SUB) % SUB;
    let low = (SUB + sub) << shift;
    (low, low + ((1u64 << shift) - 1))
}

impl Histogram {
    pub fn new() -> Histogram {
        Histogram::default()
    }

    pub fn record(&mut self, us: u64) {
        *self.buckets.entry(bucket_of(us)).or_insert(0) += 1;
    }

    pub fn merge(&mut self, other: &Histogram) {
        for (&index, &count) in &other.buckets {
            *self.buckets.entry(index).or_insert(0) += count;
        }
    }

    pub fn count(&self) -> u64 {
        self.buckets.values().sum()
    }

    pub fn is_empty(&self) -> bool {
        self.buckets.is_empty()
    }

    /// The nearest-rank `q` quantile (0 < q ≤ 1) as `status` computes it from raw runs (the ⌈q·n⌉-th
    /// smallest), read as the middle of its bucket; `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<u64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let rank = ((n as f64 * q).ceil() as u64).clamp(1, n);
        let mut seen = 0;
        for (&index, &count) in &self.buckets {
            seen += count;
            if seen >= rank {
                let (low, high) = bucket_bounds(index);
                return Some(low + (high - low) / 2);
            }
        }
        None
    }

    /// Compact bytes: per non-empty bucket, the index's distance from the previous one and the count, both
    /// LEB128 varints. A minute of one run costs 2–4 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut previous = 0u32;
        for (&index, &count) in &self.buckets {
            put_varint(&mut out, u64::from(index - previous));
            put_varint(&mut out, count);
            previous = index;
        }
        out
    }

    /// Reads [`Histogram::encode`]'s bytes; `None` when they are not such bytes.
    pub fn decode(bytes: &[u8]) -> Option<Histogram> {
        let mut buckets = BTreeMap::new();
        let mut rest = bytes;
        let mut index = 0u32;
        while !rest.is_empty() {
            let step = u32::try_from(take_varint(&mut rest)?).ok()?;
            let count = take_varint(&mut rest)?;
            index = index.checked_add(step)?;
            if count == 0 || buckets.insert(index, count).is_some() {
                return None;
            }
        }
        Some(Histogram { buckets })
    }
}

/// Appends `value` as a LEB128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Takes one LEB128 varint off the front of `bytes`; `None` when truncated or too long.
pub fn take_varint(bytes: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn buckets_are_exact_below_128us_and_narrow_above() {
        for (us, index, bounds) in [
            (0, 0, (0, 0)),
            (127, 127, (127, 127)),
            (128, 128, (128, 128)),
            (255, 255, (255, 255)),
            (256, 256, (256, 257)),
            (257, 256, (256, 257)),
            (1_000_000, bucket_of(1_000_000), (999_424, 1_003_519)),
        ] {
            assert_eq!(bucket_of(us), index, "{us}");
            assert_eq!(bucket_bounds(index), bounds, "{us}");
        }
        assert_eq!(bucket_bounds(bucket_of(u64::MAX)).1, u64::MAX);
    }

    #[test]
    fn quantiles_read_the_nearest_rank() {
        let mut h = Histogram::new();
        assert_eq!(h.quantile(0.5), None);
        for us in [10, 20, 30, 40] {
            h.record(us);
        }
        assert_eq!(
            [h.quantile(0.5), h.quantile(0.95), h.quantile(0.25)],
            [Some(20), Some(40), Some(10)]
        );
    }

    #[test]
    fn bad_bytes_are_refused() {
        for bytes in [&[0x80][..], &[1][..], &[1, 0][..], &[0xff; 11][..]] {
            assert_eq!(Histogram::decode(bytes), None, "{bytes:?}");
        }
    }

    proptest! {
        #[test]
        fn every_value_lies_in_its_bucket_within_1_in_128(us in any::<u64>()) {
            let (low, high) = bucket_bounds(bucket_of(us));
            prop_assert!(low <= us && us <= high);
            prop_assert!((high - low) as f64 <= low as f64 / 128.0);
        }

        #[test]
        fn quantiles_are_within_half_a_percent_and_survive_encoding(
            values in proptest::collection::vec(0u64..120_000_000, 1..300),
            q in prop_oneof![Just(0.5), Just(0.95), Just(0.99)],
        ) {
            let mut h = Histogram::new();
            let (first, second) = values.split_at(values.len() / 2);
            let mut other = Histogram::new();
            first.iter().for_each(|&v| h.record(v));
            second.iter().for_each(|&v| other.record(v));
            h.merge(&other);
            let h = Histogram::decode(&h.encode()).expect("decodes");
            let mut sorted = values.clone();
            sorted.sort();
            let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
            let exact = sorted[rank - 1] as f64;
            let read = h.quantile(q).expect("some") as f64;
            prop_assert!((read - exact).abs() <= exact * 0.005, "{read} vs {exact}");
        }
    }
}
