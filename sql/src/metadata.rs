//! `INFORMATION_SCHEMA.SCHEMATA`, `TABLES` and `COLUMNS`, answered from the [`Catalog`]
//! without a native query, with Druid's columns and values (`InformationSchema.java`):
//! schemas `druid` (the datasources, `TABLE`) and `INFORMATION_SCHEMA` (`SYSTEM_TABLE`),
//! column types as Calcite describes them. `SELECT` lists of columns or `*`, WHERE with
//! comparisons, IN, LIKE, IS NULL, AND/OR/NOT, ORDER BY columns and LIMIT/OFFSET are
//! evaluated over the rows here.

use std::cmp::Ordering;

use serde_json::{json, Value};
use sqlparser::ast::{
    BinaryOperator, Expr, InTarget, LimitClause, ObjectNamePart, OrderByKind, Query, Select,
    SelectItem, TableFactor, UnaryOperator, Value as SqlValue,
};

use crate::planner::{Answer, OutputColumn};
use crate::{Catalog, SqlError, SqlType};

/// The schema name of the metadata tables.
const SCHEMA: &str = "INFORMATION_SCHEMA";

/// One metadata table: its columns with SQL types.
struct Table {
    name: &'static str,
    columns: &'static [(&'static str, Kind)],
}

#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
}

const SCHEMATA: Table = Table {
    name: "SCHEMATA",
    columns: &[
        ("CATALOG_NAME", Kind::Text),
        ("SCHEMA_NAME", Kind::Text),
        ("SCHEMA_OWNER", Kind::Text),
        ("DEFAULT_CHARACTER_SET_CATALOG", Kind::Text),
        ("DEFAULT_CHARACTER_SET_SCHEMA", Kind::Text),
        ("DEFAULT_CHARACTER_SET_NAME", Kind::Text),
        ("SQL_PATH", Kind::Text),
    ],
};

const TABLES: Table = Table {
    name: "TABLES",
    columns: &[
        ("TABLE_CATALOG", Kind::Text),
        ("TABLE_SCHEMA", Kind::Text),
        ("TABLE_NAME", Kind::Text),
        ("TABLE_TYPE", Kind::Text),
        ("IS_JOINABLE", Kind::Text),
        ("IS_BROADCAST", Kind::Text),
    ],
};

const COLUMNS: Table = Table {
    name: "COLUMNS",
    columns: &[
        ("TABLE_CATALOG", Kind::Text),
        ("TABLE_SCHEMA", Kind::Text),
        ("TABLE_NAME", Kind::Text),
        ("COLUMN_NAME", Kind::Text),
        ("ORDINAL_POSITION", Kind::Number),
        ("COLUMN_DEFAULT", Kind::Text),
        ("IS_NULLABLE", Kind::Text),
        ("DATA_TYPE", Kind::Text),
        ("CHARACTER_MAXIMUM_LENGTH", Kind::Number),
        ("CHARACTER_OCTET_LENGTH", Kind::Number),
        ("NUMERIC_PRECISION", Kind::Number),
        ("NUMERIC_PRECISION_RADIX", Kind::Number),
        ("NUMERIC_SCALE", Kind::Number),
        ("DATETIME_PRECISION", Kind::Number),
        ("CHARACTER_SET_NAME", Kind::Text),
        ("COLLATION_NAME", Kind::Text),
        ("JDBC_TYPE", Kind::Number),
    ],
};

const ALL: [&Table; 3] = [&SCHEMATA, &TABLES, &COLUMNS];

/// The metadata table `select` reads (`INFORMATION_SCHEMA.X`, any case), if it reads one.
fn metadata_table(select: &Select) -> Option<&'static Table> {
    let [from] = select.from.as_slice() else {
        return None;
    };
    let TableFactor::Table { name, .. } = &from.relation else {
        return None;
    };
    let parts: Vec<&str> = name
        .0
        .iter()
        .filter_map(|part| match part {
            ObjectNamePart::Identifier(ident) => Some(ident.value.as_str()),
            ObjectNamePart::Function(_) => None,
        })
        .collect();
    let [schema, table] = parts.as_slice() else {
        return None;
    };
    if !schema.eq_ignore_ascii_case(SCHEMA) {
        return None;
    }
    ALL.into_iter()
        .find(|candidate| candidate.name.eq_ignore_ascii_case(table))
}

/// True when `select` reads an `INFORMATION_SCHEMA` table.
pub(crate) fn reads_metadata(select: &Select) -> bool {
    let [from] = select.from.as_slice() else {
        return false;
    };
    match &from.relation {
        TableFactor::Table { name, .. } => name
            .0
            .first()
            .is_some_and(|part| matches!(part, ObjectNamePart::Identifier(ident) if ident.value.eq_ignore_ascii_case(SCHEMA))),
        _ => false,
    }
}

