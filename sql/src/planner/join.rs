//! JOIN, `FROM (VALUES ...)` and `lookup.<name>` tables, planned to Druid's native `join`,
//! `inline` and `lookup` data sources (`docs/querying/datasource.md`), as Druid's planner
//! does:
//! - each JOIN wraps what FROM read so far (left-deep) with the joined relation on the right
//!   under the prefix `j0.` (then `_j0.`, `__j0.` ... for later joins of the same FROM);
//! - a table on the right becomes a `query` data source scanning its columns (Druid joins
//!   only broadcast data on the right; the broker runs the scan and broadcasts its rows, at
//!   most `maxSubqueryRows`); [`prune_right_scans`] then keeps only the columns the query
//!   reads;
//! - the ON condition must be equalities between an expression of the left side and a
//!   column of the right side, ANDed; INNER and LEFT joins. Anything else (RIGHT, FULL,
//!   CROSS, USING, NATURAL, other conditions) is Druid's "not supported" error, never a
//!   wrong answer.

use serde_json::{json, Value};
use sqlparser::ast::{
    BinaryOperator, Expr, Join, JoinConstraint, JoinOperator, TableAlias, Values,
};

use super::source::{Env, Source, SourceColumn};
use crate::scalar::{quote_identifier, Lit, Scalar, Scope};
use crate::{SqlError, SqlType};

const ETERNITY: &str = "-146136543-09-08T08:23:32.096Z/146140482-04-24T15:36:27.903Z";

/// The prefix of the right side of the `index`th join of one FROM clause.
fn prefix(index: usize) -> String {
    format!("{}j0.", "_".repeat(index))
}

/// `left JOIN right ON ...` as a native join data source.
pub(crate) fn join(
    env: &Env,
    left: Source,
    join: &Join,
    right: Source,
    index: usize,
) -> Result<Source, SqlError> {
    let (join_type, constraint) = match &join.join_operator {
        JoinOperator::Join(constraint) | JoinOperator::Inner(constraint) => ("INNER", constraint),
        JoinOperator::Left(constraint) | JoinOperator::LeftOuter(constraint) => {
            ("LEFT", constraint)
        }
        other => {
            return Err(SqlError::unsupported(format!(
                "{} (Henge joins INNER or LEFT)",
                operator_name(other)
            )))
        }
    };
    let JoinConstraint::On(on) = constraint else {
        return Err(SqlError::unsupported(
            "a join without an ON condition (USING, NATURAL or none)",
        ));
    };
    let prefix = prefix(index);
    let condition = condition(env, &left, &right, on, &prefix)?;
    let right_data_source = match right.data_source.get("type").and_then(Value::as_str) {
        Some("table") => scan_of(&right),
        _ => right.data_source.clone(),
    };
    let mut columns = left.columns;
    columns.extend(right.columns.into_iter().map(|column| SourceColumn {
        field: format!("{prefix}{}", column.field),
        ..column
    }));
    Ok(Source {
        data_source: json!({
            "type": "join",
            "left": left.data_source,
            "right": right_data_source,
            "rightPrefix": prefix,
            "condition": condition,
            "joinType": join_type,
        }),
        columns,
    })
}

fn operator_name(operator: &JoinOperator) -> &'static str {
    match operator {
        JoinOperator::Right(_) | JoinOperator::RightOuter(_) => "RIGHT JOIN",
        JoinOperator::FullOuter(_) => "FULL JOIN",
        JoinOperator::CrossJoin(_) => "CROSS JOIN",
        _ => "this kind of join",
    }
}

