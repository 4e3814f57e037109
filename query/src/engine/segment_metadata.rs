//! segmentMetadata (`docs/querying/segmentmetadataquery.md`): per segment, its id, interval,
//! row count and one analysis per column (Druid's `SegmentAnalyzer`); merging (`merge: true`)
//! folds every analysis into one with id `merged` (Druid's `ColumnAnalysis.fold`).
//!
//! - columns in the segment's order (`__time` first, as Druid's `SegmentAnalyzer` keeps the
//!   row signature's order); a merged analysis sorts them by name (`mergeAnalyses`' TreeMap);
//! - `cardinality`: dictionary size of string columns (null counts as a value; 0 when not
//!   requested), null for other columns; for multi-value columns the distinct values too;
//! - `hasMultipleValues`: true for multi-value string columns (folded with "or");
//! - `minmax`: first and last dictionary values of string columns, else null;
//! - `size`: the "flat format" estimate: UTF-8 bytes of each string value times its rows,
//!   8 bytes per row for long, double and `__time` columns; 0 when not requested;
//! - `interval`: the segment's interval, read from its id (`{dataSource}_{start}_{end}_…`),
//!   or the data's `[min, max + 1)` when the id does not carry one.

mod stored;

use henge_segment::reader::Segment;
use henge_segment::time::{parse_timestamp, Interval};
use henge_segment::ColumnRef;

use crate::model::metadata::SegmentMetadataSpec;
use crate::model::spec::TIME_COLUMN;
use crate::partial::{ColumnAnalysis, SegmentAnalysis, SegmentMetadataPartial};

pub(crate) fn run(
    spec: &SegmentMetadataSpec,
    segment: &Segment,
    datasource: &str,
    segment_id: &str,
) -> SegmentMetadataPartial {
    let analyses = spec.analyses;
    let num_rows = segment.num_rows();
    let mut columns: Vec<ColumnAnalysis> = Vec::new();
    if spec.to_include.includes(TIME_COLUMN) {
        columns.push(numeric(TIME_COLUMN, "LONG", false, num_rows, analyses.size));
    }
    for column in segment.schema() {
        if !spec.to_include.includes(&column.name) {
            continue;
        }
        let analysis = match segment.column(&column.name) {
            Some(ColumnRef::Long(values)) => numeric(
                &column.name,
                "LONG",
                values.null_bitmap_ref().is_some(),
                num_rows,
                analyses.size,
            ),
            Some(ColumnRef::Double(values)) => numeric(
                &column.name,
                "DOUBLE",
                values.null_bitmap_ref().is_some(),
                num_rows,
                analyses.size,
            ),
            Some(ColumnRef::String(strings)) => {
                let cardinality = strings.cardinality();
                let size = if analyses.size {
                    (0..cardinality as u32)
                        .filter_map(|id| {
                            let value = strings.value(id)?;
                            Some(value.len() as i64 * strings.bitmap(id).len() as i64)
                        })
                        .sum()
                } else {
                    0
                };
                let end = |id: usize| {
                    (analyses.minmax && cardinality > 0)
                        .then(|| strings.value(id as u32).map(str::to_owned))
                        .flatten()
                };
                ColumnAnalysis {
                    name: column.name.clone(),
                    type_name: "STRING".into(),
                    has_nulls: strings.has_nulls(),
                    has_multiple_values: strings.is_multi_value(),
                    size,
                    cardinality: Some(if analyses.cardinality {
                        cardinality as u64
                    } else {
                        0
                    }),
                    min: end(0),
                    max: end(cardinality.saturating_sub(1)),
                    error: None,
                }
            }
            // Druid's analysis of a complex column: its type, nulls possible, no size,
            // cardinality or bounds.
            Some(ColumnRef::Complex(sketches)) => ColumnAnalysis {
                name: column.name.clone(),
                type_name: sketches.kind().signature().to_owned(),
                has_multiple_values: false,
                has_nulls: true,
                size: 0,
                cardinality: None,
                min: None,
                max: None,
                error: None,
            },
            None => continue,
        };
        columns.push(analysis);
    }
    let intervals = analyses.interval.then(|| {
        let interval = interval_from_id(datasource, segment_id).unwrap_or_else(|| {
            match (segment.min_time(), segment.max_time()) {
                (Some(min), Some(max)) => (min, max.saturating_add(1)),
                _ => (0, 0),
            }
        });
        vec![interval]
    });
    let stored = stored::analyze(segment.metadata(), &analyses);
    SegmentMetadataPartial {
        segments: vec![SegmentAnalysis {
            id: segment_id.to_owned(),
            intervals,
            size: columns.iter().map(|column| column.size).sum(),
            columns,
            num_rows: num_rows as i64,
            aggregators: stored.aggregators,
            timestamp_spec: stored.timestamp_spec,
            query_granularity: stored.query_granularity,
            rollup: stored.rollup,
        }],
    }
}

fn numeric(
    name: &str,
    type_name: &str,
    has_nulls: bool,
    rows: usize,
    size: bool,
) -> ColumnAnalysis {
    ColumnAnalysis {
        name: name.to_owned(),
        type_name: type_name.to_owned(),
        has_nulls,
        has_multiple_values: false,
        size: if size { rows as i64 * 8 } else { 0 },
        cardinality: None,
        min: None,
        max: None,
        error: None,
    }
}

