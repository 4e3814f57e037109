//! Virtual columns (`docs/querying/virtual-columns.md`): `{"type": "expression", "name",
//! "expression", "outputType"}`, parsed with their expression, checked for reserved and
//! duplicate names and for reference cycles. Aggregators with an `expression` become hidden
//! virtual columns too (see [`aggregator_columns`]).

use serde_json::Value;

use super::aggregator::{AggKind, AggregatorSpec, NumType};
use super::json::{type_id, Fields};
use super::spec::TIME_COLUMN;
use crate::error::QueryError;
use crate::expr::{parse_expression, Expr};
use crate::parse::Limits;

const VIRTUAL_COLUMN_CLASS: &str = "org.apache.druid.segment.VirtualColumn";
const KNOWN_VIRTUAL_COLUMN_TYPES: &[&str] =
    &["expression", "list-filtered", "mv-filtered", "nested-field"];

/// The type a virtual column's values are cast to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnKind {
    Long,
    Double,
    /// Values are rounded to `f32` and stored as doubles.
    Float,
    String,
}

/// One expression virtual column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct VirtualColumn {
    pub(crate) name: String,
    pub(crate) expression: Expr,
    /// `outputType`; `None` infers the type from the expression and its inputs.
    pub(crate) output: Option<ColumnKind>,
}

impl VirtualColumn {
    fn parse(value: &Value, limits: &Limits) -> Result<VirtualColumn, QueryError> {
        let fields = Fields::of(value, VIRTUAL_COLUMN_CLASS)?;
        match type_id(value, "type") {
            Some("expression") => {}
            Some(known) if KNOWN_VIRTUAL_COLUMN_TYPES.contains(&known) => {
                return Err(QueryError::unsupported(format!(
                    "virtual column type [{known}] is not supported yet"
                )))
            }
            Some(unknown) => {
                return Err(QueryError::unknown_type(
                    unknown,
                    VIRTUAL_COLUMN_CLASS,
                    KNOWN_VIRTUAL_COLUMN_TYPES,
                ))
            }
            None => return Err(QueryError::missing_type("type", VIRTUAL_COLUMN_CLASS)),
        }
        let name = fields.required_string("name", "name cannot be null")?;
        let text = fields.required_string("expression", "expression cannot be null")?;
        let output = fields
            .string("outputType")?
            .map(|output| parse_output_type(&output))
            .transpose()?;
        Ok(VirtualColumn {
            name,
            expression: parse_expression(&text, limits)?,
            output,
        })
    }
}

/// `outputType`: LONG, DOUBLE, FLOAT or STRING (any case); arrays and complex types are
/// not supported.
fn parse_output_type(text: &str) -> Result<ColumnKind, QueryError> {
    match text.to_ascii_uppercase().as_str() {
        "LONG" => Ok(ColumnKind::Long),
        "DOUBLE" => Ok(ColumnKind::Double),
        "FLOAT" => Ok(ColumnKind::Float),
        "STRING" => Ok(ColumnKind::String),
        upper if upper.starts_with("ARRAY") || upper.starts_with("COMPLEX") => {
            Err(QueryError::unsupported(format!(
                "virtual column outputType [{text}] is not supported"
            )))
        }
        _ => Err(QueryError::invalid_query(format!(
            "Cannot deserialize ColumnType from [{text}]"
        ))),
    }
}

/// Parses `virtualColumns`, rejecting `__time`, duplicate names and reference cycles.
pub(crate) fn parse_virtual_columns(
    specs: &[Value],
    limits: &Limits,
) -> Result<Vec<VirtualColumn>, QueryError> {
    limits.check_values("virtualColumns", specs.len())?;
    let columns = specs
        .iter()
        .map(|spec| VirtualColumn::parse(spec, limits))
        .collect::<Result<Vec<_>, _>>()?;
    for (index, column) in columns.iter().enumerate() {
        if column.name == TIME_COLUMN {
            return Err(QueryError::invalid_query(format!(
                "virtualColumn name[{TIME_COLUMN}] not allowed"
            )));
        }
        if columns[..index]
            .iter()
            .any(|other| other.name == column.name)
        {
            return Err(QueryError::invalid_query(format!(
                "Duplicate virtualColumn name[{}]",
                column.name
            )));
        }
    }
    check_cycles(&columns)?;
    Ok(columns)
}