/// The native condition: `(left == "<prefix>column") && ...`.
fn condition(
    env: &Env,
    left: &Source,
    right: &Source,
    on: &Expr,
    prefix: &str,
) -> Result<String, SqlError> {
    let left_scope = Scope::new(left.clone(), env.params, env.zone, env.now);
    let right_scope = Scope::new(right.clone(), env.params, env.zone, env.now);
    let right_column = |expr: &Expr| match right_scope.scalar(expr) {
        Ok(Scalar::Column(field, _)) => Some(field),
        _ => None,
    };
    let mut equalities = Vec::new();
    for term in conjuncts(on) {
        let non_equi = || {
            SqlError::unsupported(format!(
                "join condition [{on}]: Henge joins on equalities between the left side and a \
                 column of the right side, ANDed"
            ))
        };
        let Expr::BinaryOp {
            left: first,
            op: BinaryOperator::Eq,
            right: second,
        } = term
        else {
            return Err(non_equi());
        };
        let (left_expr, field) = match (right_column(second), right_column(first)) {
            (Some(field), _) if left_scope.scalar(first).is_ok() => (first, field),
            (_, Some(field)) if left_scope.scalar(second).is_ok() => (second, field),
            _ => return Err(non_equi()),
        };
        let left_value = left_scope.scalar(left_expr)?;
        equalities.push(format!(
            "({} == {})",
            left_value.to_expr(),
            quote_identifier(&format!("{prefix}{field}"))
        ));
    }
    Ok(equalities.join(" && "))
}

fn conjuncts(expr: &Expr) -> Vec<&Expr> {
    match expr {
        Expr::Nested(inner) => conjuncts(inner),
        Expr::BinaryOp {
            left,
            op: BinaryOperator::And,
            right,
        } => {
            let mut terms = conjuncts(left);
            terms.extend(conjuncts(right));
            terms
        }
        other => vec![other],
    }
}

/// A table on the right side: a scan of its columns over all time.
fn scan_of(table: &Source) -> Value {
    let columns: Vec<&str> = table
        .columns
        .iter()
        .map(|column| column.field.as_str())
        .collect();
    json!({"type": "query", "query": {
        "queryType": "scan",
        "dataSource": table.data_source,
        "intervals": {"type": "intervals", "intervals": [ETERNITY]},
        "resultFormat": "compactedList",
        "columns": columns,
    }})
}

/// Narrows each join's right-side scan (without an `order`) to the columns the rest of the
/// query reads: a column stays when its prefixed name appears anywhere outside the right
/// side (a longer name that shares it keeps it too, which costs only a column).
pub(crate) fn prune_right_scans(native: &mut Value) {
    let mut path = vec!["dataSource".to_owned()];
    loop {
        let pointer = format!("/{}", path.join("/"));
        let Some(source) = native.pointer(&pointer) else {
            return;
        };
        if source.get("type").and_then(Value::as_str) != Some("join") {
            return;
        }
        let prefix = source
            .get("rightPrefix")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let right_pointer = format!("{pointer}/right");
        let mut outside = native.clone();
        if let Some(right) = outside.pointer_mut(&right_pointer) {
            *right = Value::Null;
        }
        let outside = outside.to_string();
        if let Some(Value::Array(columns)) =
            native.pointer_mut(&format!("{right_pointer}/query/columns"))
        {
            columns.retain(|column| {
                column
                    .as_str()
                    .is_some_and(|name| outside.contains(&format!("{prefix}{name}")))
            });
        }
        path.push("left".to_owned());
    }
}

