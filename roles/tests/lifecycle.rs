//! Query lifecycle between a broker and a real data-node gRPC service in-process: timeouts
//! (504, and the data node stops working), cancellation by query id, the per-segment and
//! result-level caches' flags, and the groupBy row limit on the data node and in the broker's
//! merge.

use std::sync::Arc;
use std::time::{Duration, Instant};

use henge_broker::{Broker, DataNodeAddr, ServerView};
use henge_proto::DataNodeServer;
use henge_query::{Limits, Query};
use henge_roles::datanode::{DataNodeService, RunningQueries, SegmentRegistry, Served};
use henge_segment::builder::SegmentBuilder;
use henge_segment::id::{DataSegment, SegmentId, ShardSpec};
use henge_segment::reader::Segment;
use henge_segment::time::Interval;
use henge_segment::{ColumnSpec, ColumnType, Value};
use serde_json::{json, Value as Json};
use tokio::task::JoinHandle;

const DAY: i64 = 86_400_000;

/// `rows` rows one millisecond apart; `page` is `p{offset + row % pages}`, `n` is the row.
fn segment(rows: i64, pages: i64, offset: i64) -> Segment {
    let mut builder = SegmentBuilder::new(vec![
        ColumnSpec::dimension("page", ColumnType::String),
        ColumnSpec::metric("n", ColumnType::Long),
    ]);
    for row in 0..rows {
        let page = format!("p{}", offset + row % pages);
        builder.push_row(row, &[Value::from(Some(page.as_str())), Value::Long(row)]);
    }
    let mut bytes = Vec::new();
    builder.write(&mut bytes).unwrap();
    Segment::from_vec(bytes).unwrap()
}

fn served(segment: &Segment, partition: u32, partitions: u32) -> Served {
    let id = SegmentId {
        datasource: "ds".into(),
        interval: Interval::new(0, DAY),
        version: "v1".into(),
        partition,
    };
    Served {
        descriptor: DataSegment {
            data_source: id.datasource.clone(),
            interval: id.interval,
            version: id.version.clone(),
            load_spec: json!({}),
            dimensions: "page".into(),
            metrics: "n".into(),
            shard_spec: ShardSpec::numbered(partition, partitions),
            binary_version: 1,
            size: segment.size_bytes(),
            identifier: id.to_string(),
            num_rows: segment.num_rows() as u64,
            crc32: segment.crc32(),
        },
        parts: vec![segment.clone()],
    }
}

/// A data node serving `segments` as historical segments, and a broker that sees them.
struct Cluster {
    broker: Arc<Broker>,
    running: Arc<RunningQueries>,
    registry: Arc<SegmentRegistry>,
    view: ServerView,
    server: JoinHandle<std::io::Result<()>>,
}

