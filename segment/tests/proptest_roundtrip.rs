//! Property tests: random schemas and rows survive write -> open in (time, dims) order;
//! bitmaps, lookups and bulk id decoding agree with naive scans; any corrupted byte makes
//! `Segment::open` fail. Complex (sketch blob) metric columns are covered with random bytes.

use std::cmp::Ordering;

use henge_segment::{
    merge_segments, ColumnRef, ColumnRole, ColumnSpec, ColumnType, ComplexKind, Segment,
    SegmentBuilder, Value,
};
use proptest::prelude::*;

fn column_spec() -> impl Strategy<Value = (ColumnType, ColumnRole)> {
    let scalar = (
        prop_oneof![
            Just(ColumnType::String),
            Just(ColumnType::Long),
            Just(ColumnType::Double)
        ],
        prop_oneof![Just(ColumnRole::Dimension), Just(ColumnRole::Metric)],
    );
    // Sketch columns are metrics.
    let complex = prop::sample::select(ComplexKind::ALL.to_vec())
        .prop_map(|kind| (ColumnType::Complex(kind), ColumnRole::Metric));
    prop_oneof![4 => scalar, 1 => complex]
}

fn value(column_type: ColumnType) -> BoxedStrategy<Value> {
    let non_null = match column_type {
        ColumnType::String => prop_oneof![
            Just(String::new()),
            "[a-c]{1,2}",
            Just("é".to_string()),
            Just("日本".to_string()),
        ]
        .prop_map(Value::String)
        .boxed(),
        ColumnType::Long => prop_oneof![-3i64..3, any::<i64>()]
            .prop_map(Value::Long)
            .boxed(),
        ColumnType::Double => prop_oneof![
            (-2i32..2).prop_map(f64::from),
            Just(-0.0),
            any::<f64>().prop_filter("no nan", |double| !double.is_nan()),
        ]
        .prop_map(Value::Double)
        .boxed(),
        // An empty blob reads back as null, so generated blobs are non-empty.
        ColumnType::Complex(_) => prop::collection::vec(any::<u8>(), 1..24)
            .prop_map(Value::Bytes)
            .boxed(),
    };
    prop_oneof![1 => Just(Value::Null), 4 => non_null].boxed()
}

type Row = (i64, Vec<Value>);

fn schema_and_rows() -> impl Strategy<Value = (Vec<ColumnSpec>, Vec<Row>)> {
    prop::collection::vec(column_spec(), 0..5).prop_flat_map(|specs| {
        let columns: Vec<ColumnSpec> = specs
            .iter()
            .enumerate()
            .map(|(index, (column_type, role))| {
                ColumnSpec::new(format!("c{index}"), *column_type, *role)
            })
            .collect();
        let row_values: Vec<BoxedStrategy<Value>> = specs
            .iter()
            .map(|(column_type, _)| value(*column_type))
            .collect();
        let row = (prop_oneof![0i64..4, any::<i64>()], row_values);
        (Just(columns), prop::collection::vec(row, 0..80))
    })
}

fn compare_values(left: &Value, right: &Value) -> Ordering {
    match (left, right) {
        (Value::Null, Value::Null) => Ordering::Equal,
        (Value::Null, _) => Ordering::Less,
        (_, Value::Null) => Ordering::Greater,
        (Value::String(left), Value::String(right)) => left.cmp(right),
        (Value::Long(left), Value::Long(right)) => left.cmp(right),
        (Value::Double(left), Value::Double(right)) => left.total_cmp(right),
        (Value::Bytes(left), Value::Bytes(right)) => left.cmp(right),
        _ => unreachable!("one column holds one type"),
    }
}

/// The rows in segment order: a stable sort by (time, dimensions).
fn model_sort(columns: &[ColumnSpec], rows: &[Row]) -> Vec<Row> {
    let mut sorted = rows.to_vec();
    sorted.sort_by(|(left_time, left), (right_time, right)| {
        left_time.cmp(right_time).then_with(|| {
            columns
                .iter()
                .enumerate()
                .filter(|(_, spec)| spec.role == ColumnRole::Dimension)
                .map(|(index, _)| compare_values(&left[index], &right[index]))
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal)
        })
    });
    sorted
}

