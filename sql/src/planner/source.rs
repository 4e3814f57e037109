//! FROM clauses: what a SELECT reads, as a [`Source`] (a native data source and its columns):
//! a catalog table (`table` data source), or a subquery or WITH query in FROM (a native
//! `query` data source over the inner query's plan, whose columns are the inner output names
//! with their SQL types, as Druid's planner nests queries); also the tables a statement names
//! ([`referenced_tables`]) and the WITH queries in scope ([`Env`]).

use serde_json::{json, Map, Value};
use sqlparser::ast::{ObjectName, ObjectNamePart, Query, SetExpr, TableAlias, TableFactor};

use henge_segment::time::TimeZone;

use super::{current_timestamp, plan_query, ROW_TIMESTAMP};
use crate::params::Params;
use crate::{Catalog, SqlError, SqlType};

/// A column a query can read.
#[derive(Debug, Clone)]
pub struct SourceColumn {
    /// The table name or alias that qualifies the column (`t.col`).
    pub qualifier: String,
    pub name: String,
    /// The column's name in the native data source.
    pub field: String,
    pub sql_type: SqlType,
}

/// A native data source and the columns it offers.
#[derive(Debug, Clone)]
pub struct Source {
    pub data_source: Value,
    pub columns: Vec<SourceColumn>,
}

impl Source {
    /// The column `name` (of the table or alias `qualifier`, when given).
    pub fn column(&self, qualifier: Option<&str>, name: &str) -> Result<&SourceColumn, SqlError> {
        let mut found = self.columns.iter().filter(|column| {
            column.name == name && qualifier.is_none_or(|qualifier| qualifier == column.qualifier)
        });
        match (found.next(), found.next()) {
            (Some(column), None) => Ok(column),
            (Some(_), Some(_)) => Err(SqlError::invalid(format!("Column '{name}' is ambiguous"))),
            (None, _) => {
                let full = match qualifier {
                    Some(qualifier) => format!("{qualifier}.{name}"),
                    None => name.to_owned(),
                };
                Err(SqlError::invalid(format!(
                    "Column '{full}' not found in any table"
                )))
            }
        }
    }
}

/// A WITH query in scope, planned where it is used.
#[derive(Clone)]
struct Cte {
    name: String,
    query: Query,
    /// Column names from `WITH t(a, b) AS (...)`.
    renames: Vec<String>,
    /// How many WITH queries before this one it may read (never itself or later ones).
    visible: usize,
}

/// What planning needs besides the syntax tree: parameters, SQL context (with its time zone
/// and the query's `CURRENT_TIMESTAMP`, one for every subquery), the catalog and the WITH
/// queries in scope.
#[derive(Clone)]
pub(crate) struct Env<'e> {
    pub params: &'e Params,
    pub context: &'e Map<String, Value>,
    pub catalog: &'e dyn Catalog,
    pub zone: TimeZone,
    pub now: i64,
    ctes: Vec<Cte>,
}

impl<'e> Env<'e> {
    pub fn new(
        params: &'e Params,
        context: &'e Map<String, Value>,
        catalog: &'e dyn Catalog,
    ) -> Result<Self, SqlError> {
        Ok(Env {
            params,
            context,
            catalog,
            zone: crate::scalar::context_zone(context)?,
            now: current_timestamp(context)?,
            ctes: Vec::new(),
        })
    }

    /// This scope with `query`'s WITH queries added.
    pub fn with_ctes(&self, query: &Query) -> Result<Env<'e>, SqlError> {
        let mut env = self.clone();
        let Some(with) = &query.with else {
            return Ok(env);
        };
        if with.recursive {
            return Err(SqlError::unsupported("WITH RECURSIVE"));
        }
        for cte in &with.cte_tables {
            if cte.from.is_some() || cte.materialized.is_some() {
                return Err(SqlError::unsupported("MATERIALIZED WITH queries"));
            }
            env.ctes.push(Cte {
                name: cte.alias.name.value.clone(),
                query: cte.query.as_ref().clone(),
                renames: cte
                    .alias
                    .columns
                    .iter()
                    .map(|column| column.name.value.clone())
                    .collect(),
                visible: env.ctes.len(),
            });
        }
        Ok(env)
    }

    fn cte(&self, name: &str) -> Option<(&Cte, Env<'e>)> {
        let at = self.ctes.iter().rposition(|cte| cte.name == name)?;
        let cte = &self.ctes[at];
        let mut env = self.clone();
        env.ctes.truncate(cte.visible);
        Some((cte, env))
    }
}

/// What a SELECT's FROM clause reads.
pub(crate) fn resolve(env: &Env, select: &sqlparser::ast::Select) -> Result<Source, SqlError> {
    let [from] = select.from.as_slice() else {
        return Err(SqlError::unsupported(
            "a query without exactly one table in FROM",
        ));
    };
    let mut source = relation(env, &from.relation)?;
    for (index, join) in from.joins.iter().enumerate() {
        let right = relation(env, &join.relation)?;
        source = super::join::join(env, source, join, right, index)?;
    }
    Ok(source)
}

