//! [`RowLayout`]: how the input fields of a batch task map to the timestamp, dimension and
//! metric columns, and the per-row conversions with Druid's parse-exception messages.
//!
//! Schemaless mode (no `dimensions`, or `includeAllDimensions` / `useSchemaDiscovery`): every
//! top-level field that is not the timestamp column, a metric's input or name, or listed in
//! `dimensionExclusions` becomes a dimension, in first-seen order. Classic discovery makes
//! them strings (numbers keep their JSON text, booleans become "true"/"false");
//! `useSchemaDiscovery` types each column per segment: LONG when every value is an integer,
//! DOUBLE when every value is a number, STRING otherwise. Arrays and objects are stored as
//! their JSON text (multi-value and nested columns are not supported yet).

use serde_json::value::RawValue;

use crate::parse::{FieldIndex, Scalar};
use crate::rollup::{DimInput, DimStorage, MetricInput, RowStore};
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
                DimStorage::Fixed(henge_segment::ColumnType::String)
            },
            metric_inputs: Vec::new(),
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
        store.start_row();
        for dim in &self.dims {
            let scalar = Scalar::of(slots[dim.slot]);
            let input = match dim.storage {
                DimStorage::Fixed(henge_segment::ColumnType::String) => {
                    scalar.as_str().map_or(DimInput::Null, DimInput::Str)
                }
                DimStorage::Typed => match &scalar {
                    Scalar::Number(text) => DimInput::Number(text),
                    other => other.as_str().map_or(DimInput::Null, DimInput::Str),
                },
                DimStorage::Fixed(henge_segment::ColumnType::Long) => match scalar.to_long() {
                    Ok(long) => long.map_or(DimInput::Null, DimInput::Long),
                    Err(()) => {
                        errors.push(conversion_error(&scalar, "long"));
                        DimInput::Null
                    }
                },
                DimStorage::Fixed(henge_segment::ColumnType::Double) => {
                    match scalar.to_double() {
                        Ok(double) => double.map_or(DimInput::Null, DimInput::Double),
                        Err(()) => {
                            errors.push(conversion_error(&scalar, "double"));
                            DimInput::Null
                        }
                    }
                }
            };
            store.push_dim(input);
        }
        self.metric_inputs.clear();
        for metric in &self.metrics {
            let Some((slot, field)) = &metric.input else {
                self.metric_inputs.push(MetricInput::Long(Some(1)));
                continue;
            };
            let scalar = Scalar::of(slots[*slot]);
            let input = if metric.kind.column_type() == henge_segment::ColumnType::Long {
                scalar.to_long().map(MetricInput::Long)
            } else {
                scalar.to_double().map(MetricInput::Double)
            };
            self.metric_inputs.push(input.unwrap_or_else(|()| {
                errors.push(format!(
                    "Unable to parse value[{}] for field[{field}]",
                    truncate_chars(scalar.display(), MAX_QUOTED_CHARS)
                ));
                if metric.kind.column_type() == henge_segment::ColumnType::Long {
                    MetricInput::Long(None)
                } else {
                    MetricInput::Double(None)
                }
            }));
        }
        store.finish_row(time, &self.metric_inputs);
        if errors.is_empty() {
            LineOutcome::Clean
        } else {
            LineOutcome::WithErrors(errors)
        }
    }
}

/// Druid's message when a dimension value cannot be converted to the column's type.
fn conversion_error(scalar: &Scalar<'_>, type_name: &str) -> String {
    format!(
        "could not convert value [{}] to {type_name}",
        truncate_chars(scalar.display(), MAX_QUOTED_CHARS)
    )
}
