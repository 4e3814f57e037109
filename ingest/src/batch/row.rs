//! [`RowLayout`]: how the input fields of a batch task map to the timestamp, dimension and
//! metric columns, and the per-row conversions with Druid's parse-exception messages.
//!
//! Schemaless mode (no `dimensions`, or `includeAllDimensions` / `useSchemaDiscovery`): every
//! top-level field that is not the timestamp column, a metric's input or name, or listed in
//! `dimensionExclusions` becomes a dimension, in first-seen order. Classic discovery makes
//! them strings (numbers keep their JSON text, booleans become "true"/"false");
//! `useSchemaDiscovery` types each column per segment: LONG when every value is an integer,
//! DOUBLE when every value is a number, STRING otherwise. A JSON array in a string (or
//! discovered) dimension is a multi-value row, ordered by the dimension's
//! `multiValueHandling` (discovered dimensions use the default, `SORTED_ARRAY`); an array
//! makes a typed-discovery column STRING. Objects are stored as their JSON text (nested
//! columns are not supported yet).

use serde_json::value::RawValue;

use henge_segment::sketch::SketchAccumulator;
use henge_segment::{ColumnSpec, ColumnType, SegmentBuilder, StringList, ValueRef};

use crate::multi_value::{read_list, MultiValueHandling};
use crate::parse::{recycle, FieldIndex, Scalar};
use crate::rollup::{add_to_sketch, DimInput, DimStorage, MetricInput, RowStore, SketchInput};
use crate::spec::{DataSchema, DimensionKind, MetricKind, TimestampSpec};
use crate::stats::truncate_chars;

/// Longest part of an input row quoted in a parse-exception message.
const MAX_QUOTED_CHARS: usize = 1_000;

/// Whether a row that was added had column values that could not be converted.
pub(crate) enum LineOutcome {
    Clean,
    /// The row was added with nulls for these values (Druid's `processedWithError`).
    WithErrors(Vec<String>),
}

struct DimPlan {
    name: String,
    slot: usize,
    storage: DimStorage,
    explicit: bool,
    handling: MultiValueHandling,
}

impl DimPlan {
    /// Reads a JSON array of this dimension into `list` (see the module docs): true when
    /// the value is an array and the column stores strings.
    fn read_list(&self, scalar: &Scalar<'_>, list: &mut Vec<Option<String>>) -> bool {
        matches!(
            self.storage,
            DimStorage::Fixed(ColumnType::String) | DimStorage::Typed
        ) && read_list(scalar, self.handling, list)
    }
}

struct MetricPlan {
    kind: MetricKind,
    /// Input slot and field name; `None` for `count`.
    input: Option<(usize, String)>,
}

/// The row shape of a batch task (see the module docs).
pub(crate) struct RowLayout {
    fields: FieldIndex,
    timestamp_slot: usize,
    timestamp: TimestampSpec,
    dims: Vec<DimPlan>,
    metrics: Vec<MetricPlan>,
    metric_columns: Vec<(String, MetricKind)>,
    /// How discovered dimensions are stored.
    discovered_storage: DimStorage,
    /// Reused for each row's metric inputs.
    metric_inputs: Vec<MetricInput>,
    /// Allocations reused by [`RowLayout::add_to_builder`] (always empty between rows).
    scalars: Vec<Scalar<'static>>,
    cells: Vec<ValueRef<'static>>,
    /// Each dimension's multi-value row, when its value is a JSON array.
    lists: Vec<Vec<Option<String>>>,
    is_list: Vec<bool>,
}

