//! Grammar-aware fuzz strategies over wikipedia's columns: random combinations of SELECT
//! clauses (DISTINCT, expressions, aggregates with FILTER, WHERE trees, GROUP BY, HAVING,
//! ORDER BY, LIMIT, OFFSET, EXPLAIN), runs of random SQL tokens, truncations of generated
//! queries and deeply nested expressions.

use proptest::prelude::*;

use crate::SqlType;

/// Wikipedia's columns as `wikipedia-index.json` ingests them.
pub const WIKIPEDIA: &[(&str, SqlType)] = &[
    ("__time", SqlType::Timestamp),
    ("channel", SqlType::Varchar),
    ("cityName", SqlType::Varchar),
    ("comment", SqlType::Varchar),
    ("countryIsoCode", SqlType::Varchar),
    ("countryName", SqlType::Varchar),
    ("isAnonymous", SqlType::Varchar),
    ("isMinor", SqlType::Varchar),
    ("isNew", SqlType::Varchar),
    ("isRobot", SqlType::Varchar),
    ("isUnpatrolled", SqlType::Varchar),
    ("metroCode", SqlType::Varchar),
    ("namespace", SqlType::Varchar),
    ("page", SqlType::Varchar),
    ("regionIsoCode", SqlType::Varchar),
    ("regionName", SqlType::Varchar),
    ("user", SqlType::Varchar),
    ("added", SqlType::Bigint),
    ("deleted", SqlType::Bigint),
    ("delta", SqlType::Bigint),
];

const COLUMNS: &[&str] = &[
    "__time",
    "channel",
    "cityName",
    "comment",
    "countryName",
    "isRobot",
    "isNew",
    "metroCode",
    "namespace",
    "page",
    "\"user\"",
    "added",
    "deleted",
    "delta",
    "nope",
];
const NUMBERS: &[&str] = &[
    "added",
    "deleted",
    "delta",
    "metroCode",
    "__time",
    "channel",
];
const LITERALS: &[&str] = &[
    "0",
    "1",
    "-7",
    "100.5",
    "1e3",
    "'a'",
    "'#en.wikipedia'",
    "''",
    "'true'",
    "NULL",
    "TRUE",
    "FALSE",
    "?",
    "TIMESTAMP '2015-09-12 12:00:00'",
    "TIMESTAMP 'nope'",
    "'%a_'",
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
];
const AGGREGATES: &[&str] = &[
    "COUNT",
    "SUM",
    "MIN",
    "MAX",
    "AVG",
    "APPROX_COUNT_DISTINCT",
    "EARLIEST",
    "NOPE",
];
const FUNCTIONS: &[&str] = &["UPPER", "LOWER", "CHAR_LENGTH", "ABS", "CONCAT", "NOPE"];
const UNITS: &[&str] = &["HOUR", "DAY", "MINUTE", "MONTH", "YEAR", "WEEK", "SECOND"];
const COMPARISONS: &[&str] = &["=", "<>", "!=", "<", "<=", ">", ">="];
const ARITHMETIC: &[&str] = &["+", "-", "*", "/", "%", "||"];
const TOKENS: &[&str] = &[
    "SELECT",
    "JOIN",
    "LEFT",
    "ON",
    "VALUES",
    "lookup.languages",
    "FROM",
    "wikipedia",
    "INFORMATION_SCHEMA.COLUMNS",
    "WHERE",
    "GROUP",
    "BY",
    "HAVING",
    "ORDER",
    "LIMIT",
    "OFFSET",
    "DISTINCT",
    "AS",
    "AND",
    "OR",
    "NOT",
    "IN",
    "BETWEEN",
    "LIKE",
    "ESCAPE",
    "IS",
    "NULL",
    "ASC",
    "DESC",
    "FILTER",
    "(",
    ")",
    ",",
    "*",
    "+",
    "-",
    "/",
    "=",
    "<",
    ">",
    "?",
    "'x'",
    "1",
    "2.5",
    "CAST",
    "DOUBLE",
    "BIGINT",
    "FLOOR",
    "TO",
    "HOUR",
    "TIME_FLOOR",
    "'PT1H'",
    "COUNT",
    "SUM",
    "EXPLAIN",
    "PLAN",
    "FOR",
    "added",
    "channel",
    "__time",
    "\"user\"",
    "TIMESTAMP",
    "'2015-09-12'",
    ";",
    "--",
    "\"",
];

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> + Clone {
    prop::sample::select(items).prop_map(str::to_owned)
}

