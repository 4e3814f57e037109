//! Batch ingestion end to end: the Druid quickstart (wikiticker) spec, confinement of local
//! input, parse exceptions, rollup, partitioning and schemaless discovery.

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Instant;

use henge_ingest::{
    check_input_allowed, parse_index_task, run_batch, BatchOutput, IngestError, SpecError,
};
use henge_segment::reader::ColumnRef;
use henge_segment::{ColumnType, Granularity, Interval, Segment, ShardSpec};
use serde_json::{json, Value};

const VERSION: &str = "2024-01-01T00:00:00.000Z";
const WIKI_ROWS: u64 = 39_244;

fn data_dir() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        .canonicalize()
        .expect("shared/data is beside the project")
}

/// The quickstart spec reading the real data file.
fn wikipedia_spec() -> Value {
    let mut spec: Value =
        serde_json::from_slice(&std::fs::read(data_dir().join("wikipedia-index.json")).unwrap())
            .unwrap();
    spec["spec"]["ioConfig"]["inputSource"]["baseDir"] = json!(data_dir());
    spec
}

fn run(spec: &Value, allowed: &[PathBuf], work_dir: &Path) -> Result<BatchOutput, IngestError> {
    run_batch(&parse_index_task(spec).unwrap(), allowed, work_dir, VERSION)
}

fn open(path: &Path) -> Segment {
    Segment::from_vec(std::fs::read(path).unwrap()).unwrap()
}

/// A spec over newline JSON written to a file in `dir`.
fn file_spec(dir: &Path, lines: &[&str], data_schema: Value) -> Value {
    std::fs::write(dir.join("input.json"), lines.join("\n")).unwrap();
    json!({
        "type": "index",
        "spec": {
            "dataSchema": data_schema,
            "ioConfig": {
                "type": "index",
                "inputSource": {"type": "local", "baseDir": dir, "filter": "*.json"},
                "inputFormat": {"type": "json"}
            }
        }
    })
}

#[test]
fn ingests_the_wikiticker_quickstart() {
    let work = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let output = run(&wikipedia_spec(), &[data_dir()], work.path()).unwrap();
    let elapsed = started.elapsed();
    println!(
        "wikiticker: {WIKI_ROWS} rows in {elapsed:?} = {:.0} rows/s",
        WIKI_ROWS as f64 / elapsed.as_secs_f64()
    );
    let report = &output.report;
    assert_eq!(report.processed, WIKI_ROWS);
    assert_eq!(
        (
            report.unparseable,
            report.thrown_away,
            report.processed_with_error
        ),
        (0, 0, 0)
    );
    assert_eq!(
        report.processed_bytes, 17_106_256,
        "Druid's processedBytes for this file"
    );
    assert_eq!(output.segments.len(), 1);
    let built = &output.segments[0];
    assert_eq!(
        built.id.interval,
        Interval::parse("2015-09-12/2015-09-13").unwrap()
    );
    assert_eq!(
        (built.id.version.as_str(), built.id.partition),
        (VERSION, 0)
    );
    assert_eq!(built.shard_spec, ShardSpec::numbered(0, 1));
    assert_eq!(built.summary.num_rows, WIKI_ROWS);
    assert_eq!(built.dimensions.len(), 19);
    assert!(built.metrics.is_empty());
    assert!(built.path.starts_with(work.path()));

    let segment = open(&built.path);
    assert_eq!(segment.num_rows() as u64, WIKI_ROWS);
    let types: BTreeMap<&str, ColumnType> = segment
        .schema()
        .iter()
        .map(|c| (c.name.as_str(), c.column_type))
        .collect();
    assert_eq!(types["added"], ColumnType::Long);
    assert_eq!(types["channel"], ColumnType::String);
    assert_eq!(types["isRobot"], ColumnType::String);
    assert_eq!(segment.metadata()["rollup"], false);
    assert_eq!(segment.metadata()["timestampSpec"]["column"], "time");
    let Some(ColumnRef::Long(added)) = segment.column("added") else {
        panic!("added is a long column")
    };
    let expected_added: i64 = read_wikiticker()
        .iter()
        .map(|row| row["added"].as_i64().unwrap())
        .sum();
    assert_eq!(added.values().iter().sum::<i64>(), expected_added);
    let Some(ColumnRef::String(robot)) = segment.column("isRobot") else {
        panic!("isRobot is a string column")
    };
    let mut robot_values: Vec<&str> = (0..robot.cardinality() as u32)
        .filter_map(|id| robot.value(id))
        .collect();
    robot_values.sort_unstable();
    assert_eq!(robot_values, ["false", "true"]);
}