/// Fails when a virtual column reads itself, directly or through other virtual columns.
fn check_cycles(columns: &[VirtualColumn]) -> Result<(), QueryError> {
    let depends = |index: usize| -> Vec<usize> {
        columns[index]
            .expression
            .identifiers()
            .iter()
            .filter_map(|name| columns.iter().position(|column| &column.name == name))
            .collect()
    };
    // 0: unvisited, 1: on the current path, 2: done. Iterative depth-first search.
    let mut state = vec![0u8; columns.len()];
    for start in 0..columns.len() {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, Vec<usize>)> = vec![(start, depends(start))];
        state[start] = 1;
        while let Some((node, pending)) = stack.last_mut() {
            match pending.pop() {
                Some(next) if state[next] == 1 => {
                    return Err(QueryError::invalid_query(format!(
                        "Self-referential column[{}]",
                        columns[next].name
                    )))
                }
                Some(next) if state[next] == 0 => {
                    state[next] = 1;
                    let next_depends = depends(next);
                    stack.push((next, next_depends));
                }
                Some(_) => {}
                None => {
                    state[*node] = 2;
                    stack.pop();
                }
            }
        }
    }
    Ok(())
}

/// The hidden virtual columns behind aggregators with an `expression`.
pub(crate) fn aggregator_columns(aggregators: &[AggregatorSpec]) -> Vec<VirtualColumn> {
    aggregators
        .iter()
        .filter_map(|aggregator| {
            let expression = aggregator.expression.clone()?;
            let output = match aggregator.kind {
                AggKind::Numeric(NumType::Long, _) => ColumnKind::Long,
                AggKind::Numeric(NumType::Float, _) => ColumnKind::Float,
                _ => ColumnKind::Double,
            };
            Some(VirtualColumn {
                name: aggregator.field.clone()?,
                expression,
                output: Some(output),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn parse(specs: Value) -> Result<Vec<VirtualColumn>, QueryError> {
        parse_virtual_columns(specs.as_array().unwrap(), &Limits::default())
    }

    #[test]
    fn parses_and_validates() {
        let columns = parse(json!([
            {"type": "expression", "name": "v0", "expression": "x + 1", "outputType": "long"},
            {"type": "expression", "name": "v1", "expression": "v0 * 2"}
        ]))
        .unwrap();
        assert_eq!(columns[0].output, Some(ColumnKind::Long));
        assert_eq!(columns[1].output, None);
        let time = parse(json!([{"type": "expression", "name": "__time", "expression": "1"}]));
        assert_eq!(time.unwrap_err().status, 400);
        let duplicate = parse(json!([
            {"type": "expression", "name": "a", "expression": "1"},
            {"type": "expression", "name": "a", "expression": "2"}
        ]));
        assert!(duplicate.unwrap_err().error_message.contains("Duplicate"));
        let cycle = parse(json!([
            {"type": "expression", "name": "a", "expression": "b + 1"},
            {"type": "expression", "name": "b", "expression": "c + a"},
            {"type": "expression", "name": "c", "expression": "1"}
        ]));
        assert!(cycle
            .unwrap_err()
            .error_message
            .contains("Self-referential"));
        let own = parse(json!([{"type": "expression", "name": "a", "expression": "a"}]));
        assert!(own.is_err());
        let nested = parse(json!([{"type": "nested-field", "name": "a"}]));
        assert_eq!(nested.unwrap_err().status, 501);
        let bad_type = parse(json!([
            {"type": "expression", "name": "a", "expression": "1", "outputType": "BLOB"}
        ]));
        assert_eq!(bad_type.unwrap_err().status, 400);
    }
}