fn read_value(column: &ColumnRef<'_>, row: usize) -> Value {
    match column {
        ColumnRef::String(strings) => strings
            .value(strings.row_id(row))
            .map_or(Value::Null, |text| Value::String(text.to_string())),
        ColumnRef::Long(longs) if longs.is_null(row) => Value::Null,
        ColumnRef::Long(longs) => Value::Long(longs.values()[row]),
        ColumnRef::Double(doubles) if doubles.is_null(row) => Value::Null,
        ColumnRef::Double(doubles) => Value::Double(doubles.values()[row]),
        ColumnRef::Complex(blobs) => blobs
            .get(row)
            .map_or(Value::Null, |bytes| Value::Bytes(bytes.to_vec())),
    }
}

fn same(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Double(left), Value::Double(right)) => left.to_bits() == right.to_bits(),
        _ => left == right,
    }
}

/// Every row of a segment, sorted by time then every column (a canonical order for
/// comparing segments whose tie order may differ).
fn all_rows(segment: &Segment) -> Vec<Row> {
    let columns: Vec<ColumnRef<'_>> = (0..segment.schema().len())
        .map(|index| segment.column_at(index).unwrap())
        .collect();
    let mut rows: Vec<Row> = segment
        .times()
        .iter()
        .enumerate()
        .map(|(row, &timestamp)| {
            (
                timestamp,
                columns
                    .iter()
                    .map(|column| read_value(column, row))
                    .collect(),
            )
        })
        .collect();
    rows.sort_by(|(left_time, left), (right_time, right)| {
        left_time.cmp(right_time).then_with(|| {
            left.iter()
                .zip(right)
                .map(|(l, r)| compare_values(l, r))
                .find(|ordering| ordering.is_ne())
                .unwrap_or(Ordering::Equal)
        })
    });
    rows
}