/// Every row of the quickstart file, parsed independently of the crate under test.
fn read_wikiticker() -> Vec<Value> {
    let file =
        std::fs::File::open(data_dir().join("wikiticker-2015-09-12-sampled.json.gz")).unwrap();
    std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(|line| serde_json::from_str(&line.unwrap()).unwrap())
        .collect()
}

#[test]
fn refuses_input_outside_the_allowed_dirs() {
    let work = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let allowed = [elsewhere.path().to_path_buf()];
    let error = run(&wikipedia_spec(), &allowed, work.path()).unwrap_err();
    assert!(
        matches!(error, IngestError::Spec(SpecError::PathNotAllowed { .. })),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("outside the directories allowed"),
        "{error}"
    );
    // The same check, up front, without reading anything.
    let task = parse_index_task(&wikipedia_spec()).unwrap();
    let error = check_input_allowed(&task, &allowed).unwrap_err();
    assert!(matches!(error, SpecError::PathNotAllowed { .. }), "{error}");
    assert!(check_input_allowed(&task, &[data_dir()]).is_ok());
}

#[test]
fn counts_parse_exceptions_and_still_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let lines = [
        r#"{"ts": "2020-01-01T00:00:00Z", "page": "a", "n": 1}"#,
        r#"{"ts": "not a time", "page": "b", "n": 2}"#,
        r#"{"ts": "2020-01-01T01:00:00Z", "page": "c", "n": "#,
        r#"{"page": "d"}"#,
        r#"{"ts": 1577836800000, "page": "e", "n": "many"}"#,
        "",
        r#"{"ts": "2021-06-01T00:00:00Z", "page": "f", "n": 3}"#,
    ];
    let data_schema = json!({
        "dataSource": "events",
        "timestampSpec": {"column": "ts", "format": "auto"},
        "dimensionsSpec": {"dimensions": ["page", {"name": "n", "type": "long"}]},
        "granularitySpec": {"rollup": false, "intervals": ["2020-01-01/2020-01-02"]}
    });
    let spec = file_spec(dir.path(), &lines, data_schema);
    let work = tempfile::tempdir().unwrap();
    let output = run(&spec, &[dir.path().to_path_buf()], work.path()).unwrap();
    let report = &output.report;
    assert_eq!(report.processed, 1);
    assert_eq!(report.processed_with_error, 1, "n = \"many\" becomes null");
    assert_eq!(report.unparseable, 3);
    assert_eq!(report.thrown_away, 1, "2021 is outside the intervals");
    let messages: Vec<&str> = report
        .unparseable_events
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    assert!(
        messages[0].starts_with("Timestamp[not a time] is unparseable! Event: {"),
        "{messages:?}"
    );
    assert!(messages[0].ends_with("Record: 2, Line: 2)"), "{messages:?}");
    assert!(
        messages[1].starts_with("Unable to parse row [{\"ts\""),
        "{messages:?}"
    );
    assert!(
        messages[2].starts_with("Timestamp[null] is unparseable!"),
        "{messages:?}"
    );
    assert_eq!(messages[3], "could not convert value [many] to long");
    let segment = open(&output.segments[0].path);
    assert_eq!(segment.num_rows(), 2);

    let report_json = report.to_druid_report("t1", henge_ingest::IngestionState::Completed, None);
    let build = &report_json["ingestionStatsAndErrors"]["payload"]["rowStats"]["buildSegments"];
    assert_eq!(build["unparseable"], 3);
    assert_eq!(
        build["processedBytes"],
        lines.iter().map(|l| l.len() + 1).sum::<usize>() as u64 - 1
    );

    let mut strict = spec.clone();
    strict["spec"]["tuningConfig"] = json!({"type": "index", "maxParseExceptions": 2});
    match run(&strict, &[dir.path().to_path_buf()], work.path()) {
        Err(IngestError::MaxParseExceptions { limit: 2, stats }) => {
            assert_eq!(stats.parse_exceptions(), 3)
        }
        other => panic!("expected the task to fail, got {other:?}"),
    }
}

/// (hour, channel, namespace) -> (count, sum added, sum delta, min deleted, max deleted)
type Rollup = BTreeMap<(i64, String, String), (i64, i64, f64, i64, i64)>;

