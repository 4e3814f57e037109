//! The columns of a [`super::RowStore`]: dimensions (dictionary-encoded strings, longs,
//! doubles, or typed-discovery strings with their [`Lattice`]) with their rollup keys, and
//! metrics with their aggregators. A string column interns each distinct multi-value row
//! once ([`Lists`]); the row's key is that list's id, so rollup compares whole lists.

use hashbrown::HashMap;
use henge_segment::sketch::SketchAccumulator;
use henge_segment::{ColumnType, StringList, ValueRef};

use super::dictionary::Dictionary;
use super::{DimInput, DimStorage, MetricInput, SketchInput};
use crate::spec::MetricKind;

/// The narrowest type that holds every value seen by a typed column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Lattice {
    Nothing,
    Long,
    Double,
    String,
}

/// Marks a row id of a string column as an index into its [`Lists`] (a multi-value row).
const LIST_BIT: u32 = 1 << 31;

/// The distinct multi-value rows of a string column, each interned once by its ids.
#[derive(Default)]
struct Lists {
    index: HashMap<Box<[u32]>, u32>,
    values: Vec<Vec<Option<String>>>,
    /// Reused for the ids of the row being keyed.
    scratch: Vec<u32>,
}

impl Lists {
    /// The row id of a list: [`LIST_BIT`] plus its index.
    fn intern(&mut self, dictionary: &mut Dictionary, values: &[Option<String>]) -> u32 {
        self.scratch.clear();
        self.scratch.extend(
            values
                .iter()
                .map(|value| value.as_deref().map_or(0, |text| dictionary.intern(text))),
        );
        if let Some(&index) = self.index.get(self.scratch.as_slice()) {
            return LIST_BIT | index;
        }
        let index = self.values.len() as u32;
        assert!(index < LIST_BIT, "too many distinct multi-value rows");
        self.index.insert(self.scratch.as_slice().into(), index);
        self.values.push(values.to_vec());
        LIST_BIT | index
    }
}

enum DimColumn {
    Strings {
        dictionary: Dictionary,
        /// One id per row: 0 for null, a dictionary id, or [`LIST_BIT`] plus a list index.
        ids: Vec<u32>,
        lists: Lists,
        /// `Some` for a [`DimStorage::Typed`] column.
        lattice: Option<Lattice>,
    },
    Longs(Vec<Option<i64>>),
    Doubles(Vec<Option<f64>>),
}

/// A dimension's value in the rollup key: a dictionary id, or a number's bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum DimKey {
    Null,
    Id(u32),
    Long(i64),
    Double(u64),
}

pub(super) struct Dimension {
    pub(super) name: String,
    /// Explicit dimensions are always written; discovered ones only if a row had a value.
    pub(super) explicit: bool,
    pub(super) has_values: bool,
    column: DimColumn,
}

pub(super) struct Metric {
    pub(super) name: String,
    pub(super) kind: MetricKind,
    longs: Vec<Option<i64>>,
    doubles: Vec<Option<f64>>,
    /// One sketch per row, for a sketch metric.
    sketches: Vec<SketchAccumulator>,
}

/// How a dimension's stored values become segment values.
pub(super) enum Output {
    Strings,
    Longs,
    Doubles,
    /// A typed string column written as numbers: the parsed value per dictionary id.
    ParsedLongs(Vec<Option<i64>>),
    ParsedDoubles(Vec<Option<f64>>),
}

impl Dimension {
    /// A column for `rows` rows already stored, all null.
    pub(super) fn new(name: &str, storage: DimStorage, explicit: bool, rows: usize) -> Dimension {
        let column = match storage {
            DimStorage::Fixed(ColumnType::Long) => DimColumn::Longs(vec![None; rows]),
            DimStorage::Fixed(ColumnType::Double) => DimColumn::Doubles(vec![None; rows]),
            // Dimensions are never complex; such a spec would be stored as strings.
            DimStorage::Fixed(ColumnType::String | ColumnType::Complex(_)) | DimStorage::Typed => {
                DimColumn::Strings {
                    dictionary: Dictionary::default(),
                    ids: vec![0; rows],
                    lists: Lists::default(),
                    lattice: (storage == DimStorage::Typed).then_some(Lattice::Nothing),
                }
            }
        };
        Dimension {
            name: name.to_string(),
            explicit,
            has_values: false,
            column,
        }
    }

