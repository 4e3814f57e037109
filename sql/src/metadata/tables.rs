//! The metadata tables Henge answers in memory, with Druid's columns and types: the
//! `INFORMATION_SCHEMA` tables (`InformationSchema.java`), filled from the [`Catalog`], and the
//! `sys` tables (`SystemSchema.java`), filled from the rows the caller hands over in
//! [`SystemTables`].

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::{Catalog, SqlType};

/// The schema of the INFORMATION_SCHEMA tables.
pub(crate) const INFORMATION_SCHEMA: &str = "INFORMATION_SCHEMA";
/// The schema of the cluster's metadata tables.
pub(crate) const SYS: &str = "sys";
/// The schema of the registered lookups.
pub(crate) const LOOKUP: &str = "lookup";

/// Rows of the `sys` tables, fetched by the caller from the live cluster. Each row is a JSON
/// object keyed by column name; a missing column reads as NULL.
#[derive(Debug, Clone, Default)]
pub struct SystemTables {
    rows: BTreeMap<String, Vec<Map<String, Value>>>,
}

impl SystemTables {
    /// Sets the rows of `sys.<table>`.
    pub fn insert(&mut self, table: impl Into<String>, rows: Vec<Map<String, Value>>) {
        self.rows.insert(table.into(), rows);
    }
}

/// The SQL type of a metadata column.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    Text,
    Number,
}

impl Kind {
    pub fn sql_type(self) -> SqlType {
        match self {
            Kind::Text => SqlType::Varchar,
            Kind::Number => SqlType::Bigint,
        }
    }
}

/// One metadata table: its schema, name and columns (name, type, nullable).
pub(crate) struct Table {
    pub schema: &'static str,
    pub name: &'static str,
    pub columns: &'static [(&'static str, Kind, bool)],
}

use Kind::{Number as N, Text as T};

const SCHEMATA: Table = Table {
    schema: INFORMATION_SCHEMA,
    name: "SCHEMATA",
    columns: &[
        ("CATALOG_NAME", T, false),
        ("SCHEMA_NAME", T, false),
        ("SCHEMA_OWNER", T, false),
        ("DEFAULT_CHARACTER_SET_CATALOG", T, false),
        ("DEFAULT_CHARACTER_SET_SCHEMA", T, false),
        ("DEFAULT_CHARACTER_SET_NAME", T, false),
        ("SQL_PATH", T, false),
    ],
};

const TABLES: Table = Table {
    schema: INFORMATION_SCHEMA,
    name: "TABLES",
    columns: &[
        ("TABLE_CATALOG", T, false),
        ("TABLE_SCHEMA", T, false),
        ("TABLE_NAME", T, false),
        ("TABLE_TYPE", T, false),
        ("IS_JOINABLE", T, false),
        ("IS_BROADCAST", T, false),
    ],
};

const COLUMNS: Table = Table {
    schema: INFORMATION_SCHEMA,
    name: "COLUMNS",
    columns: &[
        ("TABLE_CATALOG", T, false),
        ("TABLE_SCHEMA", T, false),
        ("TABLE_NAME", T, false),
        ("COLUMN_NAME", T, false),
        ("ORDINAL_POSITION", N, false),
        ("COLUMN_DEFAULT", T, false),
        ("IS_NULLABLE", T, false),
        ("DATA_TYPE", T, false),
        ("CHARACTER_MAXIMUM_LENGTH", T, true),
        ("CHARACTER_OCTET_LENGTH", T, true),
        ("NUMERIC_PRECISION", N, true),
        ("NUMERIC_PRECISION_RADIX", N, true),
        ("NUMERIC_SCALE", N, true),
        ("DATETIME_PRECISION", N, true),
        ("CHARACTER_SET_NAME", T, true),
        ("COLLATION_NAME", T, true),
        ("JDBC_TYPE", N, false),
    ],
};

const SEGMENTS: Table = Table {
    schema: SYS,
    name: "segments",
    columns: &[
        ("segment_id", T, true),
        ("datasource", T, true),
        ("start", T, true),
        ("end", T, true),
        ("size", N, true),
        ("version", T, true),
        ("partition_num", N, true),
        ("num_replicas", N, true),
        ("num_rows", N, true),
        ("is_active", N, true),
        ("is_published", N, true),
        ("is_available", N, true),
        ("is_realtime", N, true),
        ("is_overshadowed", N, true),
        ("shard_spec", T, true),
        ("dimensions", T, true),
        ("metrics", T, true),
        ("projections", T, true),
        ("last_compaction_state", T, true),
        ("replication_factor", N, true),
    ],
};

const SERVERS: Table = Table {
    schema: SYS,
    name: "servers",
    columns: &[
        ("server", T, true),
        ("host", T, true),
        ("plaintext_port", N, true),
        ("tls_port", N, true),
        ("server_type", T, true),
        ("tier", T, true),
        ("curr_size", N, true),
        ("max_size", N, true),
        ("is_leader", N, true),
        ("start_time", T, true),
        ("version", T, true),
        ("labels", T, true),
    ],
};

const SERVER_SEGMENTS: Table = Table {
    schema: SYS,
    name: "server_segments",
    columns: &[("server", T, true), ("segment_id", T, true)],
};

const TASKS: Table = Table {
    schema: SYS,
    name: "tasks",
    columns: &[
        ("task_id", T, true),
        ("group_id", T, true),
        ("type", T, true),
        ("datasource", T, true),
        ("created_time", T, true),
        ("queue_insertion_time", T, true),
        ("status", T, true),
        ("runner_status", T, true),
        ("duration", N, true),
        ("location", T, true),
        ("host", T, true),
        ("plaintext_port", N, true),
        ("tls_port", N, true),
        ("error_msg", T, true),
    ],
};