#[test]
fn rollup_combines_rows_per_hour() {
    let mut spec = wikipedia_spec();
    let schema = &mut spec["spec"]["dataSchema"];
    schema["dimensionsSpec"] = json!({"dimensions": ["channel", "namespace"]});
    schema["metricsSpec"] = json!([
        {"type": "count", "name": "count"},
        {"type": "longSum", "name": "added", "fieldName": "added"},
        {"type": "doubleSum", "name": "delta", "fieldName": "delta"},
        {"type": "longMin", "name": "min_deleted", "fieldName": "deleted"},
        {"type": "longMax", "name": "max_deleted", "fieldName": "deleted"}
    ]);
    schema["granularitySpec"]["rollup"] = json!(true);
    schema["granularitySpec"]["queryGranularity"] = json!("hour");

    let mut expected = Rollup::new();
    for row in read_wikiticker() {
        let time = henge_segment::time::parse_timestamp(row["time"].as_str().unwrap()).unwrap();
        let key = (
            Granularity::Hour.bucket_start(time),
            row["channel"].as_str().unwrap().to_string(),
            row["namespace"].as_str().unwrap().to_string(),
        );
        let deleted = row["deleted"].as_i64().unwrap();
        let entry = expected
            .entry(key)
            .or_insert((0, 0, 0.0, i64::MAX, i64::MIN));
        entry.0 += 1;
        entry.1 += row["added"].as_i64().unwrap();
        entry.2 += row["delta"].as_f64().unwrap();
        entry.3 = entry.3.min(deleted);
        entry.4 = entry.4.max(deleted);
    }

    let work = tempfile::tempdir().unwrap();
    let output = run(&spec, &[data_dir()], work.path()).unwrap();
    assert_eq!(output.report.processed, WIKI_ROWS);
    assert_eq!(output.segments.len(), 1);
    let segment = open(&output.segments[0].path);
    assert_eq!(segment.num_rows(), expected.len());
    assert!(
        segment.num_rows() < WIKI_ROWS as usize / 10,
        "rollup shrinks the data"
    );
    let string = |name| match segment.column(name) {
        Some(ColumnRef::String(column)) => column,
        _ => panic!("{name} is a string column"),
    };
    let long = |name| match segment.column(name) {
        Some(ColumnRef::Long(column)) => column,
        _ => panic!("{name} is a long column"),
    };
    let Some(ColumnRef::Double(delta)) = segment.column("delta") else {
        panic!("delta is a double column")
    };
    let (channel, namespace) = (string("channel"), string("namespace"));
    let (count, added, min_deleted, max_deleted) = (
        long("count"),
        long("added"),
        long("min_deleted"),
        long("max_deleted"),
    );
    let mut actual = Rollup::new();
    for (row, &time) in segment.times().iter().enumerate() {
        let key = (
            time,
            channel.value(channel.row_id(row)).unwrap().to_string(),
            namespace.value(namespace.row_id(row)).unwrap().to_string(),
        );
        let values = (
            count.values()[row],
            added.values()[row],
            delta.values()[row],
            min_deleted.values()[row],
            max_deleted.values()[row],
        );
        assert!(
            actual.insert(key, values).is_none(),
            "rolled-up rows are unique"
        );
    }
    assert_eq!(actual.len(), expected.len());
    for (key, want) in &expected {
        let got = actual[key];
        assert_eq!(
            (got.0, got.1, got.3, got.4),
            (want.0, want.1, want.3, want.4),
            "{key:?}"
        );
        assert!(
            (got.2 - want.2).abs() < 1e-6,
            "{key:?}: {} vs {}",
            got.2,
            want.2
        );
    }
}

#[test]
fn max_rows_per_segment_splits_partitions() {
    let mut spec = wikipedia_spec();
    spec["spec"]["tuningConfig"]["maxRowsPerSegment"] = json!(10_000);
    let work = tempfile::tempdir().unwrap();
    let output = run(&spec, &[data_dir()], work.path()).unwrap();
    let rows: Vec<u64> = output.segments.iter().map(|s| s.summary.num_rows).collect();
    assert_eq!(rows, [10_000, 10_000, 10_000, 9_244]);
    for (index, segment) in output.segments.iter().enumerate() {
        assert_eq!(segment.id.partition, index as u32);
        assert_eq!(segment.id.version, VERSION);
        assert_eq!(segment.shard_spec, ShardSpec::numbered(index as u32, 4));
        assert_eq!(open(&segment.path).num_rows() as u64, rows[index]);
    }
}

