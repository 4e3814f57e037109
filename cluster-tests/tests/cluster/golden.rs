//! Runs the golden native-query cases (`cluster-tests/cases/native/*.json`, see
//! `henge_cluster_tests::golden`) against a broker: the same files on every topology, so the
//! quickstart and the multi-process cluster must give the same answers.
//!
//! `HENGE_GOLDEN_COMPLETE=1` records Henge's answers as `expected` of the cases whose
//! `source` is not `"independent"` (only from the topology that is allowed to write, the
//! quickstart); independent cases are always compared, never rewritten.

use std::time::Instant;

use henge_cluster_tests::client::DruidClient;
use henge_cluster_tests::golden::{
    cases_dir, first_difference, first_difference_within, load_cases, normalize_segment_ids,
    COMPLETE_VAR,
};
use henge_cluster_tests::sql_cases::{load_sql_cases, sql_cases_dir};
use serde_json::{json, Value};

/// Which topology runs the cases; only the quickstart rewrites expectations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topology {
    Quickstart,
    Cluster,
}

/// Posts every case's query to `broker` and compares; panics listing every failure.
pub async fn run(broker: &DruidClient, topology: Topology) {
    let complete = std::env::var(COMPLETE_VAR).is_ok_and(|value| value == "1")
        && topology == Topology::Quickstart;
    let started = Instant::now();
    let cases = load_cases(&cases_dir());
    assert!(
        !cases.is_empty(),
        "no golden cases in {}",
        cases_dir().display()
    );
    // On the cluster every case runs twice: as written (the broker caches per segment, so
    // data nodes answer per segment), and with the cache off (data nodes merge their
    // segments' results before answering).
    let variants: &[bool] = match topology {
        Topology::Quickstart => &[false],
        Topology::Cluster => &[false, true],
    };
    let cases: Vec<(bool, _)> = cases
        .into_iter()
        .flat_map(|case| {
            variants
                .iter()
                .map(move |&uncached| (uncached, case.clone()))
        })
        .collect();
    let (mut passed, mut known, mut rewritten) = (0, 0, 0);
    let mut failures = Vec::new();
    for (uncached, mut case) in cases {
        let mut name = case.name();
        let dataset = case.dataset().to_string();
        assert!(
            matches!(dataset.as_str(), "wikipedia" | "henge-demo" | "henge-tags"),
            "{name}: unknown dataset {dataset:?}"
        );
        let mut query = case.query().clone();
        if uncached {
            // Cases about malformed queries or contexts run once.
            let Some(fields) = query.as_object_mut() else {
                continue;
            };
            let context = match fields.get("context") {
                None => serde_json::Map::new(),
                Some(Value::Object(context)) => context.clone(),
                Some(_) => continue,
            };
            let mut uncached_context = serde_json::Map::new();
            uncached_context.insert("useCache".into(), false.into());
            uncached_context.insert("populateCache".into(), false.into());
            uncached_context.extend(context);
            fields.insert("context".into(), uncached_context.into());
            name.push_str(" (cache off)");
        }
        let (status, mut actual) = broker.post("/druid/v2", &query).await;
        normalize_segment_ids(&mut actual, &dataset);
        if complete && !case.is_independent() && status == 200 {
            if first_difference(case.expected(), &actual).is_some() {
                case.rewrite_expected(actual);
                rewritten += 1;
                println!("golden [{topology:?}] rewrote {name}");
            }
            passed += 1;
            continue;
        }
        let difference = if status == 200 {
            first_difference_within(case.expected(), &actual, case.tolerance())
        } else {
            Some(format!("HTTP {status}"))
        };
        match (difference, case.known_failure()) {
            (None, None) => passed += 1,
            (None, Some(reason)) => {
                passed += 1;
                println!(
                    "golden [{topology:?}] WARNING {name} is marked known_failure ({reason}) but passes: remove the mark"
                );
            }
            (Some(_), Some(reason)) => {
                known += 1;
                println!("golden [{topology:?}] WARNING skipping known failure {name}: {reason}");
            }
            (Some(difference), None) => {
                failures.push(report(&name, &case.document, difference, status, &actual))
            }
        }
    }
    println!(
        "golden [{topology:?}]: {passed} passed, {} failed, {known} known failures, {rewritten} rewritten in {:?}",
        failures.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} golden case(s) failed on {topology:?}:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn report(name: &str, document: &Value, difference: String, status: u16, actual: &Value) -> String {
    let pretty = |value: &Value| serde_json::to_string_pretty(value).unwrap_or_default();
    format!(
        "=== {name}: {}\nfirst difference: {difference}\nquery:\n{}\nexpected:\n{}\nactual (HTTP {status}):\n{}",
        document["description"].as_str().unwrap_or_default(),
        pretty(&document["query"]),
        pretty(&document["expected"]),
        pretty(actual),
    )
}

/// Posts every golden SQL case (`cluster-tests/cases/sql/*.slt`) to `broker`'s
/// `/druid/v2/sql` with `resultFormat: "array"` and compares the rows; panics listing every
/// failure.
pub async fn run_sql(broker: &DruidClient, topology: Topology) {
    let started = Instant::now();
    let cases = load_sql_cases(&sql_cases_dir());
    assert!(
        !cases.is_empty(),
        "no SQL cases in {}",
        sql_cases_dir().display()
    );
    let mut failures = Vec::new();
    for case in &cases {
        let mut request = json!({"query": case.sql, "resultFormat": "array"});
        if let Some(context) = &case.context {
            request["context"] = context.clone();
        }
        let (status, actual) = broker.post("/druid/v2/sql", &request).await;
        let expected = case.expected_json();
        let difference = if status == 200 {
            first_difference_within(&expected, &actual, case.tolerance)
        } else {
            Some(format!("HTTP {status}"))
        };
        if let Some(difference) = difference {
            failures.push(format!(
                "=== {}\nfirst difference: {difference}\nsql: {}\nexpected: {expected}\nactual (HTTP {status}): {actual}",
                case.name, case.sql
            ));
        }
    }
    println!(
        "golden SQL [{topology:?}]: {} passed, {} failed in {:?}",
        cases.len() - failures.len(),
        failures.len(),
        started.elapsed()
    );
    assert!(
        failures.is_empty(),
        "{} golden SQL case(s) failed on {topology:?}:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