/// `{dataSource}_{start}_{end}_{version}[_{partition}]` → `(start, end)`.
pub(crate) fn interval_from_id(datasource: &str, segment_id: &str) -> Option<(i64, i64)> {
    let rest = segment_id.strip_prefix(datasource)?.strip_prefix('_')?;
    let mut parts = rest.split('_');
    let start = parse_timestamp(parts.next()?)?;
    let end = parse_timestamp(parts.next()?)?;
    Some((start, end))
}

/// Merges partials: concatenated and ordered by segment id, or with `merge` folded into one.
pub(crate) fn merge(
    spec: &SegmentMetadataSpec,
    parts: Vec<SegmentMetadataPartial>,
) -> SegmentMetadataPartial {
    let mut segments: Vec<SegmentAnalysis> =
        parts.into_iter().flat_map(|part| part.segments).collect();
    if !spec.merge {
        segments.sort_by(|left, right| left.id.cmp(&right.id));
        return SegmentMetadataPartial { segments };
    }
    let lenient = spec.lenient_aggregator_merge;
    let merged = segments
        .into_iter()
        .reduce(|left, right| fold_segments(left, right, lenient));
    SegmentMetadataPartial {
        segments: merged.into_iter().collect(),
    }
}

fn fold_segments(left: SegmentAnalysis, right: SegmentAnalysis, lenient: bool) -> SegmentAnalysis {
    let stored = stored::merge(
        stored::Stored {
            aggregators: left.aggregators,
            timestamp_spec: left.timestamp_spec,
            query_granularity: left.query_granularity,
            rollup: left.rollup,
        },
        stored::Stored {
            aggregators: right.aggregators,
            timestamp_spec: right.timestamp_spec,
            query_granularity: right.query_granularity,
            rollup: right.rollup,
        },
        lenient,
    );
    let intervals = match (left.intervals, right.intervals) {
        (Some(mut left), Some(right)) => {
            left.extend(right);
            let mut intervals: Vec<Interval> = left
                .into_iter()
                .map(|(start, end)| Interval::new(start, end))
                .collect();
            intervals.sort_by_key(|interval| (interval.start, interval.end));
            let mut condensed: Vec<(i64, i64)> = Vec::new();
            for interval in intervals {
                match condensed.last_mut() {
                    Some(last) if interval.start <= last.1 => last.1 = last.1.max(interval.end),
                    _ => condensed.push((interval.start, interval.end)),
                }
            }
            Some(condensed)
        }
        (left, right) => left.or(right),
    };
    let mut columns = left.columns;
    for column in right.columns {
        match columns.iter().position(|known| known.name == column.name) {
            Some(at) => {
                let known = columns.remove(at);
                columns.insert(at, fold_columns(known, column));
            }
            None => columns.push(column),
        }
    }
    columns.sort_by(|left, right| left.name.cmp(&right.name));
    SegmentAnalysis {
        id: "merged".into(),
        intervals,
        columns,
        size: left.size + right.size,
        num_rows: left.num_rows + right.num_rows,
        aggregators: stored.aggregators,
        timestamp_spec: stored.timestamp_spec,
        query_granularity: stored.query_granularity,
        rollup: stored.rollup,
    }
}

fn fold_columns(left: ColumnAnalysis, right: ColumnAnalysis) -> ColumnAnalysis {
    match (&left.error, &right.error) {
        (Some(mine), Some(theirs)) if mine == theirs => return left,
        (Some(_), Some(_)) => return error_column(left.name, "multiple_errors".into()),
        (Some(_), None) => return left,
        (None, Some(_)) => return right,
        (None, None) => {}
    }
    if left.type_name != right.type_name {
        // Druid names the types in merge order; sorted here, so the message does not depend
        // on the order partials arrive in.
        let (first, second) = if left.type_name < right.type_name {
            (&left.type_name, &right.type_name)
        } else {
            (&right.type_name, &left.type_name)
        };
        let reason = format!("cannot_merge_diff_types: [{first}] and [{second}]");
        return error_column(left.name, reason);
    }
    let cardinality = match (left.cardinality, right.cardinality) {
        (Some(left), Some(right)) => Some(left.max(right)),
        (left, right) => left.or(right),
    };
    // Druid's `ColumnAnalysis.choose`: a null minimum wins, a null maximum yields.
    let min = match (left.min, right.min) {
        (Some(left), Some(right)) => Some(left.min(right)),
        _ => None,
    };
    let max = match (left.max, right.max) {
        (Some(left), Some(right)) => Some(left.max(right)),
        (left, right) => left.or(right),
    };
    ColumnAnalysis {
        name: left.name,
        type_name: left.type_name,
        has_nulls: left.has_nulls || right.has_nulls,
        has_multiple_values: left.has_multiple_values || right.has_multiple_values,
        size: left.size + right.size,
        cardinality,
        min,
        max,
        error: None,
    }
}

/// Druid's `ColumnAnalysis.error`: a `STRING` analysis of size -1 carrying `error:{reason}`.
fn error_column(name: String, reason: String) -> ColumnAnalysis {
    ColumnAnalysis {
        name,
        type_name: "STRING".into(),
        has_nulls: false,
        has_multiple_values: false,
        size: -1,
        cardinality: None,
        min: None,
        max: None,
        error: Some(format!("error:{reason}")),
    }
}