fn inline_spec(data: &[&str], data_schema: Value) -> Value {
    json!({
        "type": "index_parallel",
        "spec": {
            "dataSchema": data_schema,
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "inline", "data": data.join("\n")},
                "inputFormat": {"type": "json"}
            },
            "tuningConfig": {"type": "index_parallel"}
        }
    })
}

fn column_types(segment: &Segment) -> Vec<(String, ColumnType)> {
    segment
        .schema()
        .iter()
        .map(|c| (c.name.clone(), c.column_type))
        .collect()
}

#[test]
fn schemaless_discovery_keeps_first_seen_order() {
    let data = [
        r#"{"timestamp": "2020-01-01T00:00:00Z", "zeta": "z", "n": 36, "flag": true, "skip": 1, "v": 2}"#,
        r#"{"timestamp": "2020-01-01T00:00:01Z", "alpha": "a", "n": 1.5, "tags": ["x", "y"], "v": 3}"#,
        r#"{"timestamp": "2020-01-02T00:00:00Z", "zeta": "z2", "never": null}"#,
    ];
    let data_schema = |dimensions_spec: Value| {
        json!({
            "dataSource": "events",
            "timestampSpec": {"column": "timestamp", "format": "iso"},
            "dimensionsSpec": dimensions_spec,
            "metricsSpec": [{"type": "longSum", "name": "v_sum", "fieldName": "v"}],
            "granularitySpec": {"rollup": false}
        })
    };
    let work = tempfile::tempdir().unwrap();
    let classic = inline_spec(&data, data_schema(json!({"dimensionExclusions": ["skip"]})));
    let output = run(&classic, &[], work.path()).unwrap();
    assert_eq!(output.segments.len(), 2, "two days");
    let first = open(&output.segments[0].path);
    let string = ColumnType::String;
    assert_eq!(
        column_types(&first),
        [
            ("zeta".to_string(), string),
            ("n".to_string(), string),
            ("flag".to_string(), string),
            ("alpha".to_string(), string),
            ("tags".to_string(), string),
            ("v_sum".to_string(), ColumnType::Long),
        ]
    );
    let Some(ColumnRef::String(n)) = first.column("n") else {
        panic!()
    };
    assert_eq!(n.value(n.row_id(0)), Some("36"));
    assert_eq!(
        output.segments[0].dimensions,
        ["zeta", "n", "flag", "alpha", "tags"]
    );
    // The second day only has the dimensions its rows carry.
    assert_eq!(output.segments[1].dimensions, ["zeta"]);

    let typed = inline_spec(
        &data,
        data_schema(json!({"useSchemaDiscovery": true, "dimensionExclusions": ["skip"]})),
    );
    let output = run(&typed, &[], work.path()).unwrap();
    let first = open(&output.segments[0].path);
    let types = column_types(&first);
    assert_eq!(
        types[1],
        ("n".to_string(), ColumnType::Double),
        "36 and 1.5"
    );
    assert_eq!(types[2], ("flag".to_string(), ColumnType::String));
}

#[test]
fn explicit_numeric_dimensions_and_time_truncation() {
    let data = [
        r#"{"t": 1577836800123, "l": "7", "d": 2, "s": 5}"#,
        r#"{"t": 1577836800999, "l": 7.9, "d": "2.5", "s": 6}"#,
    ];
    let spec = inline_spec(
        &data,
        json!({
            "dataSource": "nums",
            "timestampSpec": {"column": "t", "format": "millis"},
            "dimensionsSpec": {"dimensions": [{"name": "l", "type": "long"}, {"name": "d", "type": "float"}]},
            "metricsSpec": [{"type": "count", "name": "rows"}, {"type": "doubleSum", "name": "s", "fieldName": "s"}],
            "granularitySpec": {"queryGranularity": "second", "segmentGranularity": "hour"}
        }),
    );
    let work = tempfile::tempdir().unwrap();
    let output = run(&spec, &[], work.path()).unwrap();
    let segment = open(&output.segments[0].path);
    assert_eq!(
        output.segments[0].id.interval,
        Interval::parse("2020-01-01T00/2020-01-01T01").unwrap()
    );
    assert_eq!(segment.num_rows(), 2, "d differs, so no rollup");
    assert_eq!(segment.times(), [1_577_836_800_000, 1_577_836_800_000]);
    let Some(ColumnRef::Long(l)) = segment.column("l") else {
        panic!()
    };
    assert_eq!(l.values(), [7, 7]);
}
