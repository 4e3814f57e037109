//! Parsing Druid task specs: the quickstart spec, defaults, and the errors for what Henge
//! rejects.

use henge_ingest::spec::{DimensionKind, InputSource, MetricKind, TimestampFormat};
use henge_ingest::{parse_index_task, SpecError};
use henge_segment::sketch::{HllTarget, SketchSpec};
use henge_segment::ComplexKind;
use henge_segment::{ColumnType, Granularity, Interval};
use serde_json::{json, Value};

fn wikipedia_spec() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/wikipedia-index.json"
    );
    serde_json::from_slice(&std::fs::read(path).expect("shared/data is beside the project"))
        .unwrap()
}

fn minimal() -> Value {
    json!({
        "type": "index_parallel",
        "spec": {
            "dataSchema": {"dataSource": "ds", "timestampSpec": {}},
            "ioConfig": {
                "type": "index_parallel",
                "inputSource": {"type": "inline", "data": ""},
                "inputFormat": {"type": "json"}
            }
        }
    })
}

fn error_of(spec: &Value) -> String {
    parse_index_task(spec).unwrap_err().to_string()
}

#[test]
fn parses_the_quickstart_spec() {
    let task = parse_index_task(&wikipedia_spec()).unwrap();
    assert_eq!(task.datasource, "wikipedia");
    assert_eq!(task.task_type, "index_parallel");
    let schema = &task.spec.data_schema;
    assert_eq!(schema.timestamp_spec.column, "time");
    assert_eq!(schema.timestamp_spec.format, TimestampFormat::Iso);
    assert_eq!(schema.dimensions_spec.dimensions.len(), 19);
    assert!(!schema.dimensions_spec.discover);
    let added = &schema.dimensions_spec.dimensions[16];
    assert_eq!(
        (added.name.as_str(), added.kind),
        ("added", DimensionKind::Fixed(ColumnType::Long))
    );
    let granularity = &schema.granularity_spec;
    assert_eq!(granularity.segment_granularity, Granularity::Day);
    assert_eq!(granularity.query_granularity, Granularity::None);
    assert!(!granularity.rollup);
    assert_eq!(
        granularity.intervals,
        [Interval::parse("2015-09-12/2015-09-13").unwrap()]
    );
    assert!(matches!(
        &task.spec.io_config.input_source,
        InputSource::Local { filter, .. } if filter == "wikiticker-2015-09-12-sampled.json.gz"
    ));
    assert_eq!(task.spec.tuning_config.max_rows_per_segment, 5_000_000);
    assert_eq!(task.raw, wikipedia_spec());
}

#[test]
fn applies_druid_defaults() {
    let task = parse_index_task(&minimal()).unwrap();
    let schema = &task.spec.data_schema;
    assert_eq!(schema.timestamp_spec.column, "timestamp");
    assert_eq!(schema.timestamp_spec.format, TimestampFormat::Auto);
    assert!(schema.dimensions_spec.discover);
    assert!(!schema.dimensions_spec.typed_discovery);
    assert!(schema.granularity_spec.rollup, "Druid rolls up by default");
    assert_eq!(
        schema.granularity_spec.segment_granularity,
        Granularity::Day
    );
    assert_eq!(task.spec.tuning_config.max_parse_exceptions, None);
}

#[test]
fn reads_metrics_and_tuning() {
    let mut spec = minimal();
    spec["spec"]["dataSchema"]["metricsSpec"] = json!([
        {"type": "count", "name": "count"},
        {"type": "floatSum", "name": "f", "fieldName": "x"},
        {"type": "longMax", "name": "m", "fieldName": "y"},
        {"type": "HLLSketchBuild", "name": "h", "fieldName": "u", "lgK": 10, "tgtHllType": "HLL_8"}
    ]);
    spec["spec"]["tuningConfig"] = json!({
        "type": "index_parallel",
        "partitionsSpec": {"type": "dynamic", "maxRowsPerSegment": 10},
        "maxParseExceptions": 3,
        "maxNumConcurrentSubTasks": 4
    });
    let task = parse_index_task(&spec).unwrap();
    let kinds: Vec<MetricKind> = task
        .spec
        .data_schema
        .metrics
        .iter()
        .map(|m| m.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            MetricKind::Count,
            MetricKind::DoubleSum,
            MetricKind::LongMax,
            MetricKind::Sketch(
                ComplexKind::HllSketch,
                SketchSpec::Hll {
                    lg_k: 10,
                    target: HllTarget::Hll8
                }
            )
        ]
    );
    assert_eq!(task.spec.tuning_config.max_rows_per_segment, 10);
    assert_eq!(task.spec.tuning_config.max_parse_exceptions, Some(3));
}

