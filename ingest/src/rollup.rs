//! [`RowStore`]: the in-memory index of one time chunk during batch ingestion. Rows are held
//! column by column (strings dictionary-encoded); with rollup, a row whose (truncated time,
//! dimension values) already exists is folded into it by the metric aggregators (Druid's
//! `docs/ingestion/rollup.md`). Columns can be added while rows arrive (schemaless
//! discovery); earlier rows read null there. [`RowStore::build`] hands the rows to a
//! [`SegmentBuilder`], which sorts them.

use std::hash::{BuildHasher, Hash, Hasher};

use hashbrown::{DefaultHashBuilder, HashTable};
use henge_segment::{ColumnSpec, ColumnType, SegmentBuilder, ValueRef};

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
}

/// A metric's input for one row, already converted to the metric's type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum MetricInput {
    Long(Option<i64>),
    Double(Option<f64>),
}

/// The narrowest type that holds every value seen by a typed column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Lattice {
    Nothing,
    Long,
    Double,
    String,
}

/// Distinct strings in insertion order; id 0 is reserved for null.
#[derive(Default)]
struct Dictionary {
    arena: String,
    /// End offset of value `id` is `ends[id - 1]`.
    ends: Vec<usize>,
    table: HashTable<u32>,
    hasher: DefaultHashBuilder,
}

impl Dictionary {
    fn get(&self, id: u32) -> Option<&str> {
        let index = id.checked_sub(1)? as usize;
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        Some(&self.arena[start..self.ends[index]])
    }

    fn intern(&mut self, value: &str) -> u32 {
        let hash = self.hasher.hash_one(value);
        let Dictionary {
            arena,
            ends,
            table,
            hasher,
        } = self;
        let value_of = |id: u32| {
            let index = id as usize - 1;
            let start = if index == 0 { 0 } else { ends[index - 1] };
            &arena[start..ends[index]]
        };
        if let Some(id) = table.find(hash, |&id| value_of(id) == value) {
            return *id;
        }
        arena.push_str(value);
        ends.push(arena.len());
        let id = ends.len() as u32;
        let rehash = |&id: &u32| {
            let index = id as usize - 1;
            let start = if index == 0 { 0 } else { ends[index - 1] };
            hasher.hash_one(&arena[start..ends[index]])
        };
        table.insert_unique(hash, id, rehash);
        id
    }

    fn len(&self) -> usize {
        self.ends.len()
    }
}

enum DimColumn {
    Strings {
        dictionary: Dictionary,
        /// One id per row, 0 for null.
        ids: Vec<u32>,
        /// `Some` for a [`DimStorage::Typed`] column.
        lattice: Option<Lattice>,
    },
    Longs(Vec<Option<i64>>),
    Doubles(Vec<Option<f64>>),
}

/// A dimension's value in the rollup key: a dictionary id, or a number's bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum DimKey {
    Null,
    Id(u32),
    Long(i64),
    Double(u64),
}

struct Dimension {
    name: String,
    /// Explicit dimensions are always written; discovered ones only if a row had a value.
    explicit: bool,
    has_values: bool,
    column: DimColumn,
}

