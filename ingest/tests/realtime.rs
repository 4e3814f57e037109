//! Push ingestion into the realtime index: visibility, schema discovery, all-or-nothing
//! rejection, sinks, partitions and handoff.

use henge_ingest::{IngestError, RealtimeConfig, RealtimeIndex, SinkView};
use henge_segment::reader::ColumnRef;
use henge_segment::{merge_segments, ColumnType, Granularity, Interval, Segment};

const HOUR_MS: i64 = 3_600_000;
/// 2020-01-01T00:00:00Z.
const T0: i64 = 1_577_836_800_000;

fn index(max_rows_per_segment: usize) -> RealtimeIndex {
    RealtimeIndex::new(RealtimeConfig {
        segment_granularity: Granularity::Hour,
        max_rows_per_segment,
        max_rows_in_memory: 1_000,
    })
}

fn events(count: usize, time: i64) -> String {
    (0..count)
        .map(|i| format!("{{\"timestamp\": {time}, \"user\": \"u{i}\", \"n\": {i}}}\n"))
        .collect()
}

fn push(index: &mut RealtimeIndex, body: &str) -> usize {
    index
        .push("events", body.as_bytes(), |_, _| "v1".to_string())
        .unwrap()
        .accepted
}

fn rows(view: &SinkView) -> usize {
    view.segments.iter().map(Segment::num_rows).sum()
}

#[test]
fn pushed_rows_are_visible_at_once() {
    let mut index = index(1_000_000);
    let body = "{\"timestamp\": \"2020-01-01T00:10:00Z\", \"page\": \"a\"}\n\n\
                {\"timestamp\": 1577837400000, \"page\": \"b\"}";
    assert_eq!(push(&mut index, body), 2);
    let sinks = index.sinks();
    assert_eq!(sinks.len(), 1);
    let sink = &sinks[0];
    assert_eq!(sink.id.datasource, "events");
    assert_eq!(sink.id.interval, Interval::new(T0, T0 + HOUR_MS));
    assert_eq!((sink.id.version.as_str(), sink.id.partition), ("v1", 0));
    assert_eq!((sink.num_rows, rows(sink)), (2, 2));
    let segment = &sink.segments[0];
    assert_eq!(segment.times(), [T0 + 600_000, T0 + 600_000]);
    let Some(ColumnRef::String(page)) = segment.column("page") else {
        panic!("page is a string")
    };
    assert_eq!(page.value(page.row_id(1)), Some("b"));
    assert!(
        segment.column("timestamp").is_none(),
        "the timestamp is the time column"
    );
}

