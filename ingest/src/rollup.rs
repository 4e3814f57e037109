//! [`RowStore`]: the in-memory index of one time chunk during batch ingestion. Rows are held
//! column by column (strings dictionary-encoded); with rollup, a row whose (truncated time,
//! dimension values) already exists is folded into it by the metric aggregators (Druid's
//! `docs/ingestion/rollup.md`). Columns can be added while rows arrive (schemaless
//! discovery); earlier rows read null there. Sketch metrics keep one sketch per row, and
//! rollup merges a row's values into it. [`RowStore::build`] hands the rows to a
//! [`SegmentBuilder`], which sorts them. A multi-value row's key is its whole list of values
//! (rows roll up only with the same values in the same order).

mod columns;
mod dictionary;

use std::hash::{BuildHasher, Hash, Hasher};

use hashbrown::{DefaultHashBuilder, HashTable};
use henge_segment::{ColumnSpec, ColumnType, SegmentBuilder, ValueRef};

pub(crate) use self::columns::add_to_sketch;
use self::columns::{DimKey, Dimension, Metric};
use crate::parse::Scalar;
use crate::spec::MetricKind;

/// How a dimension column stores its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DimStorage {
    /// A column of a fixed type.
    Fixed(ColumnType),
    /// A discovered column whose type is decided when the segment is built: LONG if every
    /// value was an integer, DOUBLE if every value was a number, else STRING.
    Typed,
}

/// A dimension value handed to [`RowStore::add_row`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum DimInput<'a> {
    Null,
    Str(&'a str),
    Long(i64),
    Double(f64),
    /// A JSON number as written, for a [`DimStorage::Typed`] or string column.
    Number(&'a str),
    /// The values of a multi-value row, already in `multiValueHandling` order. A string
    /// column keeps the whole list (it is all of the rollup key); a typed column becomes a
    /// string column; a numeric column takes a single element, else null.
    List(&'a [Option<String>]),
}

/// A metric's input for one row, already converted to the metric's type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum MetricInput {
    Long(Option<i64>),
    Double(Option<f64>),
    /// The raw value a sketch metric adds.
    Sketch(SketchInput),
}

/// A value for a sketch: strings are hashed (or parsed, by quantiles), numbers hashed as
/// numbers (or added, by quantiles).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum SketchInput {
    Null,
    Long(i64),
    Double(f64),
    Text(String),
}

impl SketchInput {
    /// A field's value: JSON numbers as numbers (integers as longs), anything else as its
    /// string form.
    pub(crate) fn of(scalar: &Scalar<'_>) -> SketchInput {
        match scalar {
            Scalar::Null => SketchInput::Null,
            Scalar::Number(text) => match text.parse::<i64>() {
                Ok(long) => SketchInput::Long(long),
                Err(_) => text
                    .parse::<f64>()
                    .map_or(SketchInput::Null, SketchInput::Double),
            },
            other => other
                .as_str()
                .map_or(SketchInput::Null, |text| SketchInput::Text(text.to_owned())),
        }
    }
}

/// The rows of one time chunk (see the module docs).
pub(crate) struct RowStore {
    rollup: bool,
    times: Vec<i64>,
    dims: Vec<Dimension>,
    metrics: Vec<Metric>,
    /// Row indexes by hash of (time, dimension keys); used only with rollup.
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
    keys: Vec<DimKey>,
}