impl RowLayout {
    pub(crate) fn new(schema: &DataSchema) -> RowLayout {
        let dims_spec = &schema.dimensions_spec;
        let mut fields = FieldIndex::new(dims_spec.discover);
        let timestamp_slot = fields.slot(&schema.timestamp_spec.column);
        let dims = dims_spec
            .dimensions
            .iter()
            .map(|dim| DimPlan {
                name: dim.name.clone(),
                slot: fields.slot(&dim.name),
                storage: match dim.kind {
                    DimensionKind::Fixed(column_type) => DimStorage::Fixed(column_type),
                    DimensionKind::Auto => DimStorage::Typed,
                },
                explicit: true,
                handling: dim.multi_value_handling,
            })
            .collect();
        let metrics = schema
            .metrics
            .iter()
            .map(|metric| MetricPlan {
                kind: metric.kind,
                input: metric
                    .field_name
                    .as_ref()
                    .map(|field| (fields.slot(field), field.clone())),
            })
            .collect();
        for name in schema
            .metrics
            .iter()
            .map(|metric| &metric.name)
            .chain(&dims_spec.exclusions)
        {
            fields.exclude(name);
        }
        RowLayout {
            fields,
            timestamp_slot,
            timestamp: schema.timestamp_spec.clone(),
            dims,
            metrics,
            metric_columns: schema
                .metrics
                .iter()
                .map(|metric| (metric.name.clone(), metric.kind))
                .collect(),
            discovered_storage: if dims_spec.typed_discovery {
                DimStorage::Typed
            } else {
                DimStorage::Fixed(ColumnType::String)
            },
            metric_inputs: Vec::new(),
            scalars: Vec::new(),
            cells: Vec::new(),
            lists: Vec::new(),
            is_list: Vec::new(),
        }
    }

    /// An empty index with every dimension known so far.
    pub(crate) fn new_store(&self, rollup: bool) -> RowStore {
        let mut store = RowStore::new(&self.metric_columns, rollup);
        self.sync_dims(&mut store);
        store
    }

    fn sync_dims(&self, store: &mut RowStore) {
        for dim in &self.dims[store.dim_count()..] {
            store.add_dimension(&dim.name, dim.storage, dim.explicit);
        }
    }