/// Answers a SELECT over an `INFORMATION_SCHEMA` table.
pub(crate) fn answer(
    query: &Query,
    select: &Select,
    catalog: &dyn Catalog,
) -> Result<Answer, SqlError> {
    let table = metadata_table(select).ok_or_else(|| {
        SqlError::invalid(format!(
            "Object '{}' not found",
            select
                .from
                .first()
                .map(|from| from.relation.to_string())
                .unwrap_or_default()
        ))
    })?;
    if !select.from[0].joins.is_empty() {
        return Err(SqlError::unsupported("JOIN"));
    }
    if select.distinct.is_some()
        || select.having.is_some()
        || !matches!(&select.group_by, sqlparser::ast::GroupByExpr::Expressions(exprs, _) if exprs.is_empty())
    {
        return Err(SqlError::unsupported(
            "aggregation over INFORMATION_SCHEMA tables",
        ));
    }
    let names: Vec<&str> = table.columns.iter().map(|(name, _)| *name).collect();
    let mut rows = Vec::new();
    for row in table_rows(table, catalog) {
        let keep = match &select.selection {
            None => true,
            Some(condition) => truthy(&eval(&names, &row, condition)?),
        };
        if keep {
            rows.push(row);
        }
    }
    sort(&names, query, &mut rows)?;
    let (limit, offset) = limit_offset(query)?;
    let rows: Vec<Vec<Value>> = rows
        .into_iter()
        .skip(offset)
        .take(limit.unwrap_or(usize::MAX))
        .collect();
    project(table, &names, select, rows)
}

/// The rows of `table`, in Druid's order: schemas, then tables, then their columns.
fn table_rows(table: &Table, catalog: &dyn Catalog) -> Vec<Vec<Value>> {
    let datasources = catalog.table_names();
    match table.name {
        "SCHEMATA" => ["druid", SCHEMA]
            .iter()
            .map(|schema| {
                let mut row = vec![json!("druid"), json!(schema)];
                row.resize(SCHEMATA.columns.len(), Value::Null);
                row
            })
            .collect(),
        "TABLES" => {
            let mut rows: Vec<Vec<Value>> = datasources
                .iter()
                .map(|name| {
                    vec![
                        json!("druid"),
                        json!("druid"),
                        json!(name),
                        json!("TABLE"),
                        json!("NO"),
                        json!("NO"),
                    ]
                })
                .collect();
            rows.extend(ALL.iter().map(|system| {
                vec![
                    json!("druid"),
                    json!(SCHEMA),
                    json!(system.name),
                    json!("SYSTEM_TABLE"),
                    json!("NO"),
                    json!("NO"),
                ]
            }));
            rows
        }
        _ => {
            let mut rows = Vec::new();
            for name in &datasources {
                for (index, (column, kind)) in
                    catalog.table(name).unwrap_or_default().iter().enumerate()
                {
                    rows.push(column_row("druid", name, index, column, kind));
                }
            }
            for system in ALL {
                for (index, (column, kind)) in system.columns.iter().enumerate() {
                    let kind = match kind {
                        Kind::Text => SqlType::Varchar,
                        Kind::Number => SqlType::Bigint,
                    };
                    rows.push(column_row(SCHEMA, system.name, index, column, &kind));
                }
            }
            rows
        }
    }
}

/// One row of `COLUMNS`, with Calcite's precision, charset and JDBC type of `kind`.
fn column_row(schema: &str, table: &str, index: usize, column: &str, kind: &SqlType) -> Vec<Value> {
    // (nullable, precision, scale, datetime precision, character type, JDBC type)
    let (nullable, precision, datetime, character, jdbc) = match kind {
        SqlType::Timestamp => (false, None, Some(3), false, 93),
        SqlType::Varchar => (true, None, None, true, 12),
        SqlType::Bigint => (true, Some(19), None, false, -5),
        SqlType::Float => (true, Some(7), None, false, 6),
        SqlType::Double => (true, Some(15), None, false, 8),
        SqlType::Boolean => (true, None, None, false, 16),
        SqlType::Complex(_) => (true, None, None, false, 1111),
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
        precision.map_or(Value::Null, |precision: u32| json!(precision)),
        precision.map_or(Value::Null, |_| json!(10)),
        precision.map_or(Value::Null, |_| json!(0)),
        datetime.map_or(Value::Null, |datetime: u32| json!(datetime)),
        if character {
            json!("UTF-16LE")
        } else {
            Value::Null
        },
        if character {
            json!("UTF-16LE$en_US$primary")
        } else {
            Value::Null
        },
        json!(jdbc),
    ]
}