impl RowStore {
    pub(crate) fn new(metrics: &[(String, MetricKind)], rollup: bool) -> RowStore {
        RowStore {
            rollup,
            times: Vec::new(),
            dims: Vec::new(),
            metrics: metrics
                .iter()
                .map(|(name, kind)| Metric::new(name, *kind))
                .collect(),
            table: HashTable::new(),
            hasher: DefaultHashBuilder::default(),
            keys: Vec::new(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.times.len()
    }

    pub(crate) fn dim_count(&self) -> usize {
        self.dims.len()
    }

    /// Appends a dimension column; rows already stored are null in it.
    pub(crate) fn add_dimension(&mut self, name: &str, storage: DimStorage, explicit: bool) {
        let rows = self.times.len();
        self.dims
            .push(Dimension::new(name, storage, explicit, rows));
    }

    /// Starts a row; then call [`RowStore::push_dim`] once per dimension, in column order,
    /// and [`RowStore::finish_row`].
    pub(crate) fn start_row(&mut self) {
        self.keys.clear();
    }

    /// The next dimension value of the row being added.
    pub(crate) fn push_dim(&mut self, input: DimInput<'_>) {
        let key = self.dims[self.keys.len()].key_of(input);
        self.keys.push(key);
    }

    /// Adds the row (`metrics` in column order), or with rollup folds it into the stored row
    /// with the same time and dimension values.
    pub(crate) fn finish_row(&mut self, time: i64, metrics: &[MetricInput]) {
        debug_assert_eq!(self.keys.len(), self.dims.len());
        debug_assert_eq!(metrics.len(), self.metrics.len());
        let hash = self.rollup.then(|| {
            let keys = self.keys.iter().copied().enumerate();
            key_hash(&self.hasher, time, keys)
        });
        if let Some(hash) = hash {
            let (times, dims, keys) = (&self.times, &self.dims, &self.keys);
            let same_row = |&row: &u32| {
                let row = row as usize;
                times[row] == time
                    && dims
                        .iter()
                        .zip(keys)
                        .all(|(dim, key)| dim.key_at(row) == *key)
            };
            if let Some(&row) = self.table.find(hash, same_row) {
                for (metric, input) in self.metrics.iter_mut().zip(metrics) {
                    metric.fold(row as usize, input);
                }
                return;
            }
        }
        let row = self.times.len();
        self.times.push(time);
        for (dim, key) in self.dims.iter_mut().zip(&self.keys) {
            dim.push(*key);
        }
        for (metric, input) in self.metrics.iter_mut().zip(metrics) {
            metric.push(input);
        }
        if let Some(hash) = hash {
            let (times, dims, hasher) = (&self.times, &self.dims, &self.hasher);
            let rehash = |&row: &u32| {
                let row = row as usize;
                let keys = dims.iter().map(|dim| dim.key_at(row)).enumerate();
                key_hash(hasher, times[row], keys)
            };
            self.table.insert_unique(hash, row as u32, rehash);
        }
    }

    /// A builder holding every row, with `metadata`, plus the dimension and metric names it
    /// writes.
    pub(crate) fn build(
        &self,
        metadata: serde_json::Value,
    ) -> (SegmentBuilder, Vec<String>, Vec<String>) {
        let mut specs = Vec::new();
        let mut sources = Vec::new();
        let mut dimension_names = Vec::new();
        for (index, dim) in self.dims.iter().enumerate() {
            if !dim.explicit && !dim.has_values {
                continue;
            }
            let (column_type, source) = dim.output();
            specs.push(ColumnSpec::dimension(dim.name.clone(), column_type));
            sources.push((index, source));
            dimension_names.push(dim.name.clone());
        }
        let metric_names: Vec<String> = self.metrics.iter().map(|m| m.name.clone()).collect();
        for metric in &self.metrics {
            specs.push(ColumnSpec::metric(
                metric.name.clone(),
                metric.kind.column_type(),
            ));
        }
        let dim_columns = sources.len();
        // Each sketch metric's rows, serialized once.
        let sketches: Vec<Option<Vec<Vec<u8>>>> =
            self.metrics.iter().map(Metric::sketch_bytes).collect();
        let mut builder = SegmentBuilder::new(specs);
        builder.reserve(self.times.len());
        builder.set_metadata(metadata);
        for (row, &time) in self.times.iter().enumerate() {
            builder.push_row_with(time, |column| {
                if column < dim_columns {
                    let (dim_index, source) = &sources[column];
                    self.dims[*dim_index].value_at(row, source)
                } else {
                    match &sketches[column - dim_columns] {
                        Some(rows) => ValueRef::Bytes(&rows[row]),
                        None => self.metrics[column - dim_columns].value_at(row),
                    }
                }
            });
        }
        (builder, dimension_names, metric_names)
    }
}

/// The rollup hash of a row: its time and its non-null dimension keys with their positions
/// (so a column added later, null in older rows, does not change their hashes).
fn key_hash(
    hasher: &DefaultHashBuilder,
    time: i64,
    keys: impl Iterator<Item = (usize, DimKey)>,
) -> u64 {
    let mut state = hasher.build_hasher();
    time.hash(&mut state);
    for (index, key) in keys {
        if key != DimKey::Null {
            (index, key).hash(&mut state);
        }
    }
    state.finish()
}

#[cfg(test)]
mod tests {
    use henge_segment::reader::ColumnRef;
    use henge_segment::Segment;

    use super::*;

    fn metrics() -> Vec<(String, MetricKind)> {
        [
            ("count", MetricKind::Count),
            ("sum", MetricKind::LongSum),
            ("min", MetricKind::DoubleMin),
            ("max", MetricKind::LongMax),
        ]
        .map(|(name, kind)| (name.to_string(), kind))
        .to_vec()
    }

    fn add(store: &mut RowStore, time: i64, dims: &[DimInput<'_>], value: Option<i64>) {
        store.start_row();
        for dim in dims {
            store.push_dim(*dim);
        }
        let as_double = value.map(|v| v as f64);
        let inputs = [
            MetricInput::Long(Some(1)),
            MetricInput::Long(value),
            MetricInput::Double(as_double),
            MetricInput::Long(value),
        ];
        store.finish_row(time, &inputs);
    }

    fn segment(store: &RowStore) -> Segment {
        let mut bytes = Vec::new();
        store
            .build(serde_json::Value::Null)
            .0
            .write(&mut bytes)
            .unwrap();
        Segment::from_vec(bytes).unwrap()
    }

    fn longs(segment: &Segment, name: &str) -> Vec<Option<i64>> {
        let Some(ColumnRef::Long(column)) = segment.column(name) else {
            panic!("{name} is a long column")
        };
        (0..segment.num_rows())
            .map(|row| (!column.is_null(row)).then(|| column.values()[row]))
            .collect()
    }

    #[test]
    fn rollup_folds_equal_rows_and_ignores_nulls() {
        let mut store = RowStore::new(&metrics(), true);
        store.add_dimension("page", DimStorage::Fixed(ColumnType::String), true);
        store.add_dimension("n", DimStorage::Fixed(ColumnType::Long), true);
        let a = DimInput::Str("a");
        add(&mut store, 10, &[a, DimInput::Long(1)], Some(5));
        add(&mut store, 10, &[a, DimInput::Long(1)], None);
        add(&mut store, 10, &[a, DimInput::Long(1)], Some(-2));
        add(&mut store, 10, &[a, DimInput::Null], Some(7));
        add(&mut store, 11, &[a, DimInput::Long(1)], Some(1));
        assert_eq!(store.len(), 3);
        let segment = segment(&store);
        assert_eq!(segment.times(), [10, 10, 11]);
        // Sorted by (time, page, n) with nulls first.
        assert_eq!(longs(&segment, "n"), [None, Some(1), Some(1)]);
        assert_eq!(longs(&segment, "count"), [Some(1), Some(3), Some(1)]);
        assert_eq!(longs(&segment, "sum"), [Some(7), Some(3), Some(1)]);
        assert_eq!(longs(&segment, "max"), [Some(7), Some(5), Some(1)]);
        let Some(ColumnRef::Double(min)) = segment.column("min") else {
            panic!()
        };
        assert_eq!(min.values(), [7.0, -2.0, 1.0]);
    }

    #[test]
    fn a_dimension_added_later_is_null_in_earlier_rows() {
        let mut store = RowStore::new(&metrics(), true);
        store.add_dimension("a", DimStorage::Fixed(ColumnType::String), false);
        add(&mut store, 0, &[DimInput::Str("x")], Some(1));
        store.add_dimension("b", DimStorage::Typed, false);
        store.add_dimension("never", DimStorage::Typed, false);
        // Same key as the first row: b is null there.
        add(
            &mut store,
            0,
            &[DimInput::Str("x"), DimInput::Null, DimInput::Null],
            Some(2),
        );
        add(
            &mut store,
            0,
            &[DimInput::Str("x"), DimInput::Number("2.5"), DimInput::Null],
            Some(4),
        );
        add(
            &mut store,
            0,
            &[DimInput::Null, DimInput::Number("3"), DimInput::Null],
            Some(8),
        );
        assert_eq!(store.len(), 3);
        let segment = segment(&store);
        let names: Vec<(&str, ColumnType)> = segment
            .schema()
            .iter()
            .map(|column| (column.name.as_str(), column.column_type))
            .collect();
        assert_eq!(
            names[..2],
            [("a", ColumnType::String), ("b", ColumnType::Double)]
        );
        assert_eq!(names.len(), 6, "never had a value, so it is not written");
        assert_eq!(longs(&segment, "sum"), [Some(8), Some(3), Some(4)]);
    }

    #[test]
    fn without_rollup_every_row_is_kept() {
        let mut store = RowStore::new(&metrics(), false);
        store.add_dimension("a", DimStorage::Fixed(ColumnType::String), true);
        for _ in 0..3 {
            add(&mut store, 0, &[DimInput::Str("x")], Some(1));
        }
        assert_eq!(store.len(), 3);
        assert_eq!(longs(&segment(&store), "count"), [Some(1); 3]);
    }
}
