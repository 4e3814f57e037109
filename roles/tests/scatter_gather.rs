//! A broker querying a real data-node gRPC service in-process: per-segment results of
//! historical segments are cached and served from the cache; realtime ones never are.

use std::sync::Arc;
use std::time::Duration;

use henge_broker::{Broker, DataNodeAddr, ServerView};
use henge_proto::DataNodeServer;
use henge_roles::datanode::{DataNodeService, SegmentRegistry, Served};
use henge_segment::builder::SegmentBuilder;
use henge_segment::id::{DataSegment, SegmentId, ShardSpec};
use henge_segment::reader::Segment;
use henge_segment::time::Interval;
use henge_segment::{ColumnSpec, ColumnType, Value};
use serde_json::json;

fn served(partition: u32, rows: i64) -> Served {
    let mut builder = SegmentBuilder::new(vec![ColumnSpec::dimension("n", ColumnType::Long)]);
    for row in 0..rows {
        builder.push_row(row, &[Value::Long(row)]);
    }
    let mut bytes = Vec::new();
    builder.write(&mut bytes).unwrap();
    let segment = Segment::from_vec(bytes).unwrap();
    let id = SegmentId {
        datasource: "ds".into(),
        interval: Interval::new(0, 86_400_000),
        version: "v1".into(),
        partition,
    };
    let descriptor = DataSegment {
        data_source: id.datasource.clone(),
        interval: id.interval,
        version: id.version.clone(),
        load_spec: json!({}),
        dimensions: "n".into(),
        metrics: String::new(),
        shard_spec: ShardSpec::numbered(partition, 0),
        binary_version: 1,
        size: segment.size_bytes(),
        identifier: id.to_string(),
        num_rows: rows as u64,
        crc32: segment.crc32(),
    };
    Served {
        descriptor,
        parts: vec![segment],
    }
}

#[tokio::test]
async fn historical_results_are_cached_and_realtime_ones_are_not() {
    let registry = Arc::new(SegmentRegistry::default());
    registry.add_historical(served(0, 10));
    registry.set_realtime(vec![served(1, 5)]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let service = DataNodeServer::new(DataNodeService::new(addr.clone(), Arc::clone(&registry)));
    let router = tonic::service::Routes::new(service).into_axum_router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let view = ServerView::new();
    view.set_nodes(&[DataNodeAddr {
        id: addr.clone(),
        addr,
    }]);
    let mut changes = view.subscribe();
    while view.entries().len() < 2 {
        tokio::time::timeout(Duration::from_secs(10), changes.changed())
            .await
            .unwrap()
            .unwrap();
    }
    let broker = Broker::new(view.clone(), 1 << 20);
    let query = henge_query::parse_query(
        json!({
            "queryType": "timeseries", "dataSource": "ds", "intervals": ["1970-01-01/1970-01-02"],
            "granularity": "all",
            "aggregations": [{"type": "count", "name": "rows"}, {"type": "longSum", "name": "sum", "fieldName": "n"}],
        })
        .to_string()
        .as_bytes(),
        &henge_query::Limits::default(),
    )
    .unwrap();
    let expected =
        json!([{"timestamp": "1970-01-01T00:00:00.000Z", "result": {"rows": 15, "sum": 55}}]);
    assert_eq!(broker.run(&query).await.unwrap(), expected);
    assert_eq!(
        broker.cache().entry_count().await,
        1,
        "only the historical segment is cached"
    );

    // Replace the historical copy behind the broker's back: the answer still comes from the
    // first run's result, which proves the cache served it. The realtime part is re-read.
    registry.add_historical(served(0, 3));
    registry.set_realtime(vec![served(1, 2)]);
    let mut changes = view.subscribe();
    while view
        .entries()
        .iter()
        .any(|entry| entry.segment.num_rows == 5)
    {
        tokio::time::timeout(Duration::from_secs(10), changes.changed())
            .await
            .unwrap()
            .unwrap();
    }
    let cached_plus_new_realtime =
        json!([{"timestamp": "1970-01-01T00:00:00.000Z", "result": {"rows": 12, "sum": 46}}]);
    assert_eq!(broker.run(&query).await.unwrap(), cached_plus_new_realtime);
    view.shutdown();
    server.abort();
}