    /// Parses `line` into `slots` and returns its timestamp in epoch milliseconds, or the
    /// message of the parse exception that makes the row unparseable.
    pub(crate) fn parse<'a>(
        &mut self,
        line: &'a str,
        slots: &mut Vec<Option<&'a RawValue>>,
    ) -> Result<i64, String> {
        let quoted = || truncate_chars(line, MAX_QUOTED_CHARS);
        let parsed = self.fields.parse(line, slots);
        // Fields discovered before a syntax error keep their slots, so register them anyway.
        for (name, slot) in self.fields.discovered() {
            self.dims.push(DimPlan {
                name: name.clone(),
                slot: *slot,
                storage: self.discovered_storage,
                explicit: false,
                handling: MultiValueHandling::default(),
            });
        }
        if parsed.is_err() {
            return Err(format!("Unable to parse row [{}]", quoted()));
        }
        let raw = Scalar::of(slots[self.timestamp_slot]);
        let time = match (&raw, self.timestamp.missing_value) {
            (Scalar::Null, Some(missing)) => Some(missing),
            _ => raw.to_timestamp(self.timestamp.format),
        };
        time.ok_or_else(|| {
            format!(
                "Timestamp[{}] is unparseable! Event: {}",
                raw.display(),
                quoted()
            )
        })
    }

    /// Whether rows can go straight into a [`SegmentBuilder`]: no rollup and a fixed set of
    /// dimensions of fixed types, so nothing needs to be held back.
    pub(crate) fn is_direct(&self, rollup: bool) -> bool {
        !rollup
            && !self.fields.discovers()
            && self
                .dims
                .iter()
                .all(|dim| matches!(dim.storage, DimStorage::Fixed(_)))
    }

    /// An empty builder for [`RowLayout::add_to_builder`] (only when [`RowLayout::is_direct`]).
    pub(crate) fn new_builder(&self, metadata: serde_json::Value) -> SegmentBuilder {
        let dims = self.dims.iter().map(|dim| {
            let DimStorage::Fixed(column_type) = dim.storage else {
                unreachable!("direct layouts have fixed dimension types")
            };
            ColumnSpec::dimension(dim.name.clone(), column_type)
        });
        let metrics = self
            .metric_columns
            .iter()
            .map(|(name, kind)| ColumnSpec::metric(name.clone(), kind.column_type()));
        let mut builder = SegmentBuilder::new(dims.chain(metrics).collect());
        builder.set_metadata(metadata);
        builder
    }

    /// The dimension and metric names of a builder from [`RowLayout::new_builder`].
    pub(crate) fn column_names(&self) -> (Vec<String>, Vec<String>) {
        let dims = self.dims.iter().map(|dim| dim.name.clone()).collect();
        let metrics = self
            .metric_columns
            .iter()
            .map(|(name, _)| name.clone())
            .collect();
        (dims, metrics)
    }

    /// Converts the row in `slots` (from [`RowLayout::parse`]) and pushes it into `builder`
    /// at `time` (already truncated to the query granularity).
    pub(crate) fn add_to_builder(
        &mut self,
        builder: &mut SegmentBuilder,
        time: i64,
        slots: &[Option<&RawValue>],
    ) -> LineOutcome {
        let mut errors = Vec::new();
        let mut scalars: Vec<Scalar<'_>> = recycle(std::mem::take(&mut self.scalars));
        scalars.extend(self.dims.iter().map(|dim| Scalar::of(slots[dim.slot])));
        scalars.extend(
            self.metrics
                .iter()
                .map(|metric| Scalar::of(metric.input.as_ref().and_then(|(slot, _)| slots[*slot]))),
        );
        self.read_lists(&scalars);
        // Without rollup, a sketch metric holds the sketch of the row's one value.
        let inputs: Vec<MetricInput> = self
            .metrics
            .iter()
            .zip(&scalars[self.dims.len()..])
            .map(|(metric, scalar)| metric_input(metric, scalar, &mut errors))
            .collect();
        let sketches: Vec<Option<Vec<u8>>> = self
            .metrics
            .iter()
            .zip(&inputs)
            .map(|(metric, input)| match (metric.kind, input) {
                (MetricKind::Sketch(_, spec), MetricInput::Sketch(value)) => {
                    let mut sketch = SketchAccumulator::new(spec).expect("validated sketch spec");
                    add_to_sketch(&mut sketch, value);
                    Some(sketch.finish().to_bytes())
                }
                _ => None,
            })
            .collect();
        let mut cells: Vec<ValueRef<'_>> = recycle(std::mem::take(&mut self.cells));
        for (index, (dim, scalar)) in self.dims.iter().zip(&scalars).enumerate() {
            if self.is_list[index] {
                cells.push(ValueRef::Strings(StringList::Owned(&self.lists[index])));
                continue;
            }
            cells.push(match dim_input(scalar, dim.storage, &mut errors) {
                DimInput::Null => ValueRef::Null,
                DimInput::Str(text) | DimInput::Number(text) => ValueRef::Str(text),
                DimInput::Long(long) => ValueRef::Long(long),
                DimInput::Double(double) => ValueRef::Double(double),
                DimInput::List(values) => ValueRef::Strings(StringList::Owned(values)),
            });
        }
        for (input, sketch) in inputs.iter().zip(&sketches) {
            cells.push(match (input, sketch) {
                (_, Some(bytes)) => ValueRef::Bytes(bytes),
                (MetricInput::Long(long), _) => long.map_or(ValueRef::Null, ValueRef::Long),
                (MetricInput::Double(double), _) => double.map_or(ValueRef::Null, ValueRef::Double),
                (MetricInput::Sketch(_), None) => ValueRef::Null,
            });
        }
        builder.push_row_with(time, |column| cells[column]);
        self.cells = recycle(cells);
        self.scalars = recycle(scalars);
        outcome(errors)
    }

    /// Converts the row in `slots` (from [`RowLayout::parse`]) and adds it to `store` at
    /// `time` (already truncated to the query granularity).
    pub(crate) fn add_to(
        &mut self,
        store: &mut RowStore,
        time: i64,
        slots: &[Option<&RawValue>],
    ) -> LineOutcome {
        self.sync_dims(store);
        let mut errors = Vec::new();
        let mut scalars: Vec<Scalar<'_>> = recycle(std::mem::take(&mut self.scalars));
        scalars.extend(self.dims.iter().map(|dim| Scalar::of(slots[dim.slot])));
        self.read_lists(&scalars);
        store.start_row();
        for (index, (dim, scalar)) in self.dims.iter().zip(&scalars).enumerate() {
            if self.is_list[index] {
                store.push_dim(DimInput::List(&self.lists[index]));
            } else {
                store.push_dim(dim_input(scalar, dim.storage, &mut errors));
            }
        }
        self.scalars = recycle(scalars);
        self.metric_inputs.clear();
        for metric in &self.metrics {
            let scalar = Scalar::of(metric.input.as_ref().and_then(|(slot, _)| slots[*slot]));
            self.metric_inputs
                .push(metric_input(metric, &scalar, &mut errors));
        }
        store.finish_row(time, &self.metric_inputs);
        outcome(errors)
    }
}