fn build(columns: &[ColumnSpec], rows: &[Row]) -> Vec<u8> {
    let mut builder = SegmentBuilder::new(columns.to_vec());
    for (timestamp, values) in rows {
        builder.push_row(*timestamp, values);
    }
    let mut bytes = Vec::new();
    builder.write(&mut bytes).unwrap();
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn rows_round_trip_in_sorted_order((columns, rows) in schema_and_rows()) {
        let segment = Segment::from_vec(build(&columns, &rows)).unwrap();
        let expected = model_sort(&columns, &rows);
        prop_assert_eq!(segment.num_rows(), rows.len());
        prop_assert_eq!(segment.schema(), &columns[..]);
        let times: Vec<i64> = expected.iter().map(|(timestamp, _)| *timestamp).collect();
        prop_assert_eq!(segment.times(), &times[..]);
        for (index, spec) in columns.iter().enumerate() {
            let column = segment.column(&spec.name).unwrap();
            for (row, (_, values)) in expected.iter().enumerate() {
                let actual = read_value(&column, row);
                prop_assert!(same(&actual, &values[index]), "{} row {}: {:?} != {:?}", spec.name, row, actual, values[index]);
            }
        }
    }

    #[test]
    fn string_indexes_match_naive_scans((columns, rows) in schema_and_rows()) {
        let segment = Segment::from_vec(build(&columns, &rows)).unwrap();
        for spec in &columns {
            let Some(ColumnRef::String(strings)) = segment.column(&spec.name) else { continue };
            let ids: Vec<u32> = (0..segment.num_rows()).map(|row| strings.row_id(row)).collect();
            let mut decoded = vec![0u32; ids.len()];
            strings.decode_ids(0, &mut decoded);
            prop_assert_eq!(&decoded, &ids);
            if ids.len() > 3 {
                let mut tail = vec![0u32; ids.len() - 3];
                strings.decode_ids(3, &mut tail);
                prop_assert_eq!(&tail[..], &ids[3..]);
            }
            let has_null_rows = ids.iter().any(|&id| strings.value(id).is_none());
            prop_assert_eq!(strings.has_nulls(), has_null_rows);
            let mut previous: Option<&str> = None;
            for id in 0..strings.cardinality() as u32 {
                let value = strings.value(id);
                prop_assert_eq!(value.is_none(), strings.has_nulls() && id == 0);
                if let Some(text) = value {
                    prop_assert!(previous.is_none_or(|before| before < text), "dictionary not sorted");
                    previous = Some(text);
                }
                prop_assert_eq!(strings.lookup(value), Some(id));
                let naive: Vec<u32> = (0..ids.len() as u32).filter(|&row| ids[row as usize] == id).collect();
                prop_assert!(!naive.is_empty(), "every dictionary entry is used");
                prop_assert_eq!(strings.bitmap(id).iter().collect::<Vec<_>>(), naive);
            }
        }
    }

    #[test]
    fn merging_split_segments_keeps_every_row(
        (columns, rows) in schema_and_rows(),
        cut in any::<prop::sample::Index>(),
    ) {
        let cut = if rows.is_empty() { 0 } else { cut.index(rows.len() + 1) };
        let parts = [
            Segment::from_vec(build(&columns, &rows[..cut])).unwrap(),
            Segment::from_vec(build(&columns, &rows[cut..])).unwrap(),
        ];
        let mut bytes = Vec::new();
        merge_segments(&parts).write(&mut bytes).unwrap();
        let merged = Segment::from_vec(bytes).unwrap();
        let whole = Segment::from_vec(build(&columns, &rows)).unwrap();
        prop_assert_eq!(merged.schema(), whole.schema());
        let (merged_rows, whole_rows) = (all_rows(&merged), all_rows(&whole));
        prop_assert_eq!(merged_rows.len(), whole_rows.len());
        for (left, right) in merged_rows.iter().zip(&whole_rows) {
            prop_assert_eq!(left.0, right.0);
            prop_assert!(left.1.iter().zip(&right.1).all(|(l, r)| same(l, r)), "{:?} != {:?}", left, right);
        }
    }

    #[test]
    fn any_corrupted_byte_fails_open(
        (columns, rows) in schema_and_rows(),
        position in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut bytes = build(&columns, &rows);
        let index = position.index(bytes.len());
        bytes[index] ^= flip;
        prop_assert!(Segment::from_vec(bytes).is_err(), "corrupting byte {} went unnoticed", index);
    }
}

#[test]
fn writes_are_deterministic() {
    let columns = vec![
        ColumnSpec::dimension("s", ColumnType::String),
        ColumnSpec::metric("d", ColumnType::Double),
    ];
    let rows: Vec<Row> = (0..500)
        .map(|index| {
            let text = format!("v{}", index * 7 % 13);
            (
                index % 5,
                vec![Value::String(text), Value::Double(index as f64)],
            )
        })
        .collect();
    assert_eq!(build(&columns, &rows), build(&columns, &rows));
}

/// A multi-value row as it reads back: a plain value or null is a one-element list.
fn as_list(value: &Value) -> Vec<Option<String>> {
    match value {
        Value::Null => vec![None],
        Value::String(text) => vec![Some(text.clone())],
        Value::Strings(values) => values.clone(),
        other => panic!("not a string value: {other:?}"),
    }
}

fn multi_value() -> impl Strategy<Value = Value> {
    let element = prop_oneof![1 => Just(None), 4 => "[a-d]".prop_map(Some)];
    prop_oneof![
        1 => Just(Value::Null),
        1 => "[a-d]".prop_map(Value::String),
        4 => prop::collection::vec(element, 0..4).prop_map(Value::Strings),
    ]
}

/// `(time, tags, push index)` rows of a segment with a multi-value `tags` dimension.
fn multi_value_rows() -> impl Strategy<Value = Vec<(i64, Value)>> {
    prop::collection::vec((0i64..3, multi_value()), 0..60)
}