/// The value of `expr` in `row`: columns, literals, comparisons and boolean logic.
fn eval(names: &[&str], row: &[Value], expr: &Expr) -> Result<Value, SqlError> {
    Ok(match expr {
        Expr::Identifier(ident) => column(names, row, &ident.value)?,
        Expr::CompoundIdentifier(parts) => match parts.last() {
            Some(ident) => column(names, row, &ident.value)?,
            None => Value::Null,
        },
        Expr::Nested(inner) => eval(names, row, inner)?,
        Expr::Value(value) => match &value.value {
            SqlValue::SingleQuotedString(text) => json!(text),
            SqlValue::Number(text, _) => text
                .parse::<i64>()
                .map(|number| json!(number))
                .or_else(|_| text.parse::<f64>().map(|number| json!(number)))
                .map_err(|_| SqlError::invalid(format!("Bad number {text}")))?,
            SqlValue::Boolean(flag) => json!(flag),
            SqlValue::Null => Value::Null,
            other => return Err(SqlError::unsupported(format!("the literal {other}"))),
        },
        Expr::UnaryOp {
            op: UnaryOperator::Not,
            expr,
        } => match eval(names, row, expr)? {
            Value::Null => Value::Null,
            value => json!(!truthy(&value)),
        },
        Expr::IsNull(inner) => json!(eval(names, row, inner)?.is_null()),
        Expr::IsNotNull(inner) => json!(!eval(names, row, inner)?.is_null()),
        Expr::BinaryOp { left, op, right } => {
            let left = eval(names, row, left)?;
            let right = eval(names, row, right)?;
            match op {
                BinaryOperator::And => json!(truthy(&left) && truthy(&right)),
                BinaryOperator::Or => json!(truthy(&left) || truthy(&right)),
                _ => {
                    let Some(order) = compare(&left, &right) else {
                        return Ok(Value::Null);
                    };
                    json!(match op {
                        BinaryOperator::Eq => order == Ordering::Equal,
                        BinaryOperator::NotEq => order != Ordering::Equal,
                        BinaryOperator::Lt => order == Ordering::Less,
                        BinaryOperator::LtEq => order != Ordering::Greater,
                        BinaryOperator::Gt => order == Ordering::Greater,
                        BinaryOperator::GtEq => order != Ordering::Less,
                        other =>
                            return Err(SqlError::unsupported(format!("the operator {other}"))),
                    })
                }
            }
        }
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated,
            global: false,
        } => {
            let value = eval(names, row, expr)?;
            if value.is_null() {
                return Ok(Value::Null);
            }
            let mut found = false;
            for item in list {
                found |= compare(&value, &eval(names, row, item)?) == Some(Ordering::Equal);
            }
            json!(found != *negated)
        }
        Expr::Like {
            negated,
            any: false,
            expr,
            pattern,
            escape_char: None,
        } => match (eval(names, row, expr)?, eval(names, row, pattern)?) {
            (Value::String(text), Value::String(pattern)) => {
                json!(like(&text, &pattern) != *negated)
            }
            _ => Value::Null,
        },
        other => return Err(SqlError::unsupported(format!("the expression {other}"))),
    })
}

fn column(names: &[&str], row: &[Value], name: &str) -> Result<Value, SqlError> {
    names
        .iter()
        .position(|candidate| candidate.eq_ignore_ascii_case(name))
        .map(|index| row[index].clone())
        .ok_or_else(|| SqlError::invalid(format!("Column '{name}' not found in any table")))
}

fn truthy(value: &Value) -> bool {
    value.as_bool().unwrap_or(false)
}

/// SQL comparison: numbers numerically, strings by code point, NULL with anything unknown.
fn compare(left: &Value, right: &Value) -> Option<Ordering> {
    match (left, right) {
        (Value::Number(left), Value::Number(right)) => left.as_f64()?.partial_cmp(&right.as_f64()?),
        (Value::String(left), Value::String(right)) => Some(left.cmp(right)),
        (Value::Number(number), Value::String(text)) => {
            number.as_f64()?.partial_cmp(&text.parse().ok()?)
        }
        (Value::String(text), Value::Number(number)) => {
            text.parse::<f64>().ok()?.partial_cmp(&number.as_f64()?)
        }
        (Value::Bool(left), Value::Bool(right)) => Some(left.cmp(right)),
        _ => None,
    }
}

/// SQL LIKE: `%` any run, `_` any one character.
fn like(text: &str, pattern: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    let pattern: Vec<char> = pattern.chars().collect();
    // matches[j]: the text read so far matches pattern[..j].
    let mut matches = vec![false; pattern.len() + 1];
    matches[0] = true;
    for j in 0..pattern.len() {
        matches[j + 1] = matches[j] && pattern[j] == '%';
    }
    for character in text {
        let mut next = vec![false; pattern.len() + 1];
        for j in 0..pattern.len() {
            next[j + 1] = match pattern[j] {
                '%' => next[j] || matches[j + 1],
                '_' => matches[j],
                literal => matches[j] && literal == character,
            };
        }
        matches = next;
    }
    matches[pattern.len()]
}

