//! Merging segments into one [`SegmentBuilder`], e.g. the in-memory hydrants of a realtime
//! task at handoff: the union of the schemas with type promotion, and every row re-pushed.

use crate::builder::SegmentBuilder;
use crate::reader::{ColumnRef, Segment};
use crate::schema::{ColumnSpec, ColumnType, StringList, ValueRef};

/// Merges segments into a builder holding all of their rows.
///
/// Schema: the union of the inputs' columns by name, in first-seen order, with the role
/// first seen; a column missing from an input is null there. Conflicting types are promoted:
/// LONG + DOUBLE gives DOUBLE, anything + STRING gives STRING (values are then coerced as
/// described on [`crate::Value`]); a complex type wins over a scalar one (the first seen over
/// another complex type), and rows whose column has another type are null there. Complex rows
/// (sketches) are copied byte for byte: rows are not rolled up again. Metadata: that of the
/// first input with non-empty metadata.
pub fn merge_segments(segments: &[Segment]) -> SegmentBuilder {
    let mut columns: Vec<ColumnSpec> = Vec::new();
    for segment in segments {
        for spec in segment.schema() {
            match columns.iter_mut().find(|column| column.name == spec.name) {
                Some(column) => column.column_type = promote(column.column_type, spec.column_type),
                None => columns.push(spec.clone()),
            }
        }
    }
    let num_rows: usize = segments.iter().map(Segment::num_rows).sum();
    let mut builder = SegmentBuilder::new(columns.clone());
    builder.reserve(num_rows);
    if let Some(metadata) = segments
        .iter()
        .map(Segment::metadata)
        .find(|metadata| !is_empty_json(metadata))
    {
        builder.set_metadata(metadata.clone());
    }
    for segment in segments {
        let sources: Vec<Option<ColumnRef<'_>>> = columns
            .iter()
            .map(|column| segment.column(&column.name))
            .collect();
        // Multi-value string columns: one reused list per column.
        let mut lists: Vec<Vec<Option<&str>>> = vec![Vec::new(); columns.len()];
        for (row, &timestamp) in segment.times().iter().enumerate() {
            for (list, source) in lists.iter_mut().zip(&sources) {
                if let Some(ColumnRef::String(strings)) = source {
                    if strings.is_multi_value() {
                        list.clear();
                        list.extend(strings.row_ids(row).map(|id| strings.value(id)));
                    }
                }
            }
            builder.push_row_with(timestamp, |index| match &sources[index] {
                None => ValueRef::Null,
                Some(ColumnRef::String(strings)) if strings.is_multi_value() => {
                    ValueRef::Strings(StringList::Borrowed(&lists[index]))
                }
                Some(ColumnRef::String(strings)) => strings
                    .value(strings.row_id(row))
                    .map_or(ValueRef::Null, ValueRef::Str),
                Some(ColumnRef::Long(longs)) if longs.is_null(row) => ValueRef::Null,
                Some(ColumnRef::Long(longs)) => ValueRef::Long(longs.values()[row]),
                Some(ColumnRef::Double(doubles)) if doubles.is_null(row) => ValueRef::Null,
                Some(ColumnRef::Double(doubles)) => ValueRef::Double(doubles.values()[row]),
                Some(ColumnRef::Complex(blobs)) => {
                    blobs.get(row).map_or(ValueRef::Null, ValueRef::Bytes)
                }
            });
        }
    }
    builder
}

fn promote(left: ColumnType, right: ColumnType) -> ColumnType {
    match (left, right) {
        (ColumnType::Complex(_), _) => left,
        (_, ColumnType::Complex(_)) => right,
        (ColumnType::String, _) | (_, ColumnType::String) => ColumnType::String,
        (ColumnType::Double, _) | (_, ColumnType::Double) => ColumnType::Double,
        (ColumnType::Long, ColumnType::Long) => ColumnType::Long,
    }
}

fn is_empty_json(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::Object(object) => object.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::schema::Value;

    fn segment(columns: Vec<ColumnSpec>, rows: &[(i64, Vec<Value>)]) -> Segment {
        let mut builder = SegmentBuilder::new(columns);
        for (timestamp, values) in rows {
            builder.push_row(*timestamp, values);
        }
        let mut bytes = Vec::new();
        builder.write(&mut bytes).unwrap();
        Segment::from_vec(bytes).unwrap()
    }

    #[test]
    fn unions_schemas_and_promotes_types() {
        let first = segment(
            vec![
                ColumnSpec::dimension("page", ColumnType::String),
                ColumnSpec::metric("added", ColumnType::Long),
            ],
            &[
                (2, vec!["b".into(), 5i64.into()]),
                (1, vec!["a".into(), Value::Null]),
            ],
        );
        let mut second_builder = SegmentBuilder::new(vec![
            ColumnSpec::metric("added", ColumnType::Double),
            ColumnSpec::dimension("page", ColumnType::Long),
            ColumnSpec::dimension("user", ColumnType::String),
        ]);
        second_builder.set_metadata(json!({"rollup": false}));
        second_builder.push_row(1, &[0.5.into(), 7i64.into(), "u".into()]);
        let mut bytes = Vec::new();
        second_builder.write(&mut bytes).unwrap();
        let second = Segment::from_vec(bytes).unwrap();

        let merged = merge_segments(&[first, second]);
        assert_eq!(
            merged.columns(),
            [
                ColumnSpec::dimension("page", ColumnType::String),
                ColumnSpec::metric("added", ColumnType::Double),
                ColumnSpec::dimension("user", ColumnType::String),
            ]
        );
        let mut bytes = Vec::new();
        let summary = merged.write(&mut bytes).unwrap();
        assert_eq!(summary.num_rows, 3);
        let out = Segment::from_vec(bytes).unwrap();
        assert_eq!(out.metadata(), &json!({"rollup": false}));
        assert_eq!(out.times(), [1, 1, 2]);
        let Some(ColumnRef::String(page)) = out.column("page") else {
            panic!("page")
        };
        let pages: Vec<_> = (0..3).map(|row| page.value(page.row_id(row))).collect();
        assert_eq!(pages, [Some("7"), Some("a"), Some("b")]);
        let Some(ColumnRef::Double(added)) = out.column("added") else {
            panic!("added")
        };
        assert_eq!(added.values(), [0.5, 0.0, 5.0]);
        assert!(added.is_null(1) && !added.is_null(0));
        let Some(ColumnRef::String(user)) = out.column("user") else {
            panic!("user")
        };
        let users: Vec<_> = (0..3).map(|row| user.value(user.row_id(row))).collect();
        assert_eq!(users, [Some("u"), None, None]);
    }

    #[test]
    fn merging_nothing_gives_an_empty_builder() {
        let merged = merge_segments(&[]);
        assert_eq!(merged.num_rows(), 0);
        assert!(merged.columns().is_empty());
    }
}