#[test]
fn discovers_column_types_and_rejects_misfits_whole() {
    let mut index = index(1_000_000);
    let first = format!(
        "{{\"timestamp\": {T0}, \"s\": \"x\", \"b\": true, \"i\": 1, \"d\": 1.5, \"o\": {{\"k\": 1}}}}\n\
         {{\"timestamp\": {T0}, \"mixed\": 1, \"d\": 2}}\n\
         {{\"timestamp\": {T0}, \"mixed\": 2.5}}"
    );
    push(&mut index, &first);
    let types: Vec<(String, ColumnType)> = index
        .schema("events")
        .unwrap()
        .iter()
        .map(|column| (column.name.clone(), column.column_type))
        .collect();
    let expected = [
        ("s", ColumnType::String),
        ("b", ColumnType::String),
        ("i", ColumnType::Long),
        ("d", ColumnType::Double),
        ("o", ColumnType::String),
        ("mixed", ColumnType::Double),
    ];
    assert_eq!(types, expected.map(|(name, kind)| (name.to_string(), kind)));

    // A double into the long column: the whole request is rejected.
    let bad = format!(
        "{{\"timestamp\": {T0}, \"i\": 3}}\n{{\"timestamp\": {T0}, \"i\": 2.5}}\nnot json\n\
         {{\"timestamp\": \"soon\"}}"
    );
    match index.push("events", bad.as_bytes(), |_, _| ("v1".to_string(), 0)) {
        Err(IngestError::PushRejected { errors }) => {
            assert_eq!(errors.len(), 3, "{errors:?}");
            assert!(
                errors[0].starts_with("line 2: value [2.5] of field [i]"),
                "{errors:?}"
            );
            assert!(
                errors[1].starts_with("line 3: not a JSON object"),
                "{errors:?}"
            );
            assert!(
                errors[2].starts_with("line 4: Timestamp[soon]"),
                "{errors:?}"
            );
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(
        index.sinks()[0].num_rows,
        3,
        "nothing of the bad request was ingested"
    );

    // Fitting values and new fields are fine later on.
    let good = format!("{{\"timestamp\": {T0}, \"i\": \"4\", \"d\": 7, \"s\": 9, \"new\": 1}}");
    push(&mut index, &good);
    assert_eq!(index.schema("events").unwrap().len(), 7);
    let sink = &index.sinks()[0];
    assert_eq!(rows(sink), 4);
    let merged = merge_segments(&sink.segments);
    assert_eq!(merged.num_rows(), 4);

    // A rejected first push does not create the datasource.
    assert!(index
        .push("other", b"{}", |_, _| ("v".to_string(), 0))
        .is_err());
    assert!(index.schema("other").is_none());
    assert!(index
        .push("bad/name", b"", |_, _| ("v".to_string(), 0))
        .is_err());
}

#[test]
fn full_sinks_roll_to_the_next_partition_and_hand_off() {
    let mut index = index(5);
    let mut versions_asked = 0;
    let body = events(12, T0);
    index
        .push("events", body.as_bytes(), |_, _| {
            versions_asked += 1;
            ("v1".to_string(), 0)
        })
        .unwrap();
    assert_eq!(versions_asked, 1, "one version per time chunk");
    let partitions: Vec<(u32, usize)> = index
        .sinks()
        .iter()
        .map(|s| (s.id.partition, s.num_rows))
        .collect();
    assert_eq!(partitions, [(0, 5), (1, 5), (2, 2)]);

    // Only the full sinks are handed off while the hour is open.
    let handoffs = index.take_for_handoff(T0 + 60_000, 0, false);
    let taken: Vec<(u32, usize)> = handoffs
        .iter()
        .map(|h| (h.id.partition, h.num_rows))
        .collect();
    assert_eq!(taken, [(0, 5), (1, 5)]);
    assert_eq!(merge_segments(&handoffs[0].hydrants).num_rows(), 5);
    assert_eq!(index.sinks().len(), 1);

    push(&mut index, &events(4, T0));
    let partitions: Vec<(u32, usize)> = index
        .sinks()
        .iter()
        .map(|s| (s.id.partition, s.num_rows))
        .collect();
    assert_eq!(partitions, [(2, 5), (3, 1)]);
    assert!(index.sinks().iter().all(|s| s.id.version == "v1"));
}

#[test]
fn sinks_hand_off_after_their_hour_and_grace() {
    let mut index = index(1_000_000);
    push(&mut index, &events(3, T0));
    push(&mut index, &events(2, T0 + HOUR_MS));
    let grace = 10 * 60_000;
    assert!(index
        .take_for_handoff(T0 + HOUR_MS + grace, grace, false)
        .is_empty());
    let handoffs = index.take_for_handoff(T0 + HOUR_MS + grace + 1, grace, false);
    assert_eq!(handoffs.len(), 1);
    assert_eq!(handoffs[0].id.interval, Interval::new(T0, T0 + HOUR_MS));
    // A late row for the handed-off hour opens the next partition with the same version.
    let mut versions_asked = 0;
    index
        .push("events", events(1, T0).as_bytes(), |_, _| {
            versions_asked += 1;
            ("other".to_string(), 0)
        })
        .unwrap();
    assert_eq!(versions_asked, 0);
    let late = index
        .sinks()
        .into_iter()
        .find(|s| s.id.interval.start == T0)
        .unwrap();
    assert_eq!((late.id.partition, late.id.version.as_str()), (1, "v1"));
    let forced = index.take_for_handoff(0, 0, true);
    assert_eq!(forced.len(), 2);
    assert!(index.sinks().is_empty());
}

#[test]
fn many_small_pushes_keep_few_hydrants() {
    let mut index = index(1_000_000);
    for _ in 0..300 {
        push(&mut index, &events(1, T0));
    }
    let sink = &index.sinks()[0];
    assert_eq!((sink.num_rows, rows(sink)), (300, 300));
    assert!(sink.segments.len() <= 8, "{} hydrants", sink.segments.len());
}

#[test]
fn a_new_chunk_starts_at_the_partition_the_caller_gives() {
    let mut index = index(2);
    let mut asked = Vec::new();
    index
        .push(
            "events",
            events(3, T0).as_bytes(),
            |datasource, interval| {
                asked.push((datasource.to_string(), interval));
                ("v2".to_string(), 3)
            },
        )
        .unwrap();
    assert_eq!(
        asked,
        [("events".to_string(), Interval::new(T0, T0 + HOUR_MS))]
    );
    let partitions: Vec<(u32, &str)> = index
        .sinks()
        .iter()
        .map(|s| {
            (
                s.id.partition,
                if s.id.version == "v2" { "v2" } else { "?" },
            )
        })
        .collect();
    assert_eq!(partitions, [(3, "v2"), (4, "v2")]);
}

#[test]
fn sketch_metrics_of_pushed_rows_merge_at_query_time() {
    use henge_ingest::spec::{MetricKind, MetricSpec};
    use henge_query::{finalize, merge, parse_query, run_on_segment, Limits};
    use henge_segment::sketch::SketchSpec;
    use henge_segment::ComplexKind;

    let mut index = index(1_000_000);
    let hll = MetricKind::Sketch(ComplexKind::HllSketch, SketchSpec::HLL_DEFAULT);
    let metrics = vec![
        MetricSpec {
            name: "rows".into(),
            kind: MetricKind::Count,
            field_name: None,
        },
        MetricSpec {
            name: "users".into(),
            kind: hll,
            field_name: Some("user".into()),
        },
    ];
    index.set_metrics("events", metrics.clone()).unwrap();
    // Three pushes of 400 events; users overlap between pushes: 1_000 distinct in all.
    for push_index in 0..3 {
        let body: String = (0..400)
            .map(|i| {
                let user = (push_index * 300 + i) % 1_000;
                format!(
                    "{{\"timestamp\": {T0}, \"user\": \"u{user}\", \"page\": \"p{}\"}}\n",
                    i % 7
                )
            })
            .collect();
        assert_eq!(push(&mut index, &body), 400);
    }
    assert!(
        index.set_metrics("events", metrics).is_err(),
        "metrics are fixed once rows exist"
    );
    let names: Vec<(&str, ColumnType)> = index
        .schema("events")
        .unwrap()
        .iter()
        .map(|column| (column.name.as_str(), column.column_type))
        .collect();
    assert_eq!(
        names,
        [
            ("rows", ColumnType::Long),
            ("users", ColumnType::Complex(ComplexKind::HllSketch)),
            ("page", ColumnType::String)
        ],
        "the metric input is not a dimension"
    );
    let handoff = index.take_for_handoff(T0, 0, true);
    let mut bytes = Vec::new();
    merge_segments(&handoff[0].hydrants)
        .write(&mut bytes)
        .unwrap();
    let segment = Segment::from_vec(bytes).unwrap();
    let query = parse_query(
        br#"{"queryType": "timeseries", "dataSource": "events", "granularity": "all",
            "intervals": ["2020-01-01/2020-01-02"], "aggregations": [
                {"type": "longSum", "name": "rows", "fieldName": "rows"},
                {"type": "HLLSketchMerge", "name": "users", "fieldName": "users", "round": true}]}"#,
        &Limits::default(),
    )
    .unwrap();
    let partial = run_on_segment(&query, &segment, "s").unwrap();
    let result = finalize(&query, merge(&query, vec![partial]).unwrap()).unwrap();
    assert_eq!(result[0]["result"]["rows"], 1_200);
    let users = result[0]["result"]["users"].as_i64().unwrap();
    assert!(
        (users - 1_000).abs() <= 20,
        "{users} distinct users, 1000 exact"
    );
}
