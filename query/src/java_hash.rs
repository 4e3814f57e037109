//! The iteration order of Java's `java.util.HashMap`, which Jackson uses when Druid
//! serializes a response map it built as a `HashMap` (groupBy `event`, timeBoundary
//! `result`; see `docs/druid-key-order.md` for which maps are and which are not).
//!
//! That order is deterministic: a key's bucket is `spread(s.hashCode()) & (capacity - 1)`
//! with `String.hashCode` over UTF-16 code units and `spread(h) = h ^ (h >>> 16)`; the table
//! iterates buckets in index order and each bucket's chain in insertion order. A map made
//! with `new HashMap<>()` starts at 16 buckets on the first put and doubles whenever a put
//! makes `size > 0.75 * capacity`; doubling splits every chain keeping the relative order,
//! so the final order is the insertion order stably sorted by the bucket at the final
//! capacity. One more rule moves the capacity: a put that leaves 9 or more nodes in one
//! chain calls `treeifyBin`, which doubles the table while it has fewer than 64 buckets.
//! With 64 buckets or more it turns the chain into a red-black tree whose root Java moves
//! to the chain's front; this module does not model that (it needs at least 9 keys sharing
//! a bucket in a map of 49 or more keys) and keeps such a chain in insertion order.

/// Java's `String.hashCode`: `s[0]*31^(n-1) + … + s[n-1]` over UTF-16 code units, wrapping
/// in 32 bits.
pub(crate) fn java_string_hash(key: &str) -> i32 {
    key.encode_utf16().fold(0i32, |hash, unit| {
        hash.wrapping_mul(31).wrapping_add(i32::from(unit))
    })
}

/// `HashMap.hash`: the high half folded into the low half, `h ^ (h >>> 16)`.
fn spread(hash: i32) -> u32 {
    // Reinterpreting the bits is the point: Java's `>>>` works on the unsigned bits.
    let bits = hash as u32;
    bits ^ (bits >> 16)
}

const DEFAULT_CAPACITY: usize = 16;
const TREEIFY_THRESHOLD: usize = 8;
const MIN_TREEIFY_CAPACITY: usize = 64;

/// The order in which Java iterates a `new HashMap<>()` after `put(key, …)` for each key in
/// turn (a repeated key keeps its first position), as indices into `keys`.
pub(crate) fn java_hash_order<'k>(keys: impl IntoIterator<Item = &'k str>) -> Vec<usize> {
    let mut hashes: Vec<u32> = Vec::new();
    let mut inserted: Vec<&str> = Vec::new();
    let mut order: Vec<usize> = Vec::new();
    let mut capacity = DEFAULT_CAPACITY;
    for (index, key) in keys.into_iter().enumerate() {
        if inserted.contains(&key) {
            continue;
        }
        let hash = spread(java_string_hash(key));
        let bucket = hash as usize & (capacity - 1);
        let chain = hashes
            .iter()
            .filter(|&&other| other as usize & (capacity - 1) == bucket)
            .count()
            + 1;
        hashes.push(hash);
        inserted.push(key);
        order.push(index);
        // putVal: treeifyBin once the chain reaches TREEIFY_THRESHOLD + 1 nodes, which only
        // resizes below MIN_TREEIFY_CAPACITY; then resize when size exceeds the threshold.
        if chain > TREEIFY_THRESHOLD && capacity < MIN_TREEIFY_CAPACITY {
            capacity *= 2;
        }
        if inserted.len() > capacity / 4 * 3 {
            capacity *= 2;
        }
    }
    let mut positions: Vec<usize> = (0..order.len()).collect();
    positions.sort_by_key(|&position| hashes[position] as usize & (capacity - 1));
    positions
        .into_iter()
        .map(|position| order[position])
        .collect()
}

/// Rebuilds `map` (whose order is the put order) in Java `HashMap` iteration order.
pub(crate) fn in_java_hash_order(
    map: serde_json::Map<String, serde_json::Value>,
) -> serde_json::Map<String, serde_json::Value> {
    let order = java_hash_order(map.keys().map(String::as_str));
    reorder(map, &order)
}

