//! Top-level `UNION ALL`: as Druid does, each branch is planned and run on its own and the
//! answers are concatenated; the columns are the first branch's, and every branch must have
//! as many columns, of the same SQL types.

use sqlparser::ast::{Query, SetExpr, SetOperator, SetQuantifier};

use super::{plan_query, Env, Planned};
use crate::SqlError;

/// Plans `query`, whose body is a set operation.
pub(super) fn plan_union(env: &Env, query: &Query) -> Result<Planned, SqlError> {
    if query.order_by.is_some() || query.limit_clause.is_some() {
        return Err(SqlError::unsupported(
            "ORDER BY, LIMIT or OFFSET over UNION ALL",
        ));
    }
    let mut branches = Vec::new();
    flatten(query.body.as_ref(), &mut branches)?;
    let mut planned = Vec::with_capacity(branches.len());
    for branch in branches {
        let branch_query = match branch {
            SetExpr::Query(inner) => inner.as_ref().clone(),
            other => Query {
                with: None,
                body: Box::new(other.clone()),
                order_by: None,
                limit_clause: None,
                fetch: None,
                locks: Vec::new(),
                for_clause: None,
                settings: None,
                format_clause: None,
                pipe_operators: Vec::new(),
            },
        };
        planned.push(plan_query(env, &branch_query)?);
    }
    let mut branches = planned.into_iter();
    let Some(mut first) = branches.next() else {
        return Err(SqlError::invalid("UNION ALL without branches"));
    };
    for branch in branches {
        if branch.columns.len() != first.columns.len() {
            return Err(SqlError::invalid(
                "Column count mismatch in UNION ALL".to_owned(),
            ));
        }
        for (ours, theirs) in first.columns.iter().zip(&branch.columns) {
            if ours.sql_type != theirs.sql_type {
                return Err(SqlError::invalid(format!(
                    "Type mismatch in column '{}' of UNION ALL: {} and {}",
                    ours.name,
                    ours.sql_type.sql_name(),
                    theirs.sql_type.sql_name()
                )));
            }
        }
        first.union_all.push(branch);
    }
    Ok(first)
}

/// The branches of a chain of `UNION ALL`s, in order.
fn flatten<'q>(body: &'q SetExpr, branches: &mut Vec<&'q SetExpr>) -> Result<(), SqlError> {
    match body {
        SetExpr::SetOperation {
            op: SetOperator::Union,
            set_quantifier: SetQuantifier::All,
            left,
            right,
        } => {
            flatten(left, branches)?;
            flatten(right, branches)
        }
        SetExpr::SetOperation { op, .. } => Err(SqlError::unsupported(format!(
            "{op} without ALL (only UNION ALL)"
        ))),
        other => {
            branches.push(other);
            Ok(())
        }
    }
}
