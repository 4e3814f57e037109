//! Property tests: the SQL front end answers any text, any mutation of a valid query, any
//! grammar-shaped query over wikipedia's columns (random clause combinations, random token
//! runs, truncations, deep nesting) and any parameter list (INFORMATION_SCHEMA and EXPLAIN
//! included) with a plan, rows or an `SqlError`, never a panic; and every plan it makes is a
//! valid native query whose rows convert. The ignored `million_inputs_never_panic` runs all of
//! them a million times (in release; the README's testing section has the command).

mod grammar;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

use crate::{plan, prepare, MapCatalog, SqlType};

const SEEDS: &[&str] = &[
    "SELECT COUNT(*), SUM(added) FROM t WHERE s = 'a' AND n > 3",
    "SELECT s, COUNT(*) AS c FROM t GROUP BY s ORDER BY c DESC LIMIT 5",
    "SELECT FLOOR(__time TO HOUR), AVG(d) FROM t WHERE __time BETWEEN TIMESTAMP '2015-09-12' AND TIMESTAMP '2015-09-13' GROUP BY 1",
    "SELECT __time, s, n * 2 FROM t WHERE s IN ('a', 'b') OR s LIKE 'x%' ORDER BY __time DESC LIMIT 3 OFFSET 1",
    "SELECT s, n, COUNT(*) FILTER (WHERE d IS NULL) FROM t GROUP BY 1, 2 HAVING COUNT(*) > ? ORDER BY 3",
    "SELECT DISTINCT UPPER(s) || '-' FROM t WHERE NOT n BETWEEN -1 AND ?",
    "SELECT TABLE_NAME AS x, COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME IN ('t') AND NOT COLUMN_NAME LIKE '_%' ORDER BY 2 DESC, x LIMIT 3 OFFSET 1",
    "EXPLAIN PLAN FOR SELECT s, COUNT(*) FROM t WHERE n >= 2 OR d IS NOT NULL GROUP BY s",
    "SELECT TIME_FLOOR(__time, 'PT6H', TIMESTAMP '2015-09-12 03:00:00', 'Asia/Kolkata'), SUBSTRING(s, 2, 3), COUNT(*) FROM t WHERE __time >= TIMESTAMP '2015-09-12' - INTERVAL '1' DAY GROUP BY 1, 2",
    "SELECT CASE WHEN n > 1 THEN 'a' ELSE COALESCE(s, 'b') END AS c, SUM(SAFE_DIVIDE(n, added)) FROM t WHERE REGEXP_LIKE(s, '^a') AND n < added GROUP BY 1",
    "SELECT TIMESTAMPDIFF(MONTH, __time, CURRENT_TIMESTAMP), CAST(__time AS DATE), TRIM(LEADING 'x' FROM s), STRPOS(s, 'a'), ROUND(d, 1) FROM t ORDER BY __time LIMIT 2",
];

fn catalog() -> MapCatalog {
    let mut catalog = MapCatalog::default();
    catalog.insert(
        "wikipedia",
        grammar::WIKIPEDIA
            .iter()
            .map(|(name, sql_type)| ((*name).to_owned(), sql_type.clone()))
            .collect(),
    );
    catalog.insert(
        "t",
        vec![
            ("__time".into(), SqlType::Timestamp),
            ("s".into(), SqlType::Varchar),
            ("n".into(), SqlType::Bigint),
            ("added".into(), SqlType::Bigint),
            ("d".into(), SqlType::Double),
        ],
    );
    catalog
}

fn parameter() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(|value| json!({"type": "BIGINT", "value": value})),
        any::<f64>().prop_map(|value| json!({"type": "DOUBLE", "value": value})),
        ".{0,8}".prop_map(|value| json!({"type": "VARCHAR", "value": value})),
        ".{0,8}".prop_map(|value| json!({"type": "TIMESTAMP", "value": value})),
        Just(json!({"type": "NOPE"})),
        Just(json!(3)),
    ]
}

