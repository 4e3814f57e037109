//! [`PartialResult`]: what running a query on one segment (or merging such results)
//! produces, before Druid's response shape is applied. Partials travel between nodes in the
//! form [`wire`] gives them (binary for groupBy, serde_json text otherwise), so every type
//! here round-trips through serde_json exactly.

mod wire;

pub(crate) use self::wire::encode_group_by;

use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smallvec::SmallVec;

use crate::value::AggValue;

/// A mergeable, serializable intermediate result of one query type.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub enum PartialResult {
    Timeseries(TimeseriesPartial),
    TopN(TopNPartial),
    GroupBy(GroupByPartial),
    Scan(ScanPartial),
    TimeBoundary(TimeBoundaryPartial),
    SegmentMetadata(SegmentMetadataPartial),
    Search(SearchPartial),
}

impl PartialResult {
    /// How many rows a scan partial holds (0 for other query types).
    pub fn scan_rows(&self) -> usize {
        match self {
            PartialResult::Scan(scan) => scan.batches.iter().map(|batch| batch.rows.len()).sum(),
            _ => 0,
        }
    }

    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            PartialResult::Timeseries(_) => "timeseries",
            PartialResult::TopN(_) => "topN",
            PartialResult::GroupBy(_) => "groupBy",
            PartialResult::Scan(_) => "scan",
            PartialResult::TimeBoundary(_) => "timeBoundary",
            PartialResult::SegmentMetadata(_) => "segmentMetadata",
            PartialResult::Search(_) => "search",
        }
    }
}

/// Timeseries buckets, ascending by timestamp with no duplicates.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct TimeseriesPartial {
    pub(crate) rows: Vec<TimeseriesRow>,
}

/// One timeseries bucket: its timestamp and one value per aggregator.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TimeseriesRow {
    pub(crate) timestamp: i64,
    pub(crate) values: Vec<AggValue>,
}

/// TopN buckets, ascending by timestamp with no duplicates.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct TopNPartial {
    pub(crate) buckets: Vec<TopNBucket>,
}

/// One topN bucket: its best entries, ranked.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopNBucket {
    pub(crate) timestamp: i64,
    pub(crate) entries: Vec<TopNEntry>,
}

/// One dimension value (null included) and its aggregator values.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct TopNEntry {
    pub(crate) value: Option<String>,
    pub(crate) values: Vec<AggValue>,
}

/// GroupBy rows, sorted by timestamp then dimension values (nulls first), no duplicates.
#[derive(Serialize, Deserialize, Clone, Debug, Default)]
pub struct GroupByPartial {
    pub(crate) rows: Vec<GroupRow>,
    /// Whether the rows are known to be so (made so here by the engine or a merge): rows read
    /// from elsewhere are checked, and sorted if need be, before they merge.
    #[serde(skip)]
    pub(crate) ordered: bool,
}

impl PartialEq for GroupByPartial {
    /// The same rows (whether their order was checked does not matter).
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows
    }
}

/// One dimension value of a group (null included); values of up to 24 bytes are held
/// inline, so most groups allocate nothing for their keys and compare without a pointer
/// chase.
pub(crate) type DimValue = Option<CompactString>;

/// The dimension values of a group row; up to two are held in the row itself.
pub(crate) type DimValues = SmallVec<[DimValue; 2]>;

/// One group: bucket timestamp, one value per dimension, one value per aggregator.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct GroupRow {
    pub(crate) timestamp: i64,
    pub(crate) dims: DimValues,
    pub(crate) values: Vec<AggValue>,
}

/// Scanned rows, grouped by the segment they came from.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ScanPartial {
    pub(crate) batches: Vec<ScanBatch>,
}

/// Rows of one segment (or, once time-ordered, of several: `segment_id` is then `None`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ScanBatch {
    pub(crate) segment_id: Option<String>,
    pub(crate) columns: Vec<String>,
    /// Druid type names (`LONG`, `DOUBLE`, `STRING`) per column; `None` for missing columns.
    pub(crate) column_types: Vec<Option<String>>,
    pub(crate) rows: Vec<ScanRow>,
}

/// One scanned row: its `__time` (for ordering) and a value per column.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ScanRow {
    pub(crate) time: i64,
    pub(crate) values: Vec<Value>,
}

/// The smallest and largest `__time` of matching rows.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct TimeBoundaryPartial {
    pub(crate) min: Option<i64>,
    pub(crate) max: Option<i64>,
}

/// Segment analyses: one per segment, or one `merged` analysis.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct SegmentMetadataPartial {
    pub(crate) segments: Vec<SegmentAnalysis>,
}

/// What segmentMetadata reports about one segment (or a merge of several).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SegmentAnalysis {
    pub(crate) id: String,
    /// `(start, end)` pairs; `None` without the `interval` analysis.
    pub(crate) intervals: Option<Vec<(i64, i64)>>,
    /// Sorted by name.
    pub(crate) columns: Vec<ColumnAnalysis>,
    pub(crate) size: i64,
    pub(crate) num_rows: i64,
    /// `aggregators`, `timestampSpec`, `queryGranularity` and `rollup` as Druid prints them
    /// (null where not requested or not agreed on).
    #[serde(default)]
    pub(crate) aggregators: Value,
    #[serde(default)]
    pub(crate) timestamp_spec: Value,
    #[serde(default)]
    pub(crate) query_granularity: Value,
    #[serde(default)]
    pub(crate) rollup: Value,
}

/// One column's analysis.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct ColumnAnalysis {
    pub(crate) name: String,
    /// `STRING`, `LONG`, `DOUBLE` or a complex signature such as `COMPLEX<HLLSketch>`.
    pub(crate) type_name: String,
    pub(crate) has_nulls: bool,
    /// A multi-value string column (partials from older nodes lack it: false).
    #[serde(default)]
    pub(crate) has_multiple_values: bool,
    pub(crate) size: i64,
    pub(crate) cardinality: Option<u64>,
    pub(crate) min: Option<String>,
    pub(crate) max: Option<String>,
    pub(crate) error: Option<String>,
}

/// Search buckets, ascending by timestamp with no duplicates.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct SearchPartial {
    pub(crate) buckets: Vec<SearchBucket>,
}

/// One search bucket: its hits, sorted by the query's ordering and cut at its limit.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SearchBucket {
    pub(crate) timestamp: i64,
    pub(crate) hits: Vec<SearchHit>,
}

/// A dimension value that matched, and how many selected rows hold it.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SearchHit {
    pub(crate) dimension: String,
    pub(crate) value: Option<String>,
    pub(crate) count: u64,
}