fn relation(env: &Env, factor: &TableFactor) -> Result<Source, SqlError> {
    match factor {
        TableFactor::Table {
            name,
            alias,
            args: None,
            with_hints,
            version: None,
            with_ordinality: false,
            partitions,
            json_path: None,
            sample: None,
            index_directives,
            inheritance: None,
        } if with_hints.is_empty() && partitions.is_empty() && index_directives.is_empty() => {
            if let Some(lookup) = lookup_name(name) {
                let qualifier = alias_name(alias.as_ref(), lookup);
                return super::join::lookup(env, lookup, qualifier);
            }
            let table = table_name(name)?;
            let qualifier = alias_name(alias.as_ref(), &table);
            if let Some((cte, cte_env)) = env.cte(&table) {
                return subquery(&cte_env, &cte.query, qualifier, &cte.renames);
            }
            let renames = alias_columns(alias.as_ref());
            let columns = env.catalog.table(&table).ok_or_else(|| {
                let error = SqlError::invalid(format!("Object '{table}' not found"));
                match name.0.last() {
                    Some(ObjectNamePart::Identifier(ident)) => error.at(ident.span.start),
                    _ => error,
                }
            })?;
            if !renames.is_empty() {
                return Err(SqlError::unsupported("column aliases on a table"));
            }
            Ok(Source {
                data_source: json!({"type": "table", "name": table}),
                columns: columns
                    .into_iter()
                    .map(|(name, sql_type)| SourceColumn {
                        qualifier: qualifier.clone(),
                        field: name.clone(),
                        name,
                        sql_type,
                    })
                    .collect(),
            })
        }
        TableFactor::Derived {
            lateral: false,
            subquery: query,
            alias,
            sample: None,
        } => {
            if let SetExpr::Values(values) = query.body.as_ref() {
                if query.with.is_some() || query.order_by.is_some() || query.limit_clause.is_some()
                {
                    return Err(SqlError::unsupported("VALUES with WITH, ORDER BY or LIMIT"));
                }
                return super::join::values(env, values, alias.as_ref());
            }
            let qualifier = alias_name(alias.as_ref(), "EXPR$0");
            subquery(env, query, qualifier, &alias_columns(alias.as_ref()))
        }
        other => Err(SqlError::unsupported(format!("FROM {other}"))),
    }
}

/// A subquery as a native `query` data source, its columns named by its output names (or
/// `renames`, when the alias lists column names).
fn subquery(
    env: &Env,
    query: &Query,
    qualifier: String,
    renames: &[String],
) -> Result<Source, SqlError> {
    let planned = plan_query(env, query)?;
    if !planned.union_all.is_empty() {
        return Err(SqlError::unsupported("UNION ALL in a subquery"));
    }
    if !renames.is_empty() && renames.len() != planned.columns.len() {
        return Err(SqlError::invalid(format!(
            "List of column aliases must have same degree as table; table has {} columns, \
             whereas alias list has {} columns",
            planned.columns.len(),
            renames.len()
        )));
    }
    let columns = planned
        .columns
        .iter()
        .enumerate()
        .map(|(index, column)| SourceColumn {
            qualifier: qualifier.clone(),
            name: renames
                .get(index)
                .cloned()
                .unwrap_or_else(|| column.name.clone()),
            field: if column.field == ROW_TIMESTAMP {
                "__time".to_owned()
            } else {
                column.field.clone()
            },
            sql_type: column.sql_type.clone(),
        })
        .collect();
    Ok(Source {
        data_source: json!({"type": "query", "query": planned.native}),
        columns,
    })
}

fn alias_name(alias: Option<&TableAlias>, default: &str) -> String {
    alias.map_or_else(|| default.to_owned(), |alias| alias.name.value.clone())
}

fn alias_columns(alias: Option<&TableAlias>) -> Vec<String> {
    alias
        .map(|alias| {
            alias
                .columns
                .iter()
                .map(|column| column.name.value.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The lookup a `lookup.<name>` table names.
fn lookup_name(name: &ObjectName) -> Option<&str> {
    match name.0.as_slice() {
        [ObjectNamePart::Identifier(schema), ObjectNamePart::Identifier(table)]
            if schema.value == "lookup" =>
        {
            Some(table.value.as_str())
        }
        _ => None,
    }
}

/// A table name (`t` or `druid.t`).
pub(crate) fn table_name(name: &ObjectName) -> Result<String, SqlError> {
    let parts: Vec<&str> = name
        .0
        .iter()
        .map(|part| match part {
            ObjectNamePart::Identifier(ident) => Ok(ident.value.as_str()),
            ObjectNamePart::Function(_) => Err(SqlError::unsupported(format!("FROM {name}"))),
        })
        .collect::<Result<_, _>>()?;
    match parts.as_slice() {
        [table] | ["druid", table] => Ok((*table).to_owned()),
        _ => Err(SqlError::invalid(format!("Object '{name}' not found"))),
    }
}

/// The tables `query` reads, in first-named order (WITH query names included: a caller
/// looking them up finds no such table).
pub(crate) fn referenced_tables(query: &Query, tables: &mut Vec<String>) {
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            referenced_tables(&cte.query, tables);
        }
    }
    set_tables(&query.body, tables);
}

fn set_tables(body: &SetExpr, tables: &mut Vec<String>) {
    match body {
        SetExpr::Select(select) => {
            for from in &select.from {
                factor_tables(&from.relation, tables);
                for join in &from.joins {
                    factor_tables(&join.relation, tables);
                }
            }
        }
        SetExpr::Query(query) => referenced_tables(query, tables),
        SetExpr::SetOperation { left, right, .. } => {
            set_tables(left, tables);
            set_tables(right, tables);
        }
        _ => {}
    }
}

fn factor_tables(factor: &TableFactor, tables: &mut Vec<String>) {
    match factor {
        TableFactor::Table { name, .. } => {
            if let Ok(table) = table_name(name) {
                if !tables.contains(&table) {
                    tables.push(table);
                }
            }
        }
        TableFactor::Derived { subquery, .. } => referenced_tables(subquery, tables),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => {
            factor_tables(&table_with_joins.relation, tables);
            for join in &table_with_joins.joins {
                factor_tables(&join.relation, tables);
            }
        }
        _ => {}
    }
}
