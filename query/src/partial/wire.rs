//! How a [`PartialResult`] crosses the wire between nodes and sits in the broker's cache.
//!
//! GroupBy partials, which can hold millions of rows, use a compact binary form; every other
//! partial is its serde_json text (which starts with `{`). The binary form:
//!
//! - the magic `HGB\x01`, or `HGB\x02` when the sender knows the rows to be in result order
//!   with each key once (a merge then takes them as they are), then LEB128 varints:
//!   dimensions per row, values per row, rows;
//! - per row: its timestamp as a zigzag varint delta from the previous row's (from 0), each
//!   dimension as a varint `length + 1` (0 for null) and its UTF-8 bytes, then each value as a
//!   tag byte: 0 null, 1 long (zigzag varint), 2 double (8 bytes little-endian), 3 anything
//!   else as a varint length and the value's JSON wire form.
//!
//! Decoding checks every length, tag and string, so a truncated or corrupt message is an
//! error, never a panic.

use compact_str::CompactString;

use super::{DimValues, GroupByPartial, GroupRow, PartialResult};
use crate::merge::on_threads;
use crate::value::AggValue;

const GROUP_BY_MAGIC: &[u8; 4] = b"HGB\x01";

/// [`GROUP_BY_MAGIC`] for rows known to be in result order with each key once.
const ORDERED_GROUP_BY_MAGIC: &[u8; 4] = b"HGB\x02";

const NULL: u8 = 0;
const LONG: u8 = 1;
const DOUBLE: u8 = 2;
const JSON: u8 = 3;

impl PartialResult {
    /// The partial's wire bytes (see the module docs).
    pub fn to_wire(&self) -> Result<Vec<u8>, String> {
        if let PartialResult::GroupBy(part) = self {
            if let Some(bytes) = encode_group_by(&[&part.rows], part.ordered)? {
                return Ok(bytes);
            }
        }
        serde_json::to_vec(self).map_err(|error| error.to_string())
    }

    /// A partial from its wire bytes.
    pub fn from_wire(bytes: &[u8]) -> Result<PartialResult, String> {
        if let Some(body) = bytes.strip_prefix(GROUP_BY_MAGIC) {
            return decode_group_by(body, false).map(PartialResult::GroupBy);
        }
        if let Some(body) = bytes.strip_prefix(ORDERED_GROUP_BY_MAGIC) {
            return decode_group_by(body, true).map(PartialResult::GroupBy);
        }
        serde_json::from_slice(bytes).map_err(|error| error.to_string())
    }
}

/// The binary form of the rows of `runs`, one run after the other (`ordered`: known to be in
/// result order with each key once); `None` when rows differ in width (never from the
/// engine): the JSON form then. Several runs of many rows are encoded on as many threads.
pub(crate) fn encode_group_by(
    runs: &[&[GroupRow]],
    ordered: bool,
) -> Result<Option<Vec<u8>>, String> {
    let rows = || runs.iter().flat_map(|run| run.iter());
    let (dims, values) = rows()
        .next()
        .map_or((0, 0), |row| (row.dims.len(), row.values.len()));
    if rows().any(|row| row.dims.len() != dims || row.values.len() != values) {
        return Ok(None);
    }
    let count: usize = runs.iter().map(|run| run.len()).sum();
    let mut out = Vec::with_capacity(16 + count * (8 + 16 * (dims + values)));
    out.extend_from_slice(match ordered {
        true => ORDERED_GROUP_BY_MAGIC,
        false => GROUP_BY_MAGIC,
    });
    for count in [dims, values, count] {
        put_varint(&mut out, count as u64);
    }
    // Each run's first timestamp is a delta from the last row before it.
    let starts: Vec<i64> = std::iter::once(0)
        .chain(
            runs.iter()
                .filter_map(|run| run.last())
                .map(|row| row.timestamp),
        )
        .collect();
    let runs: Vec<(&[GroupRow], i64)> = runs
        .iter()
        .filter(|run| !run.is_empty())
        .copied()
        .zip(starts)
        .collect();
    if runs.len() < 2 || count < PARALLEL_ENCODE_ROWS {
        for (run, previous) in runs {
            encode_rows(run, previous, &mut out)?;
        }
        return Ok(Some(out));
    }
    let jobs = runs
        .into_iter()
        .map(|(run, previous)| {
            move || {
                let mut bytes = Vec::with_capacity(run.len() * (8 + 16 * (dims + values)));
                encode_rows(run, previous, &mut bytes).map(|()| bytes)
            }
        })
        .collect();
    for bytes in on_threads(jobs) {
        out.extend_from_slice(&bytes?);
    }
    Ok(Some(out))
}

