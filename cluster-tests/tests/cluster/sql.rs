//! Druid SQL over HTTP beyond the golden rows: each result format's exact framing and
//! header rows, `X-Druid-SQL-Query-Id`, dynamic parameters and the SQL error body. Counts
//! were computed from the raw wikiticker file (de 2,523 and fr 2,099 edits; ko 533 edits
//! adding 66,075).

use henge_cluster_tests::client::DruidClient;
use serde_json::{json, Value};

const PATH: &str = "/druid/v2/sql";

/// Runs every check against a broker holding the wikiticker data as `wikipedia`.
pub async fn formats_and_errors(broker: &DruidClient) {
    let channels = "SELECT channel, COUNT(*) AS edits FROM wikipedia \
                    WHERE channel IN ('#de.wikipedia', '#fr.wikipedia') GROUP BY channel";
    let text = |format: &str, header: bool| {
        json!({"query": channels, "resultFormat": format, "header": header,
               "typesHeader": header, "sqlTypesHeader": header})
    };
    let cases = [
        (
            text("object", false),
            "application/json",
            "[{\"channel\":\"#de.wikipedia\",\"edits\":2523},{\"channel\":\"#fr.wikipedia\",\"edits\":2099}]\n",
        ),
        (
            text("object", true),
            "application/json",
            "[{\"channel\":{\"type\":\"STRING\",\"sqlType\":\"VARCHAR\"},\"edits\":{\"type\":\"LONG\",\"sqlType\":\"BIGINT\"}},\
             {\"channel\":\"#de.wikipedia\",\"edits\":2523},{\"channel\":\"#fr.wikipedia\",\"edits\":2099}]\n",
        ),
        (
            text("array", false),
            "application/json",
            "[[\"#de.wikipedia\",2523],[\"#fr.wikipedia\",2099]]\n",
        ),
        (
            text("objectLines", false),
            "text/plain",
            "{\"channel\":\"#de.wikipedia\",\"edits\":2523}\n{\"channel\":\"#fr.wikipedia\",\"edits\":2099}\n\n",
        ),
        (
            text("arrayLines", true),
            "text/plain",
            "[\"channel\",\"edits\"]\n[\"STRING\",\"LONG\"]\n[\"VARCHAR\",\"BIGINT\"]\n\
             [\"#de.wikipedia\",2523]\n[\"#fr.wikipedia\",2099]\n\n",
        ),
        (
            text("csv", true),
            "text/csv",
            "channel,edits\nSTRING,LONG\nVARCHAR,BIGINT\n#de.wikipedia,2523\n#fr.wikipedia,2099\n\n",
        ),
    ];
    for (request, content_type, expected) in cases {
        let (status, headers, body) = broker.post_text(PATH, &request).await;
        assert_eq!(status, 200, "{request}: {body}");
        assert_eq!(body, expected, "{request}");
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned()
        };
        assert!(
            header("content-type").starts_with(content_type),
            "{request}"
        );
        assert_eq!(
            header("x-druid-sql-query-id").len(),
            36,
            "{request}: a UUID"
        );
        let included = if request["header"] == json!(true) {
            "yes"
        } else {
            ""
        };
        assert_eq!(header("x-druid-sql-header-included"), included, "{request}");
    }

    // The context's sqlQueryId names the query; parameters bind in order.
    let request = json!({
        "query": "SELECT COUNT(*) AS edits, SUM(added) AS added FROM wikipedia WHERE channel = ? AND __time >= ?",
        "parameters": [{"type": "VARCHAR", "value": "#ko.wikipedia"},
                       {"type": "TIMESTAMP", "value": "2015-09-12 00:00:00"}],
        "context": {"sqlQueryId": "sql-test-ko"},
    });
    let (status, headers, body) = broker.post_text(PATH, &request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, "[{\"edits\":533,\"added\":66075}]\n");
    assert_eq!(headers["x-druid-sql-query-id"], "sql-test-ko");

    // Errors: Druid's SQL error body with 400, never a native-query error or a 500.
    let errors = [
        (
            "SELEC COUNT(*) FROM wikipedia",
            "Received an unexpected token [SELEC] (line [1], column [1]), acceptable options: [",
        ),
        (
            "SELECT COUNT(*) FROM nope",
            "Object 'nope' not found (line [1], column [22])",
        ),
        (
            "SELECT nope FROM wikipedia",
            "Column 'nope' not found in any table (line [1], column [8])",
        ),
        (
            "SELECT * FROM sys.nope",
            "Object 'nope' not found within 'sys' (line [1], column [19])",
        ),
        (
            "SELECT a.page FROM wikipedia a RIGHT JOIN wikipedia b ON a.page = b.page",
            "Query could not be planned",
        ),
    ];
    for (sql, message) in errors {
        let (status, headers, body) = broker.post_text(PATH, &json!({"query": sql})).await;
        assert_eq!(status, 400, "{sql}: {body}");
        let body: Value = serde_json::from_str(&body).expect("JSON error body");
        assert_eq!(body["error"], "druidException", "{sql}");
        assert_eq!(body["errorCode"], "invalidInput", "{sql}");
        assert_eq!(body["category"], "INVALID_INPUT", "{sql}");
        assert_eq!(body["persona"], "USER", "{sql}");
        let text = body["errorMessage"].as_str().unwrap_or_default();
        assert!(text.contains(message), "{sql}: {text}");
        assert!(headers.contains_key("x-druid-sql-query-id"), "{sql}");
    }
    let (status, _, body) = broker
        .post_text(
            PATH,
            &json!({"query": "SELECT 1 FROM wikipedia", "resultFormat": "xml"}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    // A broadcast right side larger than maxSubqueryRows fails the query, never truncated.
    let (status, _, body) = broker
        .post_text(
            PATH,
            &json!({"query": "SELECT COUNT(*) FROM wikipedia a JOIN wikipedia b ON a.page = b.page",
                    "context": {"maxSubqueryRows": 1000}}),
        )
        .await;
    assert!(
        body.contains("Subquery generated results beyond maximum[1000]"),
        "{status}: {body}"
    );
    explain(broker).await;
    // Cancelling a SQL query id that is not running: 404, as Druid.
    let (status, _) = broker.delete("/druid/v2/sql/no-such-sql-query").await;
    assert_eq!(status, 404);
}

/// `EXPLAIN PLAN FOR`: one row whose PLAN is the native query that the same SELECT runs, and
/// running that native query gives the SELECT's answer (de 2,523 edits).
async fn explain(broker: &DruidClient) {
    let select = "SELECT COUNT(*) AS edits FROM wikipedia WHERE channel = '#de.wikipedia'";
    let (status, _, body) = broker
        .post_text(
            PATH,
            &json!({"query": format!("EXPLAIN PLAN FOR {select}"), "resultFormat": "array",
                    "header": true}),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let rows: Value = serde_json::from_str(&body).expect("JSON rows");
    assert_eq!(
        rows[0],
        json!(["PLAN", "RESOURCES", "ATTRIBUTES"]),
        "{body}"
    );
    assert_eq!(
        rows[1][1],
        "[{\"name\":\"wikipedia\",\"type\":\"DATASOURCE\"}]"
    );
    assert_eq!(rows[1][2], "{\"statementType\":\"SELECT\"}");
    let plan: Value =
        serde_json::from_str(rows[1][0].as_str().expect("PLAN text")).expect("PLAN is JSON");
    let native = &plan[0]["query"];
    assert_eq!(native["queryType"], "timeseries", "{plan}");
    assert_eq!(
        plan[0]["signature"],
        json!([{"name": "a0", "type": "LONG"}])
    );
    let (status, _, answer) = broker.post_text("/druid/v2", native).await;
    assert_eq!(status, 200, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("native JSON");
    assert_eq!(answer[0]["result"]["a0"], 2523, "{answer}");
}
