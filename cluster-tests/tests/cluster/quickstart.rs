//! The whole path in one `henge quickstart` process.

use std::time::Duration;

use henge_cluster_tests::client::DruidClient;
use henge_cluster_tests::process::{free_port, quickstart_args, HengeProcess};
use henge_cluster_tests::wikiticker::{self, shared_data_dir, Expected};
use serde_json::json;

use crate::flows;
use crate::golden::{self, Topology};
use crate::lookups;
use crate::pydruid;
use crate::sql;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quickstart_serves_wikiticker_push_and_survives_restart() {
    let expected = Expected::compute();
    let work = tempfile::tempdir().expect("tempdir");
    let inputs = work.path().join("inputs");
    std::fs::create_dir_all(&inputs).expect("inputs dir");
    let (shared, inputs_dir) = (
        shared_data_dir().display().to_string(),
        inputs.display().to_string(),
    );
    let args = quickstart_args(
        work.path(),
        flows::DEMO_ROWS,
        &[
            "--allow-dir",
            &shared,
            "--allow-dir",
            &inputs_dir,
            "--push-handoff-grace-ms",
            "500",
        ],
    );
    let mut node = HengeProcess::start("quickstart", &args, free_port(), work.path());
    node.wait_healthy(Duration::from_secs(60)).await;
    let client = DruidClient::new(&node.url);

    // The generated demo datasource is loaded at start.
    flows::wait_for_rows(&client, "henge-demo", flows::DEMO_ROWS as u64).await;

    flows::ingest_wikiticker(&client, &client, &expected).await;
    wikiticker::check(&client, &expected).await;
    flows::result_cache_repeats(&client).await;
    flows::ingest_tags(&client, &client, &inputs).await;
    lookups::register(&client, &[&client]).await;
    golden::run(&client, Topology::Quickstart).await;
    golden::run_sql(&client, Topology::Quickstart).await;
    sql::formats_and_errors(&client).await;
    lookups::check(&client, &client, &[&client]).await;
    pydruid::run(&node.url);
    flows::bad_input(&client, &client).await;
    flows::parse_exceptions(&client, &client, &inputs).await;
    flows::push_and_handoff(&client, &client, &client).await;
    flows::push_sketches(&client, &client).await;
    let pushed = client.query(&flows::count_query("pushed")).await;
    // Acknowledged rows still in realtime memory survive a graceful stop.
    flows::push_live(&client, &client).await;

    let status = node.terminate();
    assert!(
        status.success(),
        "quickstart exited with {status}:\n{}",
        node.log_tail()
    );
    node.restart();
    node.wait_healthy(Duration::from_secs(60)).await;
    flows::wait_for_rows(&client, wikiticker::DATASOURCE, expected.rows).await;
    wikiticker::check(&client, &expected).await;
    lookups::wait_loaded(&[&client], &lookups::updated_map()).await;
    assert_eq!(client.query(&flows::count_query("pushed")).await, pushed);
    flows::wait_for_rows(&client, flows::LIVE, 10).await;
    let (_, status) = client.get("/status").await;
    assert_eq!(status["henge"]["ready"], json!(true), "{status}");
    let probes = [
        (
            "/status/selfDiscovered/status",
            json!({"selfDiscovered": true}),
        ),
        (
            "/druid/broker/v1/loadstatus",
            json!({"inventoryInitialized": true}),
        ),
        (
            "/druid/historical/v1/loadstatus",
            json!({"cacheInitialized": true}),
        ),
        ("/druid/coordinator/v1/leader", json!(node.url)),
        ("/druid/indexer/v1/leader", json!(node.url)),
    ];
    for (path, expected) in probes {
        assert_eq!(client.get(path).await, (200, expected), "{path}");
    }
}