/// A seed query with a slice replaced by arbitrary text.
fn mutated() -> impl Strategy<Value = String> {
    (
        0..SEEDS.len(),
        any::<prop::sample::Index>(),
        0usize..12,
        "[ -~]{0,12}",
    )
        .prop_map(|(seed, at, length, insert)| {
            let seed = SEEDS[seed];
            let start = at.index(seed.len() + 1);
            let end = (start + length).min(seed.len());
            format!("{}{insert}{}", &seed[..start], &seed[end..])
        })
}

/// Prepares and plans `sql` on a thread with the server's stack (deeply nested inputs need
/// it); a planned query must be one the native parser accepts.
fn check(sql: &str, parameters: &[Value]) {
    let (sql, parameters) = (sql.to_owned(), parameters.to_vec());
    crate::tests_support::on_server_stack(move || check_here(&sql, &parameters));
}

fn check_here(sql: &str, parameters: &[Value]) {
    let _ = prepare(sql, parameters, &Map::new(), &catalog());
    if let Ok(planned) = plan(sql, parameters, &Map::new(), &catalog()) {
        let bytes = serde_json::to_vec(&planned.native).expect("serializable");
        assert!(
            henge_query::parse_query(&bytes, &henge_query::Limits::default()).is_ok(),
            "{sql} planned an invalid native query: {}",
            planned.native
        );
        let _ = planned.rows(&json!([{"timestamp": 0, "result": {}, "event": {}}]));
    }
}

/// Any of the inputs above.
fn any_input() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,80}",
        mutated(),
        grammar::query(),
        grammar::tokens(),
        grammar::truncated(),
        grammar::nested(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn grammar_queries_never_panic(sql in grammar::query(), parameters in prop::collection::vec(parameter(), 0..2)) {
        check(&sql, &parameters);
    }

    #[test]
    fn tokens_truncations_and_nesting_never_panic(sql in prop_oneof![grammar::tokens(), grammar::truncated(), grammar::nested()]) {
        check(&sql, &[]);
    }

    #[test]
    fn arbitrary_text_never_panics(sql in ".{0,80}", parameters in prop::collection::vec(parameter(), 0..3)) {
        check(&sql, &parameters);
    }

    #[test]
    fn mutated_queries_never_panic(sql in mutated(), parameters in prop::collection::vec(parameter(), 0..3)) {
        check(&sql, &parameters);
    }
}

/// A million inputs (or `HENGE_SQL_FUZZ_CASES`) from every strategy; prints the count and the
/// seconds taken.
#[test]
#[ignore = "long: run in release, see the README's testing section"]
fn million_inputs_never_panic() {
    let cases = std::env::var("HENGE_SQL_FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000_000);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let started = std::time::Instant::now();
    let inputs = (any_input(), prop::collection::vec(parameter(), 0..3));
    let trace = std::env::var_os("HENGE_SQL_FUZZ_TRACE").is_some();
    let outcome = runner.run(&inputs, |(sql, parameters)| {
        if trace {
            eprintln!("input: {sql}");
        }
        check(&sql, &parameters);
        Ok(())
    });
    println!(
        "SQL fuzz: {cases} inputs in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Err(failure) = outcome {
        panic!("{failure}");
    }
}

/// Inputs the fuzz found: an alias bouncing between `"user"` and the `*` column `user`, a
/// double literal in exponent form, long OR and AND chains.
#[test]
fn found_inputs_are_answered() {
    let inputs = [
        "SELECT \"user\", COUNT(*) AS c, * FROM wikipedia ORDER BY 1".into(),
        "SELECT UPPER(99999999999999999999), SUM(added) * 1e20 FROM wikipedia".into(),
        format!(
            "SELECT COUNT(*) FROM wikipedia WHERE added = 0{}",
            " OR added = 1".repeat(300)
        ),
        format!(
            "SELECT COUNT(*) FROM wikipedia WHERE added = 0{}",
            " AND added = 1".repeat(300)
        ),
    ];
    for sql in &inputs {
        check(sql, &[]);
    }
}