impl Cluster {
    async fn start(segments: Vec<Served>, node_limits: Limits) -> Cluster {
        let registry = Arc::new(SegmentRegistry::default());
        let count = segments.len();
        for served in segments {
            registry.add_historical(served);
        }
        let running = Arc::new(RunningQueries::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let service = DataNodeService::new(addr.clone(), Arc::clone(&registry))
            .with_limits(node_limits)
            .with_running(Arc::clone(&running));
        let router = tonic::service::Routes::new(DataNodeServer::new(service)).into_axum_router();
        let server = tokio::spawn(async move { axum::serve(listener, router).await });
        let view = ServerView::new();
        view.set_nodes(&[DataNodeAddr {
            id: addr.clone(),
            addr,
        }]);
        let mut changes = view.subscribe();
        while view.entries().len() < count {
            tokio::time::timeout(Duration::from_secs(10), changes.changed())
                .await
                .unwrap()
                .unwrap();
        }
        Cluster {
            broker: Arc::new(Broker::new(view.clone(), 1 << 20)),
            running,
            registry,
            view,
            server,
        }
    }

    /// Waits until the data node runs no call of any query.
    async fn wait_idle(&self, within: Duration) {
        let deadline = Instant::now() + within;
        while self.running.running() > 0 {
            assert!(
                Instant::now() < deadline,
                "data node still busy after {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits (up to 5 s) until a query runs on the data node.
    async fn wait_running(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.running.running() == 0 {
            assert!(
                Instant::now() < deadline,
                "the query never reached the node"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    fn stop(self) {
        self.view.shutdown();
        self.server.abort();
    }
}

fn parse(query: Json, limits: &Limits) -> Query {
    henge_query::parse_query(query.to_string().as_bytes(), limits).unwrap()
}

/// 24 partitions of one 100,000-row segment: a full scan reads 2.4 M rows (37 s in a debug
/// build on the two-core development machine), so every check below that finishes within a
/// second or two proves the work stopped.
async fn slow_cluster() -> Cluster {
    let rows = segment(100_000, 1_000, 0);
    let segments = (0..24)
        .map(|partition| served(&rows, partition, 24))
        .collect();
    Cluster::start(segments, Limits::default()).await
}

fn full_scan(context: Json) -> Query {
    parse(
        json!({"queryType": "scan", "dataSource": "ds", "intervals": ["1970-01-01/1970-01-02"],
               "context": context}),
        &Limits::default(),
    )
}

/// A tiny query that needs a CPU permit on the data node: it only finishes quickly when the
/// slow query's segments stopped.
async fn quick_query_answers_within(cluster: &Cluster, within: Duration) {
    let query = parse(
        json!({"queryType": "timeBoundary", "dataSource": "ds"}),
        &Limits::default(),
    );
    let started = Instant::now();
    let answer = cluster.broker.run(&query).await.unwrap();
    assert_eq!(answer[0]["result"]["minTime"], "1970-01-01T00:00:00.000Z");
    assert!(
        started.elapsed() < within,
        "a small query took {:?}: the data node was still busy",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timed_out_query_is_a_504_and_stops_on_the_data_node() {
    let cluster = slow_cluster().await;
    let started = Instant::now();
    let error = cluster
        .broker
        .run(&full_scan(json!({"timeout": 300, "queryId": "slow-1"})))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.status, 504, "{error:?}");
    assert_eq!(error.error, "Query timeout");
    assert_eq!(error.error_message, "Query [slow-1] timed out");
    assert_eq!(
        error.error_class,
        "org.apache.druid.query.QueryTimeoutException"
    );
    assert!(
        elapsed < Duration::from_secs(2),
        "answered after {elapsed:?}"
    );
    cluster.wait_idle(Duration::from_secs(2)).await;
    assert!(cluster.running.interrupted() >= 1);
    quick_query_answers_within(&cluster, Duration::from_millis(1_500)).await;
    cluster.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_by_query_id_stops_the_query_on_broker_and_data_node() {
    let cluster = slow_cluster().await;
    let broker = Arc::clone(&cluster.broker);
    let query = full_scan(json!({"queryId": "slow-2", "timeout": 0}));
    let running = tokio::spawn(async move { broker.run(&query).await });
    cluster.wait_running().await;
    assert!(!cluster.broker.cancel("not-running"));
    let cancelled_at = Instant::now();
    assert!(cluster.broker.cancel("slow-2"));
    let error = running.await.unwrap().unwrap_err();
    assert!(cancelled_at.elapsed() < Duration::from_millis(500));
    assert_eq!(
        (error.status, error.error.as_str()),
        (500, "Query cancelled")
    );
    assert_eq!(error.error_message, "Query [slow-2] was cancelled");
    assert_eq!(
        error.error_class,
        "java.util.concurrent.CancellationException"
    );
    cluster.wait_idle(Duration::from_secs(2)).await;
    assert!(cluster.running.interrupted() >= 1);
    assert_eq!(cluster.broker.running().running(), 0);
    quick_query_answers_within(&cluster, Duration::from_millis(1_500)).await;
    cluster.stop();
}

/// A count of every row of the test segments, with `context`.
fn count(context: Json) -> Query {
    parse(
        json!({"queryType": "timeseries", "dataSource": "ds",
               "intervals": ["1970-01-01/1970-01-02"], "granularity": "all",
               "aggregations": [{"type": "count", "name": "rows"}], "context": context}),
        &Limits::default(),
    )
}

/// The row count of a [`count`] answer.
fn rows(answer: Json) -> Json {
    answer[0]["result"]["rows"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn use_cache_and_populate_cache_switch_the_per_segment_cache() {
    let cluster = Cluster::start(vec![served(&segment(10, 10, 0), 0, 1)], Limits::default()).await;
    let broker = &cluster.broker;
    // populateCache false: answered, nothing cached.
    let answer = broker
        .run(&count(json!({"populateCache": false})))
        .await
        .unwrap();
    assert_eq!(rows(answer), json!(10));
    assert_eq!(broker.cache().entry_count().await, 0);
    // Default: cached.
    broker.run(&count(json!({}))).await.unwrap();
    assert_eq!(broker.cache().entry_count().await, 1);
    // Swap the segment's rows behind the broker's back (same identifier).
    cluster
        .registry
        .add_historical(served(&segment(4, 4, 0), 0, 1));
    let cached = broker.run(&count(json!({}))).await.unwrap();
    assert_eq!(rows(cached), json!(10), "served from the cache");
    let fresh = broker
        .run(&count(json!({"useCache": "false"})))
        .await
        .unwrap();
    assert_eq!(rows(fresh), json!(4), "useCache false reads the data node");
    cluster.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_result_level_cache_answers_until_the_segments_change() {
    let cluster = Cluster::start(vec![served(&segment(10, 10, 0), 0, 1)], Limits::default()).await;
    let broker = &cluster.broker;
    let counted = |context: Json| async move { rows(broker.run(&count(context)).await.unwrap()) };
    // populateCache false: the result-level cache follows it unless told otherwise.
    counted(json!({"populateCache": false})).await;
    assert_eq!(broker.result_cache().entry_count().await, 0);
    // Default: the answer is kept, under a key that leaves out run-only context keys.
    counted(json!({"queryId": "a", "timeout": 60_000})).await;
    assert_eq!(broker.result_cache().entry_count().await, 1);
    // Swap the segment's rows behind the broker's back (same identifier). With the
    // per-segment cache off, only the result-level cache still knows the old answer.
    cluster
        .registry
        .add_historical(served(&segment(4, 4, 0), 0, 1));
    let result_only = json!({"useCache": false, "useResultLevelCache": true});
    assert_eq!(
        counted(result_only.clone()).await,
        json!(10),
        "served from the result-level cache"
    );
    // A context key that may change the answer is part of the key.
    let mut other = result_only;
    other["skipEmptyBuckets"] = json!(false);
    assert_eq!(
        counted(other).await,
        json!(4),
        "a different context is a different result"
    );
    assert_eq!(
        counted(json!({"useCache": false})).await,
        json!(4),
        "useCache false turns both caches off"
    );
    // A new segment changes the key: the old answer is not served any more.
    cluster
        .registry
        .add_historical(served(&segment(3, 3, 100), 1, 1));
    let mut changes = cluster.view.subscribe();
    while cluster.view.entries().len() < 2 {
        tokio::time::timeout(Duration::from_secs(10), changes.changed())
            .await
            .unwrap()
            .unwrap();
    }
    // Partition 0's current 4 rows (the runs above refilled its per-segment entry) and
    // partition 1's 3, not the 10 kept for the old set of segments.
    assert_eq!(
        counted(json!({"queryId": "c"})).await,
        json!(7),
        "a new answer for the new set of segments"
    );
    cluster.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_by_past_its_row_limit_fails_with_resource_limit_exceeded() {
    // Two segments of 1,000 distinct pages each, 2,000 distinct in all.
    let segments = vec![
        served(&segment(1_000, 1_000, 0), 0, 2),
        served(&segment(1_000, 1_000, 1_000), 1, 2),
    ];
    let node_limits = Limits {
        max_group_rows: 1_500,
        ..Limits::default()
    };
    let cluster = Cluster::start(segments, node_limits.clone()).await;
    let group_by = |context: Json, limits: &Limits| {
        parse(
            json!({"queryType": "groupBy", "dataSource": "ds",
                   "intervals": ["1970-01-01/1970-01-02"], "granularity": "all",
                   "dimensions": ["page"], "aggregations": [{"type": "count", "name": "rows"}],
                   "context": context}),
            limits,
        )
    };
    let check = |error: henge_query::QueryError| {
        assert_eq!(error.status, 400, "{error:?}");
        assert_eq!(error.error, "Resource limit exceeded");
        assert_eq!(
            error.error_class,
            "org.apache.druid.query.ResourceLimitExceededException"
        );
    };
    // Each segment fits on the data node (1,000 ≤ 1,500); the broker's merge does not.
    let merged = cluster
        .broker
        .run(&group_by(json!({}), &node_limits))
        .await
        .unwrap_err();
    check(merged);
    // The context lowers the data node's limit below one segment's groups.
    let per_segment = cluster
        .broker
        .run(&group_by(
            json!({"bufferGrouperMaxSize": 999}),
            &Limits::default(),
        ))
        .await
        .unwrap_err();
    assert!(per_segment.error_message.contains("999"), "{per_segment:?}");
    check(per_segment);
    // Under the broker's default limit the same query answers all 2,000 groups: the data
    // node never merges segments, so its own limit applies per segment only.
    let answer = cluster
        .broker
        .run(&group_by(json!({}), &Limits::default()))
        .await
        .unwrap();
    assert_eq!(answer.as_array().map(Vec::len), Some(2_000));
    cluster.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_query_stops_on_the_data_node_without_a_cancel_rpc() {
    // A client that disconnects drops the broker's future: the RPCs it had in flight are
    // reset, and the data node's ticket stops the scans.
    let cluster = slow_cluster().await;
    let broker = Arc::clone(&cluster.broker);
    let query = full_scan(json!({"queryId": "dropped", "timeout": 0}));
    let running = tokio::spawn(async move { broker.run(&query).await });
    cluster.wait_running().await;
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    cluster.wait_idle(Duration::from_secs(2)).await;
    assert!(cluster.running.interrupted() >= 1);
    assert_eq!(cluster.broker.running().running(), 0);
    quick_query_answers_within(&cluster, Duration::from_millis(1_500)).await;
    cluster.stop();
}