/// A scalar expression over the columns.
fn scalar() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![pick(COLUMNS), pick(LITERALS)];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), pick(ARITHMETIC), inner.clone())
                .prop_map(|(left, op, right)| format!("({left} {op} {right})")),
            (pick(FUNCTIONS), prop::collection::vec(inner.clone(), 1..3))
                .prop_map(|(name, args)| format!("{name}({})", args.join(", "))),
            (
                inner.clone(),
                prop::sample::select(&["DOUBLE", "BIGINT", "VARCHAR", "TIMESTAMP", "FLOAT"][..])
            )
                .prop_map(|(value, to)| format!("CAST({value} AS {to})")),
            pick(UNITS).prop_map(|unit| format!("FLOOR(__time TO {unit})")),
            prop::sample::select(&["'PT1H'", "'P1D'", "'PT15M'", "'nope'", "1"][..])
                .prop_map(|period| format!("TIME_FLOOR(__time, {period})")),
        ]
    })
}

/// A WHERE or FILTER condition.
fn condition() -> impl Strategy<Value = String> {
    let atom = prop_oneof![
        (scalar(), pick(COMPARISONS), scalar()).prop_map(|(l, op, r)| format!("{l} {op} {r}")),
        (
            pick(COLUMNS),
            prop::collection::vec(pick(LITERALS), 0..4),
            any::<bool>()
        )
            .prop_map(|(column, list, not)| format!(
                "{column} {}IN ({})",
                if not { "NOT " } else { "" },
                list.join(", ")
            )),
        (pick(NUMBERS), pick(LITERALS), pick(LITERALS))
            .prop_map(|(column, low, high)| format!("{column} BETWEEN {low} AND {high}")),
        (pick(COLUMNS), pick(LITERALS), any::<bool>()).prop_map(|(column, pattern, escape)| {
            format!(
                "{column} LIKE {pattern}{}",
                if escape { " ESCAPE '!'" } else { "" }
            )
        }),
        (pick(COLUMNS), any::<bool>())
            .prop_map(|(column, not)| format!("{column} IS {}NULL", if not { "NOT " } else { "" })),
    ];
    atom.prop_recursive(3, 10, 2, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["AND", "OR"][..]),
                inner.clone()
            )
                .prop_map(|(left, op, right)| format!("({left} {op} {right})")),
            inner.prop_map(|condition| format!("NOT ({condition})")),
        ]
    })
}

fn aggregate() -> impl Strategy<Value = String> {
    (
        pick(AGGREGATES),
        prop_oneof![Just("*".to_owned()), pick(COLUMNS), scalar()],
        any::<bool>(),
        prop::option::of(condition()),
    )
        .prop_map(|(name, arg, distinct, filter)| {
            let distinct = if distinct { "DISTINCT " } else { "" };
            match filter {
                Some(filter) => format!("{name}({distinct}{arg}) FILTER (WHERE {filter})"),
                None => format!("{name}({distinct}{arg})"),
            }
        })
}

fn select_item() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            pick(COLUMNS),
            scalar(),
            aggregate(),
            Just("*".to_owned()),
            (
                aggregate(),
                pick(ARITHMETIC),
                prop_oneof![aggregate(), pick(LITERALS)]
            )
                .prop_map(|(left, op, right)| format!("{left} {op} {right}")),
        ],
        prop::option::of(prop::sample::select(&["a", "b", "\"hour\"", "added"][..])),
    )
        .prop_map(|(item, alias)| match alias {
            Some(alias) => format!("{item} AS {alias}"),
            None => item,
        })
}

fn order_key() -> impl Strategy<Value = String> {
    (
        prop_oneof![
            pick(COLUMNS),
            aggregate(),
            (1usize..5).prop_map(|n| n.to_string())
        ],
        prop::sample::select(&["", " ASC", " DESC"][..]),
    )
        .prop_map(|(key, direction)| format!("{key}{direction}"))
}