/// `FROM (VALUES (1, 'a'), (2, 'b')) AS t(x, y)`: an inline data source. Every value must
/// be a literal; columns are named by the alias (else `EXPR$0`, `EXPR$1`, ...) and typed from
/// their values (BIGINT, DOUBLE when longs and doubles mix, VARCHAR).
pub(crate) fn values(
    env: &Env,
    values: &Values,
    alias: Option<&TableAlias>,
) -> Result<Source, SqlError> {
    let scope = Scope::new(
        Source {
            data_source: Value::Null,
            columns: Vec::new(),
        },
        env.params,
        env.zone,
        env.now,
    );
    let width = values.rows.first().map_or(0, |row| row.content.len());
    let mut rows: Vec<Vec<Lit>> = Vec::with_capacity(values.rows.len());
    for row in &values.rows {
        if row.content.len() != width {
            return Err(SqlError::invalid("Values passed to VALUES operator must have compatible types: rows differ in length"));
        }
        let mut literals = Vec::with_capacity(width);
        for expr in &row.content {
            match scope.scalar(expr)? {
                Scalar::Literal(literal) => literals.push(literal),
                _ => {
                    return Err(SqlError::unsupported(format!(
                        "VALUES with the non-literal [{expr}]"
                    )))
                }
            }
        }
        rows.push(literals);
    }
    let names: Vec<String> = match alias.map(|alias| &alias.columns) {
        Some(columns) if !columns.is_empty() => {
            if columns.len() != width {
                return Err(SqlError::invalid(format!(
                    "List of column aliases must have same degree as table; table has {width} \
                     columns, whereas alias list has {} columns",
                    columns.len()
                )));
            }
            columns
                .iter()
                .map(|column| column.name.value.clone())
                .collect()
        }
        _ => (0..width).map(|index| format!("EXPR${index}")).collect(),
    };
    let mut types = Vec::with_capacity(width);
    for index in 0..width {
        types.push(column_type(rows.iter().map(|row| &row[index]))?);
    }
    let native_types: Vec<&str> = types.iter().map(SqlType::value_type).collect();
    let json_rows: Vec<Value> = rows
        .iter()
        .map(|row| {
            Value::Array(
                row.iter()
                    .zip(&types)
                    .map(|(literal, sql_type)| match (literal, sql_type) {
                        (Lit::Long(long), SqlType::Double) => json!(*long as f64),
                        (literal, _) => literal.to_json(),
                    })
                    .collect(),
            )
        })
        .collect();
    let qualifier = alias.map_or_else(|| "EXPR$0".to_owned(), |alias| alias.name.value.clone());
    Ok(Source {
        data_source: json!({
            "type": "inline",
            "columnNames": names,
            "columnTypes": native_types,
            "rows": json_rows,
        }),
        columns: names
            .iter()
            .zip(types)
            .map(|(name, sql_type)| SourceColumn {
                qualifier: qualifier.clone(),
                name: name.clone(),
                field: name.clone(),
                sql_type,
            })
            .collect(),
    })
}

/// The SQL type of one VALUES column.
fn column_type<'l>(literals: impl Iterator<Item = &'l Lit>) -> Result<SqlType, SqlError> {
    let mut seen: Option<SqlType> = None;
    for literal in literals {
        let kind = match literal {
            Lit::Null => continue,
            Lit::Long(_) | Lit::Bool(_) => SqlType::Bigint,
            Lit::Double(_) => SqlType::Double,
            Lit::String(_) => SqlType::Varchar,
            Lit::Timestamp(_) | Lit::Interval(_) | Lit::Months(_) => {
                return Err(SqlError::unsupported(
                    "VALUES with TIMESTAMP or INTERVAL literals",
                ))
            }
        };
        seen = Some(match (seen, kind) {
            (None, kind) => kind,
            (Some(known), kind) if known == kind => known,
            (Some(SqlType::Bigint | SqlType::Double), SqlType::Bigint | SqlType::Double) => {
                SqlType::Double
            }
            _ => {
                return Err(SqlError::invalid(
                    "Values passed to VALUES operator must have compatible types",
                ))
            }
        });
    }
    Ok(seen.unwrap_or(SqlType::Varchar))
}

/// `lookup.<name>`: the registered lookup as a table of `k` and `v`.
pub(crate) fn lookup(env: &Env, name: &str, qualifier: String) -> Result<Source, SqlError> {
    if !env.catalog.lookup_names().iter().any(|known| known == name) {
        return Err(SqlError::invalid(format!(
            "Object 'lookup.{name}' not found"
        )));
    }
    let column = |column: &str| SourceColumn {
        qualifier: qualifier.clone(),
        name: column.to_owned(),
        field: column.to_owned(),
        sql_type: SqlType::Varchar,
    };
    Ok(Source {
        data_source: json!({"type": "lookup", "lookup": name}),
        columns: vec![column("k"), column("v")],
    })
}
