//! JOIN, VALUES and `lookup.<name>` tables planned to native join, inline and lookup data
//! sources, checked against hand-written native JSON.

use serde_json::{json, Map, Value};

use crate::tests_support::catalog_of;
use crate::{plan, MapCatalog, SqlType};

const ETERNITY: &str = "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z";

fn catalog() -> MapCatalog {
    let mut catalog = catalog_of(&[(
        "wikipedia",
        &[
            ("__time", SqlType::Timestamp),
            ("channel", SqlType::Varchar),
            ("page", SqlType::Varchar),
            ("countryIsoCode", SqlType::Varchar),
            ("added", SqlType::Bigint),
        ],
    )]);
    catalog.set_lookups(vec!["countries".into()]);
    catalog
}

fn native(sql: &str) -> Value {
    plan(sql, &[], &Map::new(), &catalog())
        .unwrap_or_else(|error| panic!("{sql}: {error}"))
        .native
}

fn error(sql: &str) -> String {
    plan(sql, &[], &Map::new(), &catalog()).unwrap_err().message
}

#[test]
fn join_to_a_grouped_subquery_is_a_join_data_source_with_a_query_right_side() {
    let query = native(
        "SELECT w.channel, SUM(t.edits) AS s FROM wikipedia w \
         JOIN (SELECT page, COUNT(*) AS edits FROM wikipedia GROUP BY page) t \
         ON w.page = t.page GROUP BY w.channel",
    );
    let source = &query["dataSource"];
    assert_eq!(source["type"], "join");
    assert_eq!(
        source["left"],
        json!({"type": "table", "name": "wikipedia"})
    );
    assert_eq!(source["rightPrefix"], "j0.");
    assert_eq!(source["joinType"], "INNER");
    assert_eq!(source["condition"], "(\"page\" == \"j0.d0\")");
    assert_eq!(source["right"]["type"], "query");
    assert_eq!(source["right"]["query"]["queryType"], "groupBy");
    assert_eq!(
        query["aggregations"],
        json!([{"type": "longSum", "name": "a0", "fieldName": "j0.a0"}])
    );
}

#[test]
fn a_table_on_the_right_is_a_scan_of_only_the_columns_read() {
    let query = native(
        "SELECT a.page, b.channel FROM wikipedia a LEFT JOIN wikipedia b \
         ON a.page = b.page AND a.added = b.added WHERE b.channel = '#fr'",
    );
    let source = &query["dataSource"];
    assert_eq!(source["joinType"], "LEFT");
    assert_eq!(
        source["condition"],
        "(\"page\" == \"j0.page\") && (\"added\" == \"j0.added\")"
    );
    assert_eq!(
        source["right"],
        json!({"type": "query", "query": {
            "queryType": "scan",
            "dataSource": {"type": "table", "name": "wikipedia"},
            "intervals": {"type": "intervals", "intervals": [ETERNITY]},
            "resultFormat": "compactedList",
            "columns": ["channel", "page", "added"],
        }})
    );
    assert_eq!(query["columns"], json!(["page", "j0.channel"]));
    assert_eq!(query["filter"]["column"], "j0.channel");
}

#[test]
fn lookup_tables_join_and_read_alone() {
    let query = native(
        "SELECT l.v, COUNT(*) FROM wikipedia w JOIN lookup.countries l \
         ON w.countryIsoCode = l.k GROUP BY l.v",
    );
    assert_eq!(
        query["dataSource"]["right"],
        json!({"type": "lookup", "lookup": "countries"})
    );
    assert_eq!(
        query["dataSource"]["condition"],
        "(\"countryIsoCode\" == \"j0.k\")"
    );
    let alone = native("SELECT k, v FROM lookup.countries");
    assert_eq!(
        alone["dataSource"],
        json!({"type": "lookup", "lookup": "countries"})
    );
    assert_eq!(alone["columns"], json!(["k", "v"]));
    assert!(error("SELECT k FROM lookup.nope").contains("lookup.nope"));
}

#[test]
fn values_are_an_inline_data_source() {
    let query = native(
        "SELECT x, SUM(y) FROM (VALUES ('a', 1), ('b', 2.5), ('a', NULL)) AS t(x, y) GROUP BY x",
    );
    assert_eq!(
        query["dataSource"],
        json!({"type": "inline", "columnNames": ["x", "y"], "columnTypes": ["STRING", "DOUBLE"],
               "rows": [["a", 1.0], ["b", 2.5], ["a", null]]})
    );
    let joined = native(
        "SELECT t.name, COUNT(*) FROM wikipedia w \
         JOIN (VALUES ('#en', 'English')) AS t(chan, name) ON t.chan = w.channel GROUP BY 1",
    );
    assert_eq!(joined["dataSource"]["right"]["type"], "inline");
    assert_eq!(
        joined["dataSource"]["condition"],
        "(\"channel\" == \"j0.chan\")"
    );
}

#[test]
fn second_joins_take_the_next_prefix_and_wrap_the_first() {
    let query = native(
        "SELECT c.v, COUNT(*) FROM wikipedia w \
         JOIN lookup.countries c ON w.countryIsoCode = c.k \
         LEFT JOIN (VALUES ('Italy', 1)) AS r(country, rank) ON c.v = r.country \
         GROUP BY c.v",
    );
    let source = &query["dataSource"];
    assert_eq!(source["rightPrefix"], "_j0.");
    assert_eq!(source["left"]["type"], "join");
    assert_eq!(source["left"]["rightPrefix"], "j0.");
    assert_eq!(source["condition"], "(\"j0.v\" == \"_j0.country\")");
}

#[test]
fn unsupported_joins_are_refused() {
    for sql in [
        "SELECT * FROM wikipedia a RIGHT JOIN wikipedia b ON a.page = b.page",
        "SELECT * FROM wikipedia a FULL JOIN wikipedia b ON a.page = b.page",
        "SELECT * FROM wikipedia a CROSS JOIN wikipedia b",
        "SELECT a.page FROM wikipedia a JOIN wikipedia b ON a.added > b.added",
        "SELECT a.page FROM wikipedia a JOIN wikipedia b ON a.page = b.page OR a.added = 1",
        "SELECT a.page FROM wikipedia a JOIN wikipedia b USING (page)",
        "SELECT a.page FROM wikipedia a JOIN wikipedia b ON a.page = 'x'",
    ] {
        let message = error(sql);
        assert!(message.contains("not supported"), "{sql}: {message}");
    }
}
