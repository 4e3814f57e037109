//! How topN and groupBy read a grouping dimension on one segment: every selected row gets a
//! dense output id, and each output id one rendered value (see `crate::output`): the
//! spec's transforms and output type run once per distinct input value, never per row.
//!
//! - String columns map each dictionary id to an output id once per dictionary value, so the
//!   per-row work stays a dictionary-id decode plus an array lookup (none at all when the
//!   values are output unchanged).
//! - Long, double and `__time` columns give each distinct value (keyed by its raw bits in a
//!   hash map, null apart) an id in one pass over the selected rows, kept per row.
//! - A missing column is null on every row.
//! - Multi-value string columns give each row a list of output ids (possibly empty, repeats
//!   kept), for the engines to explode: value filters of the spec drop values from a row
//!   rather than making them null, and an empty row has the output id of null.
//!
//! Output ids follow the output order (nulls first, then lexicographic for `STRING` outputs
//! and by value for numeric ones), and values that render alike share one id, so id order
//! is the tie-break order of topN and groupBy.

use compact_str::CompactString;
use hashbrown::HashMap;
use henge_segment::{ColumnRef, StringColumn};

use super::SegmentView;
use crate::extract::apply_kept;
use crate::model::dimension::{DimensionSpec, OutputType};
use crate::model::spec::TIME_COLUMN;
use crate::output::{compare_outputs, render_for, RawValue};
use crate::partial::DimValue;

/// Where the per-row output ids come from.
enum Source<'a> {
    /// Dictionary ids mapped through `remap` (`None`: the identity).
    Strings(StringColumn<'a>, Option<Vec<u32>>),
    /// A multi-value string column: each dictionary id's output id (`None`: a value filter
    /// drops it from the row).
    MultiStrings(StringColumn<'a>, Vec<Option<u32>>),
    /// Output ids per segment row (only rows the query selects are set).
    Rows(Vec<u32>),
    /// Every row is null (output id 0).
    Missing,
}

/// The rendered value of each output id.
enum Outputs<'a> {
    Rendered(Vec<Option<String>>),
    /// A string column read unchanged over a sorted dictionary: output ids are its
    /// dictionary ids and values its dictionary's, so nothing is rendered up front.
    Dictionary(StringColumn<'a>),
}

/// One grouping dimension bound to a segment.
pub(crate) struct DimensionReader<'a> {
    source: Source<'a>,
    outputs: Outputs<'a>,
    /// The output id of a row without values (multi-value columns).
    empty: u32,
}

