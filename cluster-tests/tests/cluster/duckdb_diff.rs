//! The SQL differential test against DuckDB (`cluster-tests/python/test_duckdb_diff.py`) and
//! the `arrow` result format read by pyarrow (`cluster-tests/python/test_arrow.py`), both on
//! a quickstart with wikiticker loaded.

use std::time::Duration;

use henge_cluster_tests::client::DruidClient;
use henge_cluster_tests::process::{free_port, quickstart_args, HengeProcess};
use henge_cluster_tests::wikiticker::{shared_data_dir, Expected};

use crate::flows;
use crate::pydruid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duckdb_diff_and_arrow_agree_with_the_raw_file() {
    let expected = Expected::compute();
    let work = tempfile::tempdir().expect("tempdir");
    let shared = shared_data_dir().display().to_string();
    let args = quickstart_args(work.path(), 0, &["--allow-dir", &shared]);
    let mut node = HengeProcess::start("quickstart", &args, free_port(), work.path());
    node.wait_healthy(Duration::from_secs(60)).await;
    let client = DruidClient::new(&node.url);
    flows::ingest_wikiticker(&client, &client, &expected).await;
    pydruid::run_script("test_arrow.py", &node.url);
    pydruid::run_script("test_duckdb_diff.py", &node.url);
}
