//! Expression strategies: random expression strings (well-formed trees over the fixture's
//! columns and every built-in function, token soups, arbitrary text) placed in virtual
//! columns of every query type, expression filters, aggregator expressions and expression
//! post-aggregators.

use proptest::prelude::*;
use serde_json::{json, Value};

use super::Body;

const FUNCTIONS: &[&str] = &[
    "cast",
    "coalesce",
    "if",
    "nvl",
    "isnull",
    "notnull",
    "case_searched",
    "case_simple",
    "abs",
    "ceil",
    "floor",
    "round",
    "pow",
    "sqrt",
    "exp",
    "log",
    "log10",
    "sin",
    "cos",
    "tan",
    "signum",
    "greatest",
    "least",
    "max",
    "min",
    "div",
    "pi",
    "concat",
    "strlen",
    "substring",
    "left",
    "right",
    "lower",
    "upper",
    "trim",
    "ltrim",
    "rtrim",
    "replace",
    "strpos",
    "reverse",
    "repeat",
    "lpad",
    "rpad",
    "like",
    "regexp_extract",
    "regexp_like",
    "regexp_replace",
    "contains_string",
    "icontains_string",
    "parse_long",
    "timestamp",
    "unix_timestamp",
    "timestamp_floor",
    "timestamp_ceil",
    "timestamp_shift",
    "timestamp_extract",
    "timestamp_parse",
    "timestamp_format",
    "nope",
];

const IDENTIFIERS: &[&str] = &[
    "added", "delta", "page", "channel", "__time", "\"page\"", "nope", "v0", "rows", "s",
];

const LITERALS: &[&str] = &[
    "0",
    "1",
    "-1",
    "2",
    "2.5",
    "-0.0",
    "1e3",
    "1.5e-3",
    "9223372036854775807",
    "NaN",
    "Infinity",
    "null",
    "'Apple'",
    "''",
    "'%'",
    "'a%_'",
    "'(['",
    "'[0-9]+'",
    "'P1D'",
    "'PT1H'",
    "'P1M'",
    "'PT0S'",
    "'P-1D'",
    "'yyyy-MM-dd'",
    "'HH:mm'",
    "'LONG'",
    "'DOUBLE'",
    "'STRING'",
    "'HOUR'",
    "'DOW'",
    "'WEEK'",
    "'EPOCH'",
    "'+05:30'",
    "'America/Denver'",
    "'true'",
    "'2015-09-12T00:00:00Z'",
    "'\\u00e9'",
    "1442016000000",
    "-9223372036854775807",
];

const OPERATORS: &[&str] = &[
    "+", "-", "*", "/", "%", "^", "<", "<=", ">", ">=", "==", "!=", "&&", "||",
];

/// A well-formed expression tree.
fn tree() -> BoxedStrategy<String> {
    let leaf = prop_oneof![
        prop::sample::select(IDENTIFIERS).prop_map(str::to_owned),
        prop::sample::select(LITERALS).prop_map(str::to_owned),
    ];
    leaf.prop_recursive(6, 48, 4, |inner| {
        prop_oneof![
            (prop::sample::select(vec!["-", "!"]), inner.clone())
                .prop_map(|(op, operand)| format!("{op}{operand}")),
            (
                inner.clone(),
                prop::sample::select(OPERATORS),
                inner.clone()
            )
                .prop_map(|(left, op, right)| format!("({left} {op} {right})")),
            (
                prop::sample::select(FUNCTIONS),
                prop::collection::vec(inner, 0..5)
            )
                .prop_map(|(name, args)| format!("{name}({})", args.join(", "))),
        ]
    })
    .boxed()
}

/// Tokens glued together, mostly nonsense.
fn soup() -> BoxedStrategy<String> {
    let token = prop_oneof![
        prop::sample::select(IDENTIFIERS).prop_map(str::to_owned),
        prop::sample::select(LITERALS).prop_map(str::to_owned),
        prop::sample::select(OPERATORS).prop_map(str::to_owned),
        prop::sample::select(FUNCTIONS).prop_map(|name| format!("{name}(")),
        prop::sample::select(vec!["(", ")", ",", "[", "]", "'", "\"", "\\", " "])
            .prop_map(str::to_owned),
    ];
    prop::collection::vec(token, 0..24)
        .prop_map(|tokens| tokens.join(""))
        .boxed()
}

fn expression() -> BoxedStrategy<String> {
    prop_oneof![
        6 => tree(),
        3 => soup(),
        1 => any::<String>(),
        1 => (1usize..400).prop_map(|depth| format!("{}1{}", "(".repeat(depth), ")".repeat(depth))),
    ]
    .boxed()
}

fn output_type() -> BoxedStrategy<Value> {
    prop::sample::select(vec![
        json!(null),
        json!("LONG"),
        json!("DOUBLE"),
        json!("FLOAT"),
        json!("STRING"),
        json!("string"),
        json!("ARRAY<LONG>"),
    ])
    .boxed()
}

/// A query of some type reading expressions wherever they may appear.
pub fn expression_query() -> BoxedStrategy<Body> {
    (
        0u8..6,
        expression(),
        expression(),
        output_type(),
        prop::sample::select(vec!["all", "hour", "day"]),
    )
        .prop_map(|(shape, first, second, output, granularity)| {
            let virtual_columns = json!([
                {"type": "expression", "name": "v0", "expression": first, "outputType": output},
                {"type": "expression", "name": "v1", "expression": "v0", "outputType": "STRING"},
            ]);
            let filter = json!({"type": "expression", "expression": second});
            let aggregations = json!([
                {"type": "count", "name": "rows"},
                {"type": "doubleSum", "name": "s", "fieldName": "v0"},
                {"type": "longSum", "name": "added", "fieldName": "added"},
            ]);
            let mut query = json!({
                "queryType": "timeseries",
                "dataSource": "wiki",
                "intervals": ["2015-09-12/2015-09-15"],
                "granularity": granularity,
                "virtualColumns": virtual_columns,
                "filter": filter,
                "aggregations": aggregations,
            });
            match shape {
                0 => {}
                1 => {
                    query["queryType"] = json!("groupBy");
                    query["dimensions"] = json!(["v0", "v1"]);
                }
                2 => {
                    query["queryType"] = json!("topN");
                    query["dimension"] = json!("v0");
                    query["metric"] = json!("rows");
                    query["threshold"] = json!(3);
                }
                3 => {
                    query["queryType"] = json!("scan");
                    query["columns"] = json!(["v0", "v1", "page"]);
                    query["limit"] = json!(5);
                }
                4 => {
                    query["aggregations"] = json!([
                        {"type": "longSum", "name": "a", "expression": first},
                        {"type": "doubleMax", "name": "b", "expression": second},
                    ]);
                    query
                        .as_object_mut()
                        .map(|object| object.remove("virtualColumns"));
                }
                _ => {
                    query["postAggregations"] = json!([
                        {"type": "expression", "name": "p", "expression": first},
                        {"type": "expression", "name": "q", "expression": second,
                         "ordering": "numericFirst"},
                    ]);
                    query
                        .as_object_mut()
                        .map(|object| object.remove("virtualColumns"));
                    query.as_object_mut().map(|object| object.remove("filter"));
                }
            }
            Body(serde_json::to_vec(&query).expect("serialize"))
        })
        .boxed()
}
