//! [`Sink`]: the rows of one future segment (datasource, time chunk, version, partition) held
//! in memory as immutable hydrants plus the builder of the current push.
//!
//! Every push ends by sealing its builder into a hydrant (an in-memory [`Segment`]), so what
//! was acknowledged is queryable at once. To keep query fan-out small without rewriting big
//! hydrants over and over, hydrants below `max_rows_in_memory` rows are merged like a binary
//! counter (the two newest merge while the older is not larger than the newer), and at most
//! [`MAX_SMALL_HYDRANTS`] of them are kept; a hydrant of `max_rows_in_memory` rows or more is
//! never merged again before handoff. Each row is thus rewritten O(log n) times.

use henge_segment::sketch::SketchAccumulator;
use henge_segment::{merge_segments, ColumnType, SegmentBuilder, SegmentId};
use henge_segment::{Segment, StringList, ValueRef};
use serde_json::json;

use super::schema::{to_value_ref, Event, PushSchema};
use crate::error::{IngestError, Result};
use crate::multi_value::{read_list, MultiValueHandling};
use crate::parse::Scalar;
use crate::rollup::{add_to_sketch, SketchInput};
use crate::spec::MetricKind;

/// Buffers reused from event to event: each column's multi-value row, when its value is a
/// JSON array (push ingestion orders them the default way, `SORTED_ARRAY`).
#[derive(Default)]
pub(crate) struct ListScratch {
    lists: Vec<Vec<Option<String>>>,
    is_list: Vec<bool>,
}

/// Most small hydrants a sink keeps before merging them regardless of sizes.
pub(crate) const MAX_SMALL_HYDRANTS: usize = 8;

/// One realtime segment in the making (see the module docs).
pub(crate) struct Sink {
    pub(crate) id: SegmentId,
    pub(crate) hydrants: Vec<Segment>,
    /// Rows of the current push, not yet sealed.
    pending: Option<SegmentBuilder>,
    /// Rows in hydrants and pending.
    pub(crate) num_rows: usize,
}

impl Sink {
    pub(crate) fn new(id: SegmentId) -> Sink {
        Sink {
            id,
            hydrants: Vec::new(),
            pending: None,
            num_rows: 0,
        }
    }

    /// Adds `event` with `schema`'s columns; seals the pending builder once it holds
    /// `max_rows_in_memory` rows.
    pub(crate) fn push<'e>(
        &mut self,
        schema: &PushSchema,
        event: &'e Event<'_>,
        scalars: &mut Vec<Scalar<'e>>,
        scratch: &mut ListScratch,
        max_rows_in_memory: usize,
    ) -> Result<()> {
        let columns = schema.columns();
        scalars.clear();
        scalars.extend((0..columns.len()).map(|column| schema.value(event, column)));
        scratch.lists.resize_with(columns.len(), Vec::new);
        scratch.is_list.clear();
        for ((scalar, list), spec) in scalars.iter().zip(&mut scratch.lists).zip(columns) {
            scratch.is_list.push(
                spec.column_type == ColumnType::String
                    && read_list(scalar, MultiValueHandling::default(), list),
            );
        }
        let builder = self.pending.get_or_insert_with(|| {
            let mut builder = SegmentBuilder::new(columns.to_vec());
            builder.set_metadata(json!({
                "aggregators": [],
                "timestampSpec": {"column": super::schema::TIMESTAMP_FIELD, "format": "auto"},
                "queryGranularity": {"type": "none"},
                "rollup": false,
            }));
            builder
        });
        // Metrics of one row (no rollup): a count of 1, the value, or a one-value sketch.
        let sketches: Vec<Option<Vec<u8>>> = (0..columns.len())
            .map(
                |column| match (schema.metric(column), scalars.get(column)) {
                    (Some(MetricKind::Sketch(_, spec)), Some(scalar)) => {
                        let mut sketch =
                            SketchAccumulator::new(spec).expect("validated sketch spec");
                        add_to_sketch(&mut sketch, &SketchInput::of(scalar));
                        Some(sketch.finish().to_bytes())
                    }
                    _ => None,
                },
            )
            .collect();
        let (lists, is_list) = (&scratch.lists, &scratch.is_list);
        builder.push_row_with(event.time, |column| {
            match (schema.metric(column), scalars.get(column)) {
                (_, None) => ValueRef::Null,
                (None, Some(_)) if is_list[column] => {
                    ValueRef::Strings(StringList::Owned(&lists[column]))
                }
                (Some(MetricKind::Count), _) => ValueRef::Long(1),
                (Some(MetricKind::Sketch(..)), _) => sketches[column]
                    .as_deref()
                    .map_or(ValueRef::Null, ValueRef::Bytes),
                (Some(metric), Some(scalar)) => lenient(scalar, metric.column_type()),
                (None, Some(scalar)) => to_value_ref(scalar, columns[column].column_type),
            }
        });
        self.num_rows += 1;
        if builder.num_rows() >= max_rows_in_memory {
            self.seal(max_rows_in_memory)?;
        }
        Ok(())
    }

    /// Turns the pending rows into a hydrant and merges small hydrants (module docs).
    pub(crate) fn seal(&mut self, max_rows_in_memory: usize) -> Result<()> {
        let Some(builder) = self.pending.take() else {
            return Ok(());
        };
        if builder.num_rows() > 0 {
            self.hydrants.push(to_segment(builder)?);
        }
        loop {
            let small: Vec<usize> = (0..self.hydrants.len())
                .filter(|&index| self.hydrants[index].num_rows() < max_rows_in_memory)
                .collect();
            let [.., older, newer] = small[..] else {
                return Ok(());
            };
            let rows = |index: usize| self.hydrants[index].num_rows();
            if small.len() <= MAX_SMALL_HYDRANTS && rows(older) > rows(newer) {
                return Ok(());
            }
            let merged = to_segment(merge_segments(&[
                self.hydrants[older].clone(),
                self.hydrants[newer].clone(),
            ]))?;
            self.hydrants.remove(newer);
            self.hydrants[older] = merged;
        }
    }
}

/// Writes a builder to memory and opens it.
fn to_segment(builder: SegmentBuilder) -> Result<Segment> {
    let mut bytes = Vec::new();
    builder
        .write(&mut bytes)
        .map_err(|source| IngestError::io("<in-memory hydrant>", source))?;
    Ok(Segment::from_vec(bytes)?)
}

/// A numeric metric's input: numbers and numeric strings, else null.
fn lenient<'s>(scalar: &'s Scalar<'_>, column_type: ColumnType) -> ValueRef<'s> {
    let value = match column_type {
        ColumnType::Long => scalar.to_long().ok().flatten().map(ValueRef::Long),
        _ => scalar.to_double().ok().flatten().map(ValueRef::Double),
    };
    value.unwrap_or(ValueRef::Null)
}