/// ORDER BY columns (by name or ordinal of the table), NULLs first ascending as Calcite does.
fn sort(names: &[&str], query: &Query, rows: &mut [Vec<Value>]) -> Result<(), SqlError> {
    let Some(order_by) = &query.order_by else {
        return Ok(());
    };
    let OrderByKind::Expressions(items) = &order_by.kind else {
        return Err(SqlError::unsupported("ORDER BY ALL"));
    };
    let mut keys = Vec::new();
    for item in items {
        let descending = matches!(item.options.sort, Some(sqlparser::ast::OrderBySort::Desc));
        keys.push((item.expr.clone(), descending));
    }
    // Evaluate once per row so that errors surface before sorting.
    let mut failure = None;
    let mut keyed: Vec<(Vec<Value>, Vec<Value>)> = rows
        .iter()
        .map(|row| {
            let values = keys
                .iter()
                .map(|(expr, _)| {
                    eval(names, row, expr).unwrap_or_else(|error| {
                        failure = Some(error);
                        Value::Null
                    })
                })
                .collect();
            (values, row.clone())
        })
        .collect();
    if let Some(error) = failure {
        return Err(error);
    }
    keyed.sort_by(|(left, _), (right, _)| {
        for ((left, right), (_, descending)) in left.iter().zip(right).zip(&keys) {
            let order = match (left.is_null(), right.is_null()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Less,
                (false, true) => Ordering::Greater,
                _ => compare(left, right).unwrap_or(Ordering::Equal),
            };
            let order = if *descending { order.reverse() } else { order };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    });
    for (slot, (_, row)) in rows.iter_mut().zip(keyed) {
        *slot = row;
    }
    Ok(())
}

fn limit_offset(query: &Query) -> Result<(Option<usize>, usize), SqlError> {
    let count = |expr: &Expr| {
        match expr {
            Expr::Value(value) => match &value.value {
                SqlValue::Number(text, _) => text.parse::<usize>().ok(),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| {
            SqlError::invalid(format!(
                "LIMIT and OFFSET need a non-negative integer, not {expr}"
            ))
        })
    };
    match &query.limit_clause {
        None => Ok((None, 0)),
        Some(LimitClause::LimitOffset {
            limit,
            offset,
            limit_by,
        }) if limit_by.is_empty() => Ok((
            limit.as_ref().map(count).transpose()?,
            offset
                .as_ref()
                .map(|offset| count(&offset.value))
                .transpose()?
                .unwrap_or(0),
        )),
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => {
            Ok((Some(count(limit)?), count(offset)?))
        }
        Some(other) => Err(SqlError::unsupported(format!("{other}"))),
    }
}

/// The SELECT list over the filtered rows: `*`, or columns with optional aliases.
fn project(
    table: &Table,
    names: &[&str],
    select: &Select,
    rows: Vec<Vec<Value>>,
) -> Result<Answer, SqlError> {
    let mut picked: Vec<(usize, String)> = Vec::new();
    for item in &select.projection {
        let (expr, alias) = match item {
            SelectItem::Wildcard(_) => {
                picked.extend(
                    names
                        .iter()
                        .enumerate()
                        .map(|(index, name)| (index, (*name).to_owned())),
                );
                continue;
            }
            SelectItem::UnnamedExpr(expr) => (expr, None),
            SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias.value.clone())),
            other => return Err(SqlError::unsupported(format!("SELECT item {other}"))),
        };
        let name = match expr {
            Expr::Identifier(ident) => &ident.value,
            Expr::CompoundIdentifier(parts) if !parts.is_empty() => &parts[parts.len() - 1].value,
            other => {
                return Err(SqlError::unsupported(format!(
                    "the expression {other} over INFORMATION_SCHEMA"
                )))
            }
        };
        let index = names
            .iter()
            .position(|candidate| candidate.eq_ignore_ascii_case(name))
            .ok_or_else(|| SqlError::invalid(format!("Column '{name}' not found in any table")))?;
        picked.push((index, alias.unwrap_or_else(|| names[index].to_owned())));
    }
    let columns = picked
        .iter()
        .map(|(index, name)| OutputColumn {
            name: name.clone(),
            sql_type: match table.columns[*index].1 {
                Kind::Text => SqlType::Varchar,
                Kind::Number => SqlType::Bigint,
            },
            field: String::new(),
        })
        .collect();
    let rows = rows
        .into_iter()
        .map(|row| {
            picked
                .iter()
                .map(|(index, _)| row[*index].clone())
                .collect()
        })
        .collect();
    Ok(Answer { columns, rows })
}