fn read_list(strings: &henge_segment::StringColumn<'_>, row: usize) -> Vec<Option<String>> {
    strings
        .row_ids(row)
        .map(|id| strings.value(id).map(str::to_owned))
        .collect()
}

fn multi_value_segment(rows: &[(i64, Value)]) -> Vec<u8> {
    let columns = [
        ColumnSpec::dimension("tags", ColumnType::String),
        ColumnSpec::metric("n", ColumnType::Long),
    ];
    let rows: Vec<Row> = rows
        .iter()
        .enumerate()
        .map(|(index, (time, tags))| (*time, vec![tags.clone(), Value::Long(index as i64)]))
        .collect();
    build(&columns, &rows)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn multi_value_rows_round_trip(rows in multi_value_rows()) {
        let segment = Segment::from_vec(multi_value_segment(&rows)).unwrap();
        let mut expected: Vec<(i64, Vec<Option<String>>, i64)> = rows
            .iter()
            .enumerate()
            .map(|(index, (time, tags))| (*time, as_list(tags), index as i64))
            .collect();
        // Stable sort by (time, list): null first, then by value, element by element.
        expected.sort_by(|left, right| (left.0, &left.1).cmp(&(right.0, &right.1)));
        let Some(ColumnRef::String(tags)) = segment.column("tags") else { panic!("tags") };
        let Some(ColumnRef::Long(n)) = segment.column("n") else { panic!("n") };
        let multi = rows.iter().any(|(_, tags)| as_list(tags).len() != 1);
        prop_assert_eq!(tags.is_multi_value(), multi);
        for (row, (time, list, index)) in expected.iter().enumerate() {
            prop_assert_eq!(segment.times()[row], *time);
            prop_assert_eq!(&read_list(&tags, row), list);
            prop_assert_eq!(n.values()[row], *index);
        }
        let has_nulls = expected.iter().any(|(_, list, _)| list.is_empty() || list.contains(&None));
        prop_assert_eq!(tags.has_nulls(), has_nulls);
        for id in 0..tags.cardinality() as u32 {
            let value = tags.value(id).map(str::to_owned);
            let naive: Vec<u32> = expected
                .iter()
                .enumerate()
                .filter(|(_, (_, list, _))| list.contains(&value) || (value.is_none() && list.is_empty()))
                .map(|(row, _)| row as u32)
                .collect();
            prop_assert!(!naive.is_empty(), "every dictionary entry is used");
            prop_assert_eq!(tags.bitmap(id).iter().collect::<Vec<_>>(), naive);
        }
    }

    #[test]
    fn merging_keeps_multi_value_rows(
        rows in multi_value_rows(),
        cut in any::<prop::sample::Index>(),
    ) {
        let cut = if rows.is_empty() { 0 } else { cut.index(rows.len() + 1) };
        let parts = [
            Segment::from_vec(multi_value_segment(&rows[..cut])).unwrap(),
            Segment::from_vec(multi_value_segment(&rows[cut..])).unwrap(),
        ];
        let mut bytes = Vec::new();
        merge_segments(&parts).write(&mut bytes).unwrap();
        let merged = Segment::from_vec(bytes).unwrap();
        let Some(ColumnRef::String(tags)) = merged.column("tags") else { panic!("tags") };
        let mut actual: Vec<(i64, Vec<Option<String>>)> = (0..merged.num_rows())
            .map(|row| (merged.times()[row], read_list(&tags, row)))
            .collect();
        let mut expected: Vec<(i64, Vec<Option<String>>)> =
            rows.iter().map(|(time, tags)| (*time, as_list(tags))).collect();
        actual.sort();
        expected.sort();
        prop_assert_eq!(actual, expected);
    }

    #[test]
    fn corrupted_multi_value_segments_fail_open(
        rows in multi_value_rows(),
        position in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut bytes = multi_value_segment(&rows);
        let index = position.index(bytes.len());
        bytes[index] ^= flip;
        prop_assert!(Segment::from_vec(bytes).is_err(), "corrupting byte {} went unnoticed", index);
    }
}