/// A SELECT over wikipedia from a random combination of clauses.
pub fn query() -> impl Strategy<Value = String> {
    (
        (
            any::<bool>(),
            any::<bool>(),
            prop::collection::vec(select_item(), 1..4),
        ),
        prop::option::of(condition()),
        prop::option::of(prop::collection::vec(
            prop_oneof![
                pick(COLUMNS),
                scalar(),
                (1usize..5).prop_map(|n| n.to_string())
            ],
            1..3,
        )),
        prop::option::of(condition()),
        prop::option::of(prop::collection::vec(order_key(), 1..3)),
        (prop::option::of(0u64..20), prop::option::of(0u64..5)),
        prop::option::of(join()),
    )
        .prop_map(
            |((explain, distinct, items), filter, group, having, order, (limit, offset), join)| {
                let mut sql = String::new();
                if explain {
                    sql.push_str("EXPLAIN PLAN FOR ");
                }
                sql.push_str("SELECT ");
                if distinct {
                    sql.push_str("DISTINCT ");
                }
                sql.push_str(&items.join(", "));
                sql.push_str(" FROM wikipedia");
                if let Some(join) = join {
                    sql.push_str(&join);
                }
                if let Some(filter) = filter {
                    sql.push_str(&format!(" WHERE {filter}"));
                }
                if let Some(group) = group {
                    sql.push_str(&format!(" GROUP BY {}", group.join(", ")));
                }
                if let Some(having) = having {
                    sql.push_str(&format!(" HAVING {having}"));
                }
                if let Some(order) = order {
                    sql.push_str(&format!(" ORDER BY {}", order.join(", ")));
                }
                if let Some(limit) = limit {
                    sql.push_str(&format!(" LIMIT {limit}"));
                }
                if let Some(offset) = offset {
                    sql.push_str(&format!(" OFFSET {offset}"));
                }
                sql
            },
        )
}

/// A JOIN clause: a grouped subquery, a lookup, VALUES or the table itself on the right,
/// under an equality or a random condition, with kinds Henge refuses too.
fn join() -> impl Strategy<Value = String> {
    let right = pick(&[
        "(SELECT page AS p, COUNT(*) AS c FROM wikipedia GROUP BY page) j",
        "lookup.languages j",
        "(VALUES ('#en', 1), ('#fr', NULL)) AS j(p, c)",
        "wikipedia j",
        "(VALUES (1)) j",
    ]);
    let kind = pick(&[
        "JOIN",
        "LEFT JOIN",
        "INNER JOIN",
        "RIGHT JOIN",
        "FULL JOIN",
        "CROSS JOIN",
    ]);
    let on = prop_oneof![
        pick(&[
            "page = j.p",
            "j.p = channel",
            "page = j.p AND added = j.c",
            "page = j.k",
            "j.page = page",
        ]),
        condition(),
    ];
    (kind, right, on).prop_map(|(kind, right, on)| format!(" {kind} {right} ON {on}"))
}

/// A run of random SQL tokens.
pub fn tokens() -> impl Strategy<Value = String> {
    prop::collection::vec(pick(TOKENS), 0..24).prop_map(|tokens| tokens.join(" "))
}

/// A generated query cut at a random character.
pub fn truncated() -> impl Strategy<Value = String> {
    (query(), any::<prop::sample::Index>()).prop_map(|(sql, at)| {
        let mut end = at.index(sql.len() + 1);
        while !sql.is_char_boundary(end) {
            end -= 1;
        }
        sql[..end].to_owned()
    })
}

/// Deep nesting: parentheses, NOT, function calls, unary minus and long operator chains.
pub fn nested() -> impl Strategy<Value = String> {
    let depth = 1usize..300;
    prop_oneof![
        depth.clone().prop_map(|n| format!(
            "SELECT {}added{} FROM wikipedia",
            "(".repeat(n),
            ")".repeat(n)
        )),
        depth.clone().prop_map(|n| format!(
            "SELECT COUNT(*) FROM wikipedia WHERE {}added > 1",
            "NOT ".repeat(n)
        )),
        depth.clone().prop_map(|n| format!(
            "SELECT {}delta{} FROM wikipedia",
            "ABS(".repeat(n),
            ")".repeat(n)
        )),
        depth
            .clone()
            .prop_map(|n| format!("SELECT {}1 FROM wikipedia", "-".repeat(n))),
        depth
            .clone()
            .prop_map(|n| format!("SELECT SUM(added{}) FROM wikipedia", " + added".repeat(n))),
        depth.prop_map(|n| format!(
            "SELECT COUNT(*) FROM wikipedia WHERE added = 0{}",
            " OR added = 1".repeat(n)
        )),
    ]
}