impl RowLayout {
    /// Fills `is_list` (and `lists`) for the row's dimension values `scalars`.
    fn read_lists(&mut self, scalars: &[Scalar<'_>]) {
        self.lists.resize_with(self.dims.len(), Vec::new);
        self.is_list.clear();
        for ((dim, scalar), list) in self.dims.iter().zip(scalars).zip(&mut self.lists) {
            self.is_list.push(dim.read_list(scalar, list));
        }
    }
}

fn outcome(errors: Vec<String>) -> LineOutcome {
    if errors.is_empty() {
        LineOutcome::Clean
    } else {
        LineOutcome::WithErrors(errors)
    }
}

/// A dimension's value for its column; a value that does not convert is null, with Druid's
/// message pushed to `errors`.
fn dim_input<'s>(
    scalar: &'s Scalar<'_>,
    storage: DimStorage,
    errors: &mut Vec<String>,
) -> DimInput<'s> {
    let converted = match storage {
        // Dimensions are never complex; such a spec would be read as strings.
        DimStorage::Fixed(ColumnType::String | ColumnType::Complex(_)) => {
            return scalar.as_str().map_or(DimInput::Null, DimInput::Str)
        }
        DimStorage::Typed => {
            return match scalar {
                Scalar::Number(text) => DimInput::Number(text),
                other => other.as_str().map_or(DimInput::Null, DimInput::Str),
            }
        }
        DimStorage::Fixed(ColumnType::Long) => scalar
            .to_long()
            .map(|long| long.map_or(DimInput::Null, DimInput::Long))
            .map_err(|()| "long"),
        DimStorage::Fixed(ColumnType::Double) => scalar
            .to_double()
            .map(|double| double.map_or(DimInput::Null, DimInput::Double))
            .map_err(|()| "double"),
    };
    converted.unwrap_or_else(|type_name| {
        errors.push(format!(
            "could not convert value [{}] to {type_name}",
            truncate_chars(scalar.display(), MAX_QUOTED_CHARS)
        ));
        DimInput::Null
    })
}

/// A metric's input for one row (`count` counts 1); a value that does not convert is null,
/// with Druid's message pushed to `errors`.
fn metric_input(metric: &MetricPlan, scalar: &Scalar<'_>, errors: &mut Vec<String>) -> MetricInput {
    let Some((_, field)) = &metric.input else {
        return MetricInput::Long(Some(1));
    };
    if let MetricKind::Sketch(..) = metric.kind {
        return MetricInput::Sketch(SketchInput::of(scalar));
    }
    let is_long = metric.kind.column_type() == ColumnType::Long;
    let converted = if is_long {
        scalar.to_long().map(MetricInput::Long)
    } else {
        scalar.to_double().map(MetricInput::Double)
    };
    converted.unwrap_or_else(|()| {
        errors.push(format!(
            "Unable to parse value[{}] for field[{field}]",
            truncate_chars(scalar.display(), MAX_QUOTED_CHARS)
        ));
        if is_long {
            MetricInput::Long(None)
        } else {
            MetricInput::Double(None)
        }
    })
}