struct Metric {
    name: String,
    kind: MetricKind,
    longs: Vec<Option<i64>>,
    doubles: Vec<Option<f64>>,
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
                .map(|(name, kind)| Metric {
                    name: name.clone(),
                    kind: *kind,
                    longs: Vec::new(),
                    doubles: Vec::new(),
                })
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
        let column = match storage {
            DimStorage::Fixed(ColumnType::Long) => DimColumn::Longs(vec![None; rows]),
            DimStorage::Fixed(ColumnType::Double) => DimColumn::Doubles(vec![None; rows]),
            DimStorage::Fixed(ColumnType::String) | DimStorage::Typed => DimColumn::Strings {
                dictionary: Dictionary::default(),
                ids: vec![0; rows],
                lattice: (storage == DimStorage::Typed).then_some(Lattice::Nothing),
            },
        };
        self.dims.push(Dimension {
            name: name.to_string(),
            explicit,
            has_values: false,
            column,
        });
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
                    && dims.iter().zip(keys).all(|(dim, key)| dim.key_at(row) == *key)
            };
            if let Some(&row) = self.table.find(hash, same_row) {
                for (metric, input) in self.metrics.iter_mut().zip(metrics) {
                    metric.fold(row as usize, *input);
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
            metric.push(*input);
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
    pub(crate) fn build(&self, metadata: serde_json::Value) -> (SegmentBuilder, Vec<String>, Vec<String>) {
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
            specs.push(ColumnSpec::metric(metric.name.clone(), metric.kind.column_type()));
        }
        let dim_columns = sources.len();
        let mut builder = SegmentBuilder::new(specs);
        builder.reserve(self.times.len());
        builder.set_metadata(metadata);
        for (row, &time) in self.times.iter().enumerate() {
            builder.push_row_with(time, |column| {
                if column < dim_columns {
                    let (dim_index, source) = &sources[column];
                    self.dims[*dim_index].value_at(row, source)
                } else {
                    self.metrics[column - dim_columns].value_at(row)
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

/// How a dimension's stored values become segment values.
enum Output {
    Strings,
    Longs,
    Doubles,
    /// A typed string column written as numbers: the parsed value per dictionary id.
    ParsedLongs(Vec<Option<i64>>),
    ParsedDoubles(Vec<Option<f64>>),
}

impl Dimension {
    fn key_of(&mut self, input: DimInput<'_>) -> DimKey {
        let key = match (&mut self.column, input) {
            (_, DimInput::Null) => DimKey::Null,
            (DimColumn::Strings { dictionary, lattice, .. }, DimInput::Str(text)) => {
                raise(lattice, Lattice::String);
                DimKey::Id(dictionary.intern(text))
            }
            (DimColumn::Strings { dictionary, lattice, .. }, DimInput::Number(text)) => {
                let kind = if text.parse::<i64>().is_ok() { Lattice::Long } else { Lattice::Double };
                raise(lattice, kind);
                DimKey::Id(dictionary.intern(text))
            }
            (DimColumn::Strings { dictionary, lattice, .. }, DimInput::Long(long)) => {
                raise(lattice, Lattice::Long);
                DimKey::Id(dictionary.intern(&long.to_string()))
            }
            (DimColumn::Strings { dictionary, lattice, .. }, DimInput::Double(double)) => {
                raise(lattice, Lattice::Double);
                DimKey::Id(dictionary.intern(&format!("{double:?}")))
            }
            (DimColumn::Longs(_), input) => match to_long(input) {
                Some(long) => DimKey::Long(long),
                None => DimKey::Null,
            },
            (DimColumn::Doubles(_), input) => match to_double(input) {
                Some(double) => DimKey::Double(double.to_bits()),
                None => DimKey::Null,
            },
        };
        self.has_values |= key != DimKey::Null;
        key
    }

    fn key_at(&self, row: usize) -> DimKey {
        match &self.column {
            DimColumn::Strings { ids, .. } => match ids[row] {
                0 => DimKey::Null,
                id => DimKey::Id(id),
            },
            DimColumn::Longs(values) => values[row].map_or(DimKey::Null, DimKey::Long),
            DimColumn::Doubles(values) => values[row].map_or(DimKey::Null, |v| DimKey::Double(v.to_bits())),
        }
    }

    fn push(&mut self, key: DimKey) {
        match (&mut self.column, key) {
            (DimColumn::Strings { ids, .. }, DimKey::Id(id)) => ids.push(id),
            (DimColumn::Strings { ids, .. }, _) => ids.push(0),
            (DimColumn::Longs(values), DimKey::Long(long)) => values.push(Some(long)),
            (DimColumn::Longs(values), _) => values.push(None),
            (DimColumn::Doubles(values), DimKey::Double(bits)) => values.push(Some(f64::from_bits(bits))),
            (DimColumn::Doubles(values), _) => values.push(None),
        }
    }

    fn output(&self) -> (ColumnType, Output) {
        match &self.column {
            DimColumn::Longs(_) => (ColumnType::Long, Output::Longs),
            DimColumn::Doubles(_) => (ColumnType::Double, Output::Doubles),
            DimColumn::Strings { dictionary, lattice, .. } => {
                let ids = 1..=dictionary.len() as u32;
                let text = |id| dictionary.get(id).unwrap_or_default();
                match lattice {
                    Some(Lattice::Long) => (
                        ColumnType::Long,
                        Output::ParsedLongs(ids.map(|id| text(id).parse().ok()).collect()),
                    ),
                    Some(Lattice::Double) => (
                        ColumnType::Double,
                        Output::ParsedDoubles(ids.map(|id| text(id).parse().ok()).collect()),
                    ),
                    _ => (ColumnType::String, Output::Strings),
                }
            }
        }
    }

    fn value_at<'s>(&'s self, row: usize, output: &'s Output) -> ValueRef<'s> {
        match (&self.column, output) {
            (DimColumn::Strings { dictionary, ids, .. }, Output::Strings) => {
                dictionary.get(ids[row]).map_or(ValueRef::Null, ValueRef::Str)
            }
            (DimColumn::Strings { ids, .. }, Output::ParsedLongs(parsed)) => match ids[row] {
                0 => ValueRef::Null,
                id => parsed[id as usize - 1].map_or(ValueRef::Null, ValueRef::Long),
            },
            (DimColumn::Strings { ids, .. }, Output::ParsedDoubles(parsed)) => match ids[row] {
                0 => ValueRef::Null,
                id => parsed[id as usize - 1].map_or(ValueRef::Null, ValueRef::Double),
            },
            (DimColumn::Longs(values), _) => values[row].map_or(ValueRef::Null, ValueRef::Long),
            (DimColumn::Doubles(values), _) => values[row].map_or(ValueRef::Null, ValueRef::Double),
            (DimColumn::Strings { .. }, _) => ValueRef::Null,
        }
    }
}

fn raise(lattice: &mut Option<Lattice>, seen: Lattice) {
    if let Some(current) = lattice {
        *current = (*current).max(seen);
    }
}

fn to_long(input: DimInput<'_>) -> Option<i64> {
    match input {
        DimInput::Long(long) => Some(long),
        DimInput::Double(double) => Some(double as i64),
        DimInput::Null | DimInput::Str(_) | DimInput::Number(_) => None,
    }
}

fn to_double(input: DimInput<'_>) -> Option<f64> {
    match input {
        DimInput::Double(double) => Some(double),
        DimInput::Long(long) => Some(long as f64),
        DimInput::Null | DimInput::Str(_) | DimInput::Number(_) => None,
    }
}

impl Metric {
    fn push(&mut self, input: MetricInput) {
        match input {
            MetricInput::Long(value) => self.longs.push(value),
            MetricInput::Double(value) => self.doubles.push(value),
        }
    }

    /// Folds `input` into row `row` with this metric's aggregator; nulls are ignored.
    fn fold(&mut self, row: usize, input: MetricInput) {
        match input {
            MetricInput::Long(Some(value)) => {
                let slot = &mut self.longs[row];
                *slot = Some(match (*slot, self.kind) {
                    (None, _) => value,
                    (Some(old), MetricKind::LongMin) => old.min(value),
                    (Some(old), MetricKind::LongMax) => old.max(value),
                    // count and longSum; Java's long arithmetic wraps.
                    (Some(old), _) => old.wrapping_add(value),
                });
            }
            MetricInput::Double(Some(value)) => {
                let slot = &mut self.doubles[row];
                *slot = Some(match (*slot, self.kind) {
                    (None, _) => value,
                    (Some(old), MetricKind::DoubleMin) => old.min(value),
                    (Some(old), MetricKind::DoubleMax) => old.max(value),
                    (Some(old), _) => old + value,
                });
            }
            MetricInput::Long(None) | MetricInput::Double(None) => {}
        }
    }

    fn value_at(&self, row: usize) -> ValueRef<'static> {
        if self.kind.column_type() == ColumnType::Long {
            self.longs[row].map_or(ValueRef::Null, ValueRef::Long)
        } else {
            self.doubles[row].map_or(ValueRef::Null, ValueRef::Double)
        }
    }
}