    pub(super) fn key_of(&mut self, input: DimInput<'_>) -> DimKey {
        // A one-value list is that value (`["a"]` rolls up with `"a"`).
        if let DimInput::List([single]) = input {
            return self.key_of(single.as_deref().map_or(DimInput::Null, DimInput::Str));
        }
        let key = match (&mut self.column, input) {
            (_, DimInput::Null) => DimKey::Null,
            (
                DimColumn::Strings {
                    dictionary,
                    lattice,
                    lists,
                    ..
                },
                DimInput::List(values),
            ) => {
                raise(lattice, Lattice::String);
                DimKey::Id(lists.intern(dictionary, values))
            }
            (
                DimColumn::Strings {
                    dictionary,
                    lattice,
                    ..
                },
                DimInput::Str(text),
            ) => {
                raise(lattice, Lattice::String);
                DimKey::Id(dictionary.intern(text))
            }
            (
                DimColumn::Strings {
                    dictionary,
                    lattice,
                    ..
                },
                DimInput::Number(text),
            ) => {
                let kind = if text.parse::<i64>().is_ok() {
                    Lattice::Long
                } else {
                    Lattice::Double
                };
                raise(lattice, kind);
                DimKey::Id(dictionary.intern(text))
            }
            (
                DimColumn::Strings {
                    dictionary,
                    lattice,
                    ..
                },
                DimInput::Long(long),
            ) => {
                raise(lattice, Lattice::Long);
                DimKey::Id(dictionary.intern(&long.to_string()))
            }
            (
                DimColumn::Strings {
                    dictionary,
                    lattice,
                    ..
                },
                DimInput::Double(double),
            ) => {
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

    pub(super) fn key_at(&self, row: usize) -> DimKey {
        match &self.column {
            DimColumn::Strings { ids, .. } => match ids[row] {
                0 => DimKey::Null,
                id => DimKey::Id(id),
            },
            DimColumn::Longs(values) => values[row].map_or(DimKey::Null, DimKey::Long),
            DimColumn::Doubles(values) => {
                values[row].map_or(DimKey::Null, |v| DimKey::Double(v.to_bits()))
            }
        }
    }

    pub(super) fn push(&mut self, key: DimKey) {
        match (&mut self.column, key) {
            (DimColumn::Strings { ids, .. }, DimKey::Id(id)) => ids.push(id),
            (DimColumn::Strings { ids, .. }, _) => ids.push(0),
            (DimColumn::Longs(values), DimKey::Long(long)) => values.push(Some(long)),
            (DimColumn::Longs(values), _) => values.push(None),
            (DimColumn::Doubles(values), DimKey::Double(bits)) => {
                values.push(Some(f64::from_bits(bits)))
            }
            (DimColumn::Doubles(values), _) => values.push(None),
        }
    }

    pub(super) fn output(&self) -> (ColumnType, Output) {
        match &self.column {
            DimColumn::Longs(_) => (ColumnType::Long, Output::Longs),
            DimColumn::Doubles(_) => (ColumnType::Double, Output::Doubles),
            DimColumn::Strings {
                dictionary,
                lattice,
                ..
            } => {
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

    pub(super) fn value_at<'s>(&'s self, row: usize, output: &'s Output) -> ValueRef<'s> {
        match (&self.column, output) {
            (DimColumn::Strings { ids, lists, .. }, Output::Strings)
                if ids[row] & LIST_BIT != 0 =>
            {
                let values = &lists.values[(ids[row] & !LIST_BIT) as usize];
                ValueRef::Strings(StringList::Owned(values))
            }
            (
                DimColumn::Strings {
                    dictionary, ids, ..
                },
                Output::Strings,
            ) => dictionary
                .get(ids[row])
                .map_or(ValueRef::Null, ValueRef::Str),
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
        DimInput::List(values) => ValueRef::Strings(StringList::Owned(values)).coerce_long(),
        DimInput::Null | DimInput::Str(_) | DimInput::Number(_) => None,
    }
}

fn to_double(input: DimInput<'_>) -> Option<f64> {
    match input {
        DimInput::Double(double) => Some(double),
        DimInput::Long(long) => Some(long as f64),
        DimInput::List(values) => ValueRef::Strings(StringList::Owned(values)).coerce_double(),
        DimInput::Null | DimInput::Str(_) | DimInput::Number(_) => None,
    }
}

impl Metric {
    pub(super) fn new(name: &str, kind: MetricKind) -> Metric {
        Metric {
            name: name.to_string(),
            kind,
            longs: Vec::new(),
            doubles: Vec::new(),
            sketches: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, input: &MetricInput) {
        match input {
            MetricInput::Long(value) => self.longs.push(*value),
            MetricInput::Double(value) => self.doubles.push(*value),
            MetricInput::Sketch(value) => {
                let MetricKind::Sketch(_, spec) = self.kind else {
                    return;
                };
                // The spec was validated when the task was parsed.
                let mut sketch = SketchAccumulator::new(spec).expect("validated sketch spec");
                add_to_sketch(&mut sketch, value);
                self.sketches.push(sketch);
            }
        }
    }

    /// Every row's sketch serialized, for a sketch metric; `None` for other metrics.
    pub(super) fn sketch_bytes(&self) -> Option<Vec<Vec<u8>>> {
        matches!(self.kind, MetricKind::Sketch(..)).then(|| {
            self.sketches
                .iter()
                .map(|sketch| sketch.finish().to_bytes())
                .collect()
        })
    }

    /// Folds `input` into row `row` with this metric's aggregator; nulls are ignored.
    pub(super) fn fold(&mut self, row: usize, input: &MetricInput) {
        let input = match input {
            MetricInput::Sketch(value) => {
                if let Some(sketch) = self.sketches.get_mut(row) {
                    add_to_sketch(sketch, value);
                }
                return;
            }
            other => other.clone(),
        };
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
            MetricInput::Long(None) | MetricInput::Double(None) | MetricInput::Sketch(_) => {}
        }
    }

    /// The value of a numeric metric (sketches are read with [`Metric::sketch_bytes`]).
    pub(super) fn value_at(&self, row: usize) -> ValueRef<'static> {
        match self.kind.column_type() {
            ColumnType::Long => self.longs[row].map_or(ValueRef::Null, ValueRef::Long),
            ColumnType::Double => self.doubles[row].map_or(ValueRef::Null, ValueRef::Double),
            ColumnType::String | ColumnType::Complex(_) => ValueRef::Null,
        }
    }
}

/// Adds one input value to a sketch (nulls are skipped).
pub(crate) fn add_to_sketch(sketch: &mut SketchAccumulator, value: &SketchInput) {
    match value {
        SketchInput::Null => {}
        SketchInput::Long(long) => sketch.update_long(*long),
        SketchInput::Double(double) => sketch.update_double(*double),
        SketchInput::Text(text) => sketch.update_str(text),
    }
}