/// Rebuilds `map` with its entries in `order` (indices into its current order, as
/// [`java_hash_order`] returns them), so rows that share their keys compute the order once.
pub(crate) fn reorder(
    map: serde_json::Map<String, serde_json::Value>,
    order: &[usize],
) -> serde_json::Map<String, serde_json::Value> {
    let mut entries: Vec<Option<(String, serde_json::Value)>> = map.into_iter().map(Some).collect();
    order
        .iter()
        .filter_map(|&index| entries.get_mut(index).and_then(Option::take))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ordered<'k>(keys: &[&'k str]) -> Vec<&'k str> {
        java_hash_order(keys.iter().copied())
            .into_iter()
            .map(|index| keys[index])
            .collect()
    }

    #[test]
    fn string_hash_is_javas() {
        // "added" = 97*31^4 + 100*31^3 + 100*31^2 + 101*31 + 100
        //         = 89581537 + 2979100 + 96100 + 3131 + 100 = 92659968
        assert_eq!(java_string_hash("added"), 92_659_968);
        // "edits" = 101*31^4 + 100*31^3 + 105*31^2 + 116*31 + 115 = 96359337
        assert_eq!(java_string_hash("edits"), 96_359_337);
        // "channel" overflows: 99*31^6 + 104*31^5 + 97*31^4 + 110*31^3 + 110*31^2 + 101*31
        // + 108 = 87_862_864_419 + 2_977_188_104 + 89_581_537 + 3_277_010 + 105_710 + 3_131
        // + 108 = 90_933_020_019, and 90_933_020_019 mod 2^32 = 738_950_403.
        assert_eq!(java_string_hash("channel"), 738_950_403);
        // Java's "Aa" and "BB" collide: 65*31 + 97 = 66*31 + 66 = 2112.
        assert_eq!(java_string_hash("Aa"), java_string_hash("BB"));
        // A non-BMP character counts as its two UTF-16 surrogates (0xD83D, 0xDE00):
        // 0xD83D*31 + 0xDE00 = 55357*31 + 56832 = 1772899.
        assert_eq!(java_string_hash("\u{1F600}"), 1_772_899);
        assert_eq!(java_string_hash(""), 0);
    }

    #[test]
    fn orders_by_bucket_then_insertion() {
        // spread(h) = h ^ (h >>> 16), bucket = spread & 15 at the default capacity 16:
        //   channel: 0x2C0B7D03 ^ 0x2C0B = 0x2C0B5108 -> 8
        //   edits:   0x05BE53A9 ^ 0x05BE = 0x05BE5617 -> 7
        //   added:   0x0585E100 ^ 0x0585 = 0x0585E485 -> 5
        assert_eq!(
            ordered(&["channel", "edits", "added"]),
            ["added", "edits", "channel"]
        );
        //   count:   0x05A7510F ^ 0x05A7 = 0x05A754A8 -> 8, the bucket of channel, so the
        //   two keep their put order.
        assert_eq!(
            ordered(&["count", "edits", "channel"]),
            ["edits", "count", "channel"]
        );
        assert_eq!(
            ordered(&["channel", "edits", "count"]),
            ["edits", "channel", "count"]
        );
        // timeBoundary: minTime 0x3F69F43F -> 0x3F69CB56 -> 6; maxTime 0x32501A51 ->
        // 0x32502801 -> 1.
        assert_eq!(ordered(&["minTime", "maxTime"]), ["maxTime", "minTime"]);
        // A repeated put keeps the first position.
        assert_eq!(ordered(&["edits", "added", "edits"]), ["added", "edits"]);
    }

    #[test]
    fn resizes_past_three_quarters() {
        // count (spread 0x05A754A8) is in bucket 8 at 16 buckets and at 32; delta
        // (0x05B0BE08) in 8 at 16 and 32. Twelve other keys k0..k11 ("k" = 107, "0" = 48:
        // hash 107*31 + 48 = 3365 = 0xD25, spread 0xD25, bucket 5 at 16 and 32; each next
        // character adds 1).
        let mut keys = vec!["count", "delta"];
        let names: Vec<String> = (0..12)
            .map(|i| format!("k{}", char::from(b'0' + i)))
            .collect();
        keys.extend(names.iter().map(String::as_str));
        // 14 keys exceed 0.75 * 16 = 12, so the table has 32 buckets: count and delta stay
        // in 8 (0x...A8 & 31 = 8, 0x...08 & 31 = 8), k0..k10 are 0xD25..0xD2F -> 5..15
        // (k3 joins bucket 8 after count and delta; k10 is "k:"), k11 is "k;" = 0xD30 ->
        // 16, where 16 buckets would have wrapped it to 0.
        let mut expected: Vec<&str> = names[..3].iter().map(String::as_str).collect();
        expected.extend(["count", "delta"]);
        expected.extend(names[3..].iter().map(String::as_str));
        assert_eq!(ordered(&keys), expected);
        // With only 12 keys (count, delta, k0..k9) 12 is not above 12: 16 buckets, where
        // k3 (0xD28) is in bucket 8 after count and delta as well.
        let few: Vec<&str> = keys[..12].to_vec();
        let mut expected: Vec<&str> = names[..3].iter().map(String::as_str).collect();
        expected.extend(["count", "delta"]);
        expected.extend(names[3..10].iter().map(String::as_str));
        assert_eq!(ordered(&few), expected);
    }

    #[test]
    fn a_long_chain_doubles_a_small_table() {
        // "Aa" and "BB" share hash 2112, so the strings made of four such pairs share one
        // hash, 0xDFC9C100 (2112*(31^6 + 31^4 + 31^2 + 1) wrapped to 32 bits); spread:
        // 0xDFC9C100 ^ 0xDFC9 = 0xDFC91EC9, bucket 9 at 16 buckets and 9 at 32. edits
        // (spread 0x05BE5617) is in bucket 7 at 16 buckets and 23 at 32.
        let pairs = ["Aa", "BB"];
        let same: Vec<String> = (0..9)
            .map(|bits: usize| (0..4).map(|bit| pairs[(bits >> bit) & 1]).collect())
            .collect();
        assert!(same
            .iter()
            .all(|key| java_string_hash(key) as u32 == 0xDFC9_C100));
        // The ninth key in one chain makes treeifyBin double 16 buckets to 32 (no tree
        // below 64), which moves edits behind them.
        let mut keys = vec!["edits"];
        keys.extend(same.iter().map(String::as_str));
        let mut expected: Vec<&str> = same.iter().map(String::as_str).collect();
        expected.push("edits");
        assert_eq!(ordered(&keys), expected);
        // Eight in one chain do not resize: edits stays first.
        let mut expected = vec!["edits"];
        expected.extend(same[..8].iter().map(String::as_str));
        assert_eq!(ordered(&keys[..9]), expected);
    }

    #[test]
    fn rebuilds_a_json_map() {
        let mut map = serde_json::Map::new();
        map.insert("channel".into(), 1.into());
        map.insert("edits".into(), 2.into());
        map.insert("added".into(), 3.into());
        let keys: Vec<String> = in_java_hash_order(map)
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["added", "edits", "channel"]);
    }
}