#[test]
fn rejects_unknown_fields_and_types() {
    let mut spec = minimal();
    spec["spec"]["dataSchema"]["timestampSpec"]["colum"] = json!("t");
    assert_eq!(
        error_of(&spec),
        "unknown field [colum] in [spec.dataSchema.timestampSpec]; known fields: \
         [column, format, missingValue]"
    );

    let mut spec = minimal();
    spec["spec"]["ioConfig"]["inputSource"] =
        json!({"type": "http", "uris": ["http://169.254.169.254/"]});
    assert_eq!(
        error_of(&spec),
        "could not resolve type id [http] as a subtype of [InputSource]: known type ids = [local, inline]"
    );

    let mut spec = minimal();
    spec["spec"]["ioConfig"]["inputFormat"] = json!({"type": "csv"});
    assert!(error_of(&spec).contains("[csv] as a subtype of [InputFormat]"));

    let mut spec = minimal();
    spec["spec"]["dataSchema"]["metricsSpec"] =
        json!([{"type": "tDigestSketch", "name": "t", "fieldName": "u"}]);
    assert!(error_of(&spec).contains("[tDigestSketch] as a subtype of [AggregatorFactory]"));

    let mut spec = minimal();
    spec["spec"]["dataSchema"]["metricsSpec"] =
        json!([{"type": "thetaSketch", "name": "t", "fieldName": "u", "size": 1000}]);
    assert!(error_of(&spec).contains("power of 2"));

    let mut spec = minimal();
    spec["spec"]["dataSchema"]["metricsSpec"] = json!([{"type": "hyperUnique", "name": "t",
        "fieldName": "u", "isInputHyperUnique": true}]);
    assert!(error_of(&spec).contains("not supported"));

    let mut spec = minimal();
    spec["type"] = json!("index_hadoop");
    assert!(error_of(&spec).contains("[index_hadoop] as a subtype of [Task]"));
}

#[test]
fn rejects_unsupported_features() {
    let cases = [
        (
            "/spec/tuningConfig",
            json!({"partitionsSpec": {"type": "hashed", "numShards": 2}}),
            "hashed",
        ),
        (
            "/spec/dataSchema/transformSpec",
            json!({"filter": {"type": "selector"}}),
            "transformSpec",
        ),
        (
            "/spec/ioConfig/appendToExisting",
            json!(true),
            "appendToExisting",
        ),
        (
            "/spec/dataSchema/timestampSpec/format",
            json!("yyyy-MM-dd"),
            "Joda",
        ),
        (
            "/spec/dataSchema/granularitySpec",
            json!({"queryGranularity": "day", "segmentGranularity": "hour"}),
            "must be finer",
        ),
        (
            "/spec/dataSchema/dataSource",
            json!("a/b"),
            "cannot contain '/'",
        ),
        (
            "/spec/dataSchema/dimensionsSpec",
            json!({"dimensions": ["a", {"name": "a", "type": "long"}]}),
            "more than once",
        ),
    ];
    for (pointer, value, expected) in cases {
        let mut spec = minimal();
        let (parent, key) = pointer.rsplit_once('/').unwrap();
        spec.pointer_mut(parent).unwrap()[key] = value;
        let error = parse_index_task(&spec).unwrap_err();
        assert!(error.to_string().contains(expected), "{pointer}: {error}");
        assert!(!matches!(error, SpecError::PathNotAllowed { .. }));
    }
}

#[test]
fn empty_transform_spec_from_the_console_is_accepted() {
    let mut spec = minimal();
    spec["spec"]["dataSchema"]["transformSpec"] = json!({"transforms": [], "filter": null});
    spec["context"] = json!({"priority": 50});
    assert!(parse_index_task(&spec).is_ok());
}

#[test]
fn parses_a_metrics_spec_on_its_own() {
    use henge_ingest::spec::parse_metrics_spec;
    let metrics = parse_metrics_spec(&json!([
        {"type": "count", "name": "rows"},
        {"type": "quantilesDoublesSketch", "name": "q", "fieldName": "latency", "k": 256}
    ]))
    .unwrap();
    assert_eq!(
        metrics[1].kind,
        MetricKind::Sketch(
            ComplexKind::QuantilesDoublesSketch,
            SketchSpec::Quantiles { k: 256 }
        )
    );
    let repeated = parse_metrics_spec(&json!([
        {"type": "count", "name": "rows"},
        {"type": "longSum", "name": "rows", "fieldName": "x"}
    ]));
    assert!(repeated.unwrap_err().to_string().contains("repeated"));
    assert!(parse_metrics_spec(&json!({"type": "count"})).is_err());
}