const SUPERVISORS: Table = Table {
    schema: SYS,
    name: "supervisors",
    columns: &[
        ("supervisor_id", T, true),
        ("datasource", T, true),
        ("state", T, true),
        ("detailed_state", T, true),
        ("healthy", N, true),
        ("type", T, true),
        ("source", T, true),
        ("suspended", N, true),
        ("spec", T, true),
    ],
};

/// Every metadata table, in Druid's listing order: schemas by name, then tables by name.
pub(crate) const ALL: [&Table; 8] = [
    &COLUMNS,
    &SCHEMATA,
    &TABLES,
    &SEGMENTS,
    &SERVER_SEGMENTS,
    &SERVERS,
    &SUPERVISORS,
    &TASKS,
];

/// The metadata table `schema.name`, if there is one (names are case-sensitive, as in Druid).
pub(crate) fn find(schema: &str, name: &str) -> Option<&'static Table> {
    ALL.into_iter()
        .find(|table| table.schema == schema && table.name == name)
}

/// The rows of `table`, in Druid's order.
pub(crate) fn rows(table: &Table, catalog: &dyn Catalog, system: &SystemTables) -> Vec<Vec<Value>> {
    if table.schema == SYS {
        return system
            .rows
            .get(table.name)
            .map(|rows| {
                rows.iter()
                    .map(|row| {
                        table
                            .columns
                            .iter()
                            .map(|(name, _, _)| row.get(*name).cloned().unwrap_or(Value::Null))
                            .collect()
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
    let datasources = catalog.table_names();
    match table.name {
        "SCHEMATA" => ["druid", INFORMATION_SCHEMA, LOOKUP, SYS]
            .iter()
            .map(|schema| {
                let mut row = vec![json!("druid"), json!(schema)];
                row.resize(SCHEMATA.columns.len(), Value::Null);
                row
            })
            .collect(),
        "TABLES" => {
            let table_row = |schema: &str, name: &str, kind: &str| {
                // Lookups are joinable and broadcast to every node.
                let lookup = if schema == LOOKUP { "YES" } else { "NO" };
                vec![
                    json!("druid"),
                    json!(schema),
                    json!(name),
                    json!(kind),
                    json!(lookup),
                    json!(lookup),
                ]
            };
            let mut rows: Vec<Vec<Value>> = datasources
                .iter()
                .map(|name| table_row("druid", name, "TABLE"))
                .collect();
            rows.extend(
                ALL.iter()
                    .map(|system| table_row(system.schema, system.name, "SYSTEM_TABLE")),
            );
            rows.extend(
                catalog
                    .lookup_names()
                    .iter()
                    .map(|name| table_row(LOOKUP, name, "TABLE")),
            );
            rows
        }
        _ => {
            let mut rows = Vec::new();
            for name in &datasources {
                for (index, (column, kind)) in
                    catalog.table(name).unwrap_or_default().iter().enumerate()
                {
                    let nullable = *kind != SqlType::Timestamp;
                    rows.push(column_row("druid", name, index, column, kind, nullable));
                }
            }
            for system in ALL {
                for (index, (column, kind, nullable)) in system.columns.iter().enumerate() {
                    let kind = kind.sql_type();
                    rows.push(column_row(
                        system.schema,
                        system.name,
                        index,
                        column,
                        &kind,
                        *nullable,
                    ));
                }
            }
            for name in catalog.lookup_names() {
                for (index, column) in ["k", "v"].iter().enumerate() {
                    rows.push(column_row(
                        LOOKUP,
                        &name,
                        index,
                        column,
                        &SqlType::Varchar,
                        true,
                    ));
                }
            }
            rows
        }
    }
}

/// Calcite's scale of a type without one (`RelDataType.SCALE_NOT_SPECIFIED`), which Druid
/// reports for FLOAT and DOUBLE columns.
const SCALE_NOT_SPECIFIED: i64 = i32::MIN as i64;

/// One row of `COLUMNS`, with Calcite's precision, scale, charset and JDBC type of `kind`.
fn column_row(
    schema: &str,
    table: &str,
    index: usize,
    column: &str,
    kind: &SqlType,
    nullable: bool,
) -> Vec<Value> {
    // (numeric precision and scale, datetime precision, character type, JDBC type)
    let (numeric, datetime, character, jdbc): (Option<(i64, i64)>, Option<i64>, bool, i64) =
        match kind {
            SqlType::Timestamp => (None, Some(3), false, 93),
            SqlType::Varchar => (None, None, true, 12),
            SqlType::Bigint => (Some((19, 0)), None, false, -5),
            SqlType::Float => (Some((15, SCALE_NOT_SPECIFIED)), None, false, 6),
            SqlType::Double => (Some((15, SCALE_NOT_SPECIFIED)), None, false, 8),
            SqlType::Boolean => (None, None, false, 16),
            SqlType::Complex(_) => (None, None, false, 1111),
        };
    let text_or_null = |present: bool, text: &str| {
        if present {
            json!(text)
        } else {
            Value::Null
        }
    };
    vec![
        json!("druid"),
        json!(schema),
        json!(table),
        json!(column),
        json!(index + 1),
        json!(""),
        json!(if nullable { "YES" } else { "NO" }),
        json!(kind.sql_name()),
        Value::Null,
        Value::Null,
        numeric.map_or(Value::Null, |(precision, _)| json!(precision)),
        numeric.map_or(Value::Null, |_| json!(10)),
        numeric.map_or(Value::Null, |(_, scale)| json!(scale)),
        datetime.map_or(Value::Null, |precision| json!(precision)),
        text_or_null(character, "UTF-16LE"),
        text_or_null(character, "UTF-16LE$en_US$primary"),
        json!(jdbc),
    ]
}