impl<'a> DimensionReader<'a> {
    pub(crate) fn new(spec: &DimensionSpec, view: &SegmentView<'a>) -> DimensionReader<'a> {
        let segment = view.segment;
        let column = if spec.dimension == TIME_COLUMN {
            None
        } else {
            segment.column(&spec.dimension)
        };
        match column {
            Some(ColumnRef::String(column)) if column.is_multi_value() => {
                // The dictionary, then one more null for the empty rows.
                let raw: Vec<RawValue<'a>> = (0..column.cardinality() as u32)
                    .map(|id| column.value(id).map_or(RawValue::Null, RawValue::Str))
                    .chain([RawValue::Null])
                    .collect();
                let (remap, outputs) = assign_outputs(spec, &raw);
                let kept = raw[..raw.len() - 1]
                    .iter()
                    .zip(&remap)
                    .map(|(value, &output)| apply_kept(&spec.transforms, *value).map(|_| output))
                    .collect();
                DimensionReader {
                    source: Source::MultiStrings(column, kept),
                    outputs: Outputs::Rendered(outputs),
                    empty: remap[raw.len() - 1],
                }
            }
            // Segments keep their dictionaries sorted (checked when one is opened).
            Some(ColumnRef::String(column))
                if spec.transforms.is_empty() && spec.output_type == OutputType::String =>
            {
                DimensionReader {
                    source: Source::Strings(column, None),
                    outputs: Outputs::Dictionary(column),
                    empty: 0,
                }
            }
            Some(ColumnRef::String(column)) => {
                let raw: Vec<RawValue<'a>> = (0..column.cardinality() as u32)
                    .map(|id| column.value(id).map_or(RawValue::Null, RawValue::Str))
                    .collect();
                let (remap, outputs) = assign_outputs(spec, &raw);
                let identity = spec.output_type == OutputType::String
                    && remap.iter().enumerate().all(|(at, &id)| at == id as usize);
                DimensionReader {
                    source: Source::Strings(column, (!identity).then_some(remap)),
                    outputs: Outputs::Rendered(outputs),
                    empty: 0,
                }
            }
            Some(ColumnRef::Long(column)) => {
                let values = column.values();
                numeric(spec, view, |row| {
                    (!column.is_null(row))
                        .then(|| (values[row] as u64, RawValue::Long(values[row])))
                })
            }
            Some(ColumnRef::Double(column)) => {
                let values = column.values();
                numeric(spec, view, |row| {
                    (!column.is_null(row))
                        .then(|| (values[row].to_bits(), RawValue::Double(values[row])))
                })
            }
            None if spec.dimension == TIME_COLUMN => {
                let times = segment.times();
                numeric(spec, view, |row| {
                    Some((times[row] as u64, RawValue::Long(times[row])))
                })
            }
            // A sketch column has no groupable values: every row is null, as a missing column.
            None | Some(ColumnRef::Complex(_)) => {
                let (_, outputs) = assign_outputs(spec, &[RawValue::Null]);
                DimensionReader {
                    source: Source::Missing,
                    outputs: Outputs::Rendered(outputs),
                    empty: 0,
                }
            }
        }
    }

    /// How many output ids there are.
    pub(crate) fn cardinality(&self) -> usize {
        match &self.outputs {
            Outputs::Rendered(outputs) => outputs.len(),
            Outputs::Dictionary(column) => column.cardinality(),
        }
    }

    /// The rendered value of an output id.
    pub(crate) fn value(&self, id: u32) -> Option<String> {
        self.text(id).map(str::to_owned)
    }

    /// The rendered value of an output id as a group key.
    pub(crate) fn key(&self, id: u32) -> DimValue {
        self.text(id).map(CompactString::from)
    }

    /// The UTF-8 bytes of an output id's rendered value (a dictionary's bytes as stored).
    pub(crate) fn bytes(&self, id: u32) -> Option<&[u8]> {
        match &self.outputs {
            Outputs::Rendered(outputs) => outputs[id as usize].as_deref().map(str::as_bytes),
            Outputs::Dictionary(column) => column.value_bytes(id),
        }
    }

    fn text(&self, id: u32) -> Option<&str> {
        match &self.outputs {
            Outputs::Rendered(outputs) => outputs[id as usize].as_deref(),
            Outputs::Dictionary(column) => column.value(id),
        }
    }

    /// Whether rows hold lists of output ids ([`Self::row_outputs`]) rather than one.
    pub(crate) fn is_multi_value(&self) -> bool {
        matches!(self.source, Source::MultiStrings(..))
    }

    /// The output id of a row left without values (a multi-value row that is empty, or
    /// whose values the spec's value filters all dropped): null's.
    pub(crate) fn empty_output(&self) -> u32 {
        self.empty
    }

    /// Appends the output ids of `row` to `out`: its values in stored order (repeats kept)
    /// minus those the spec's value filters drop; exactly one id for single-value sources.
    pub(crate) fn row_outputs(&self, row: u32, out: &mut Vec<u32>) {
        match &self.source {
            Source::MultiStrings(column, kept) => {
                out.extend(
                    column
                        .row_ids(row as usize)
                        .filter_map(|id| kept[id as usize]),
                );
            }
            _ => {
                let mut id = [0u32];
                self.decode(&[row], false, &mut id);
                out.push(id[0]);
            }
        }
    }

    /// Writes the output id of each row of `chunk` (a run of consecutive rows when
    /// `contiguous`) into `ids`. Multi-value sources give each row's first value here; the
    /// engines read them with [`Self::row_outputs`] instead.
    pub(crate) fn decode(&self, chunk: &[u32], contiguous: bool, ids: &mut [u32]) {
        match &self.source {
            Source::MultiStrings(column, kept) => {
                // Not what the engines use (they explode rows): the first kept value.
                for (id, &row) in ids.iter_mut().zip(chunk) {
                    *id = column
                        .row_ids(row as usize)
                        .find_map(|id| kept[id as usize])
                        .unwrap_or(self.empty);
                }
            }
            Source::Strings(column, remap) => {
                if contiguous {
                    column.decode_ids(chunk[0] as usize, ids);
                } else {
                    for (id, &row) in ids.iter_mut().zip(chunk) {
                        *id = column.row_id(row as usize);
                    }
                }
                if let Some(remap) = remap {
                    for id in ids.iter_mut() {
                        *id = remap[*id as usize];
                    }
                }
            }
            Source::Rows(row_ids) => {
                for (id, &row) in ids.iter_mut().zip(chunk) {
                    *id = row_ids[row as usize];
                }
            }
            Source::Missing => ids.fill(0),
        }
    }
}

/// Gives each distinct value of the selected rows an id (`value_of` returns its raw bits and
/// value, `None` for null), then maps those ids to output ids.
fn numeric<'a>(
    spec: &DimensionSpec,
    view: &SegmentView<'a>,
    value_of: impl Fn(usize) -> Option<(u64, RawValue<'a>)>,
) -> DimensionReader<'a> {
    let mut row_ids = vec![0u32; view.segment.num_rows()];
    let mut by_bits: HashMap<u64, u32> = HashMap::new();
    let mut raw = vec![RawValue::Null];
    for piece in &view.pieces {
        for row in view.selected_rows(piece.rows.clone()) {
            if let Some((bits, value)) = value_of(row) {
                let next = raw.len() as u32;
                row_ids[row] = *by_bits.entry(bits).or_insert_with(|| {
                    raw.push(value);
                    next
                });
            }
        }
    }
    let (remap, outputs) = assign_outputs(spec, &raw);
    for id in row_ids.iter_mut() {
        *id = remap[*id as usize];
    }
    DimensionReader {
        source: Source::Rows(row_ids),
        outputs: Outputs::Rendered(outputs),
        empty: 0,
    }
}

/// Renders every raw value once, then numbers the distinct outputs in output order: returns
/// the output id of each raw id and the outputs by id.
fn assign_outputs(spec: &DimensionSpec, raw: &[RawValue<'_>]) -> (Vec<u32>, Vec<Option<String>>) {
    let rendered: Vec<Option<String>> = raw.iter().map(|value| render_for(spec, *value)).collect();
    let mut order: Vec<usize> = (0..rendered.len()).collect();
    order.sort_by(|&left, &right| {
        compare_outputs(
            spec.output_type,
            rendered[left].as_deref(),
            rendered[right].as_deref(),
        )
    });
    let mut remap = vec![0u32; rendered.len()];
    let mut outputs: Vec<Option<String>> = Vec::new();
    for at in order {
        if outputs.last() != Some(&rendered[at]) {
            outputs.push(rendered[at].clone());
        }
        remap[at] = (outputs.len() - 1) as u32;
    }
    (remap, outputs)
}