/// Encodes runs of at least this many rows in all on a thread each.
const PARALLEL_ENCODE_ROWS: usize = 1 << 16;

/// Appends the rows to `out`, the first one's timestamp as a delta from `previous`.
fn encode_rows(rows: &[GroupRow], mut previous: i64, out: &mut Vec<u8>) -> Result<(), String> {
    for row in rows {
        put_varint(out, zigzag(row.timestamp.wrapping_sub(previous)));
        previous = row.timestamp;
        for dim in &row.dims {
            match dim {
                None => out.push(0),
                Some(text) => {
                    put_varint(out, text.len() as u64 + 1);
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        for value in &row.values {
            match value {
                AggValue::Null => out.push(NULL),
                AggValue::Long(long) => {
                    out.push(LONG);
                    put_varint(out, zigzag(*long));
                }
                AggValue::Double(double) => {
                    out.push(DOUBLE);
                    out.extend_from_slice(&double.to_le_bytes());
                }
                other => {
                    let json = serde_json::to_vec(other).map_err(|error| error.to_string())?;
                    out.push(JSON);
                    put_varint(out, json.len() as u64);
                    out.extend_from_slice(&json);
                }
            }
        }
    }
    Ok(())
}

fn decode_group_by(body: &[u8], ordered: bool) -> Result<GroupByPartial, String> {
    let mut reader = Reader { bytes: body, at: 0 };
    let dims = reader.count()?;
    let values = reader.count()?;
    let rows = reader.count()?;
    // Every row takes at least one byte per field: a count beyond that is corrupt.
    if rows.saturating_mul(1 + dims + values) > body.len() {
        return Err(format!(
            "a groupBy partial claims {rows} rows in {} bytes",
            body.len()
        ));
    }
    let mut decoded = Vec::with_capacity(rows);
    let mut time = 0i64;
    for _ in 0..rows {
        time = time.wrapping_add(unzigzag(reader.varint()?));
        let mut row_dims = DimValues::with_capacity(dims);
        for _ in 0..dims {
            row_dims.push(match reader.varint()? {
                0 => None,
                length => Some(CompactString::from(reader.text(length - 1)?)),
            });
        }
        let mut row_values = Vec::with_capacity(values);
        for _ in 0..values {
            row_values.push(match reader.byte()? {
                NULL => AggValue::Null,
                LONG => AggValue::Long(unzigzag(reader.varint()?)),
                DOUBLE => AggValue::Double(f64::from_le_bytes(
                    reader.take(8)?.try_into().map_err(|_| "short double")?,
                )),
                JSON => {
                    let length = reader.varint()?;
                    let json = reader.take(length)?;
                    serde_json::from_slice(json).map_err(|error| error.to_string())?
                }
                tag => return Err(format!("unknown value tag {tag} in a groupBy partial")),
            });
        }
        decoded.push(GroupRow {
            timestamp: time,
            dims: row_dims,
            values: row_values,
        });
    }
    if reader.at != body.len() {
        return Err("trailing bytes after a groupBy partial".to_owned());
    }
    Ok(GroupByPartial {
        rows: decoded,
        ordered,
    })
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

struct Reader<'b> {
    bytes: &'b [u8],
    at: usize,
}

impl<'b> Reader<'b> {
    fn byte(&mut self) -> Result<u8, String> {
        let byte = *self.bytes.get(self.at).ok_or("truncated groupBy partial")?;
        self.at += 1;
        Ok(byte)
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Ok(value);
            }
        }
        Err("a varint longer than 64 bits in a groupBy partial".to_owned())
    }

    fn count(&mut self) -> Result<usize, String> {
        usize::try_from(self.varint()?).map_err(|error| error.to_string())
    }

    fn take(&mut self, length: u64) -> Result<&'b [u8], String> {
        let end = usize::try_from(length)
            .ok()
            .and_then(|length| self.at.checked_add(length))
            .filter(|end| *end <= self.bytes.len())
            .ok_or("truncated groupBy partial")?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    fn text(&mut self, length: u64) -> Result<&'b str, String> {
        let bytes = self.take(length)?;
        std::str::from_utf8(bytes).map_err(|error| error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partial::TimeseriesPartial;

    fn sample() -> PartialResult {
        let row = |timestamp: i64, dims: Vec<Option<&str>>, values: Vec<AggValue>| GroupRow {
            timestamp,
            dims: dims
                .into_iter()
                .map(|dim| dim.map(CompactString::from))
                .collect(),
            values,
        };
        PartialResult::GroupBy(GroupByPartial {
            rows: vec![
                row(
                    -5,
                    vec![None, Some("")],
                    vec![AggValue::Null, AggValue::Long(i64::MIN)],
                ),
                row(
                    1_442_016_000_000,
                    vec![Some("é ✓"), Some("#en")],
                    vec![AggValue::Double(-0.5), AggValue::Str("x".to_owned())],
                ),
                row(
                    1_442_016_000_000,
                    vec![Some("b"), None],
                    vec![
                        AggValue::Timed(7, Box::new(AggValue::Long(3))),
                        AggValue::Double(f64::INFINITY),
                    ],
                ),
            ],
            ordered: false,
        })
    }

    #[test]
    fn group_by_partials_round_trip_in_binary() {
        let bytes = sample().to_wire().unwrap();
        assert!(bytes.starts_with(GROUP_BY_MAGIC));
        assert_eq!(PartialResult::from_wire(&bytes).unwrap(), sample());
        let empty = PartialResult::GroupBy(GroupByPartial::default());
        let bytes = empty.to_wire().unwrap();
        assert_eq!(PartialResult::from_wire(&bytes).unwrap(), empty);
    }

    #[test]
    fn other_partials_and_ragged_rows_travel_as_json() {
        let timeseries = PartialResult::Timeseries(TimeseriesPartial::default());
        let bytes = timeseries.to_wire().unwrap();
        assert_eq!(bytes[0], b'{');
        assert_eq!(PartialResult::from_wire(&bytes).unwrap(), timeseries);
        let PartialResult::GroupBy(mut ragged) = sample() else {
            unreachable!()
        };
        ragged.rows[1].dims.pop();
        let ragged = PartialResult::GroupBy(ragged);
        let bytes = ragged.to_wire().unwrap();
        assert_eq!(bytes[0], b'{');
        assert_eq!(PartialResult::from_wire(&bytes).unwrap(), ragged);
    }

    #[test]
    fn every_truncation_and_corruption_is_an_error() {
        let bytes = sample().to_wire().unwrap();
        for end in 0..bytes.len() {
            assert!(
                PartialResult::from_wire(&bytes[..end]).is_err(),
                "prefix {end}"
            );
        }
        for at in 4..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut corrupt = bytes.clone();
                corrupt[at] ^= flip;
                // Any answer but a panic: some flips still decode (a different string).
                let _ = PartialResult::from_wire(&corrupt);
            }
        }
        let mut huge = GROUP_BY_MAGIC.to_vec();
        huge.extend_from_slice(&[1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f]);
        assert!(PartialResult::from_wire(&huge).is_err());
    }
}
