//! The whole path across processes on a real etcd: coordinator+overlord, broker, two
//! historicals and a realtime node, started in reverse dependency order to show that start
//! order does not matter.

use std::time::Duration;

use henge_cluster_tests::client::DruidClient;
use henge_cluster_tests::process::{free_port, server_args, HengeProcess};
use henge_cluster_tests::wikiticker::{self, shared_data_dir, Expected};
use henge_coordination::testing::EtcdServer;

use crate::flows;
use crate::golden::{self, Topology};
use crate::lookups;
use crate::sql;
use crate::sys_tables::{self, Node};

const HEALTHY: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_on_etcd_serves_wikiticker_push_and_survives_restart() {
    let expected = Expected::compute();
    let etcd = EtcdServer::start().await;
    let work = tempfile::tempdir().expect("tempdir");
    let inputs = work.path().join("inputs");
    std::fs::create_dir_all(&inputs).expect("inputs dir");
    let spec = etcd.spec();
    let allowed = [shared_data_dir(), inputs.clone()].map(|dir| dir.display().to_string());
    let node_args = |roles: &str, name: &str| -> Vec<String> {
        server_args(
            roles,
            &spec,
            work.path(),
            name,
            &[
                "--allow-dir",
                &allowed[0],
                "--allow-dir",
                &allowed[1],
                "--push-handoff-grace-ms",
                "500",
            ],
        )
    };
    // Reverse dependency order: every role waits for its peers.
    let mut broker = HengeProcess::start(
        "broker",
        &node_args("broker", "broker"),
        free_port(),
        work.path(),
    );
    let mut historical_a = HengeProcess::start(
        "historical-a",
        &node_args("historical", "historical-a"),
        free_port(),
        work.path(),
    );
    let mut historical_b = HengeProcess::start(
        "historical-b",
        &node_args("historical", "historical-b"),
        free_port(),
        work.path(),
    );
    let mut realtime = HengeProcess::start(
        "realtime",
        &node_args("realtime", "realtime"),
        free_port(),
        work.path(),
    );
    let mut master = HengeProcess::start(
        "master",
        &node_args("coordinator,overlord", "master"),
        free_port(),
        work.path(),
    );
    for process in [
        &mut broker,
        &mut historical_a,
        &mut historical_b,
        &mut realtime,
        &mut master,
    ] {
        process.wait_healthy(HEALTHY).await;
    }
    let broker_client = DruidClient::new(&broker.url);
    let master_client = DruidClient::new(&master.url);
    let realtime_client = DruidClient::new(&realtime.url);
    let historical_clients = [
        DruidClient::new(&historical_a.url),
        DruidClient::new(&historical_b.url),
    ];
    let query_nodes = [
        &broker_client,
        &historical_clients[0],
        &historical_clients[1],
        &realtime_client,
    ];

    flows::ingest_wikiticker(&master_client, &broker_client, &expected).await;
    wikiticker::check(&broker_client, &expected).await;
    flows::ingest_demo(&master_client, &broker_client, &inputs).await;
    flows::ingest_tags(&master_client, &broker_client, &inputs).await;
    lookups::register(&master_client, &query_nodes).await;
    golden::run(&broker_client, Topology::Cluster).await;
    golden::run_sql(&broker_client, Topology::Cluster).await;
    sql::formats_and_errors(&broker_client).await;
    let nodes = [
        Node {
            port: master.port,
            types: &["coordinator", "overlord"],
        },
        Node {
            port: broker.port,
            types: &["broker"],
        },
        Node {
            port: historical_a.port,
            types: &["historical"],
        },
        Node {
            port: historical_b.port,
            types: &["historical"],
        },
        Node {
            port: realtime.port,
            types: &["indexer"],
        },
    ];
    sys_tables::check(
        &broker_client,
        &nodes,
        &[historical_a.port, historical_b.port],
    )
    .await;
    lookups::check(&master_client, &broker_client, &query_nodes).await;
    flows::bad_input(&broker_client, &master_client).await;
    flows::parse_exceptions(&master_client, &broker_client, &inputs).await;
    flows::push_and_handoff(&realtime_client, &master_client, &broker_client).await;
    flows::push_sketches(&realtime_client, &broker_client).await;
    let pushed = broker_client.query(&flows::count_query("pushed")).await;
    // Acknowledged rows still in realtime memory survive a graceful stop.
    flows::push_live(&realtime_client, &broker_client).await;

    // Graceful stop of every role, then restart in reverse order.
    let mut all = [master, realtime, historical_b, historical_a, broker];
    for process in all.iter_mut() {
        let status = process.terminate();
        assert!(
            status.success(),
            "{} exited with {status}:\n{}",
            process.name,
            process.log_tail()
        );
    }
    for process in all.iter_mut().rev() {
        process.restart();
    }
    for process in all.iter_mut() {
        process.wait_healthy(HEALTHY).await;
    }
    flows::wait_for_rows(&broker_client, wikiticker::DATASOURCE, expected.rows).await;
    wikiticker::check(&broker_client, &expected).await;
    lookups::wait_loaded(&query_nodes, &lookups::updated_map()).await;
    assert_eq!(
        broker_client.query(&flows::count_query("pushed")).await,
        pushed
    );
    flows::wait_for_rows(&broker_client, flows::LIVE, 10).await;
}
