//! Boolean SQL expressions as native expressions (BOOLEAN values are longs 1/0, null when
//! unknown): comparisons, AND, OR, NOT, IS [NOT] NULL, IS [NOT] TRUE/FALSE, [NOT] IN,
//! [NOT] BETWEEN and [NOT] LIKE. They serve CASE conditions, boolean SELECT items and the
//! `expression` filters of conditions no native filter expresses.

use sqlparser::ast::{BinaryOperator, Expr, InTarget, UnaryOperator};

use super::{Lit, Scalar, Scope};
use crate::{SqlError, SqlType};

impl Scope<'_> {
    /// `expr` as a boolean native expression; `None` when it is not a condition.
    pub fn condition(&self, expr: &Expr) -> Result<Option<Scalar>, SqlError> {
        let boolean = |text: String| Ok(Some(Scalar::Expr(text, SqlType::Boolean)));
        match expr {
            Expr::Nested(inner) => self.condition(inner),
            Expr::BinaryOp { left, op, right } => {
                let symbol = match op {
                    BinaryOperator::And => "&&",
                    BinaryOperator::Or => "||",
                    BinaryOperator::Eq => "==",
                    BinaryOperator::NotEq => "!=",
                    BinaryOperator::Lt => "<",
                    BinaryOperator::LtEq => "<=",
                    BinaryOperator::Gt => ">",
                    BinaryOperator::GtEq => ">=",
                    _ => return Ok(None),
                };
                let (left, right) = self.comparable(left, right)?;
                boolean(format!("({} {symbol} {})", left.to_expr(), right.to_expr()))
            }
            Expr::UnaryOp {
                op: UnaryOperator::Not,
                expr: inner,
            } => boolean(format!("!{}", self.scalar(inner)?.to_expr())),
            Expr::IsNull(inner) => boolean(format!("isnull({})", self.scalar(inner)?.to_expr())),
            Expr::IsNotNull(inner) => {
                boolean(format!("notnull({})", self.scalar(inner)?.to_expr()))
            }
            Expr::IsTrue(inner) => {
                boolean(format!("(nvl({},0) != 0)", self.scalar(inner)?.to_expr()))
            }
            Expr::IsNotTrue(inner) => {
                boolean(format!("(nvl({},0) == 0)", self.scalar(inner)?.to_expr()))
            }
            Expr::IsFalse(inner) => {
                boolean(format!("(nvl({},1) == 0)", self.scalar(inner)?.to_expr()))
            }
            Expr::IsNotFalse(inner) => {
                boolean(format!("(nvl({},1) != 0)", self.scalar(inner)?.to_expr()))
            }
            Expr::In {
                expr: inner,
                target: InTarget::List(list),
                negated,
                global: false,
            } => {
                let mut terms = Vec::new();
                for item in list {
                    let (left, right) = self.comparable(inner, item)?;
                    terms.push(format!("({} == {})", left.to_expr(), right.to_expr()));
                }
                let any = format!("({})", terms.join(" || "));
                boolean(if *negated { format!("!{any}") } else { any })
            }
            Expr::Between {
                expr: inner,
                negated,
                low,
                high,
            } => {
                let (value, low) = self.comparable(inner, low)?;
                let (_, high) = self.comparable(inner, high)?;
                let within = format!(
                    "(({value} >= {}) && ({value} <= {}))",
                    low.to_expr(),
                    high.to_expr(),
                    value = value.to_expr()
                );
                boolean(if *negated {
                    format!("!{within}")
                } else {
                    within
                })
            }
            Expr::Like {
                negated,
                any: false,
                expr: inner,
                pattern,
                escape_char,
            } => {
                let value = self.scalar(inner)?;
                let pattern = self.scalar(pattern)?;
                let escape = match escape_char {
                    Some(escape) => format!(",{}", self.scalar(escape)?.to_expr()),
                    None => String::new(),
                };
                let like = format!("like({},{}{escape})", value.to_expr(), pattern.to_expr());
                boolean(if *negated { format!("!{like}") } else { like })
            }
            _ => Ok(None),
        }
    }

    /// Both sides of a comparison, a string literal compared with a TIMESTAMP read as a
    /// timestamp in the query's zone.
    fn comparable(&self, left: &Expr, right: &Expr) -> Result<(Scalar, Scalar), SqlError> {
        let (left, right) = (self.scalar(left)?, self.scalar(right)?);
        let as_time = |scalar: Scalar, other: &Scalar| -> Result<Scalar, SqlError> {
            match (&scalar, other.sql_type()) {
                (Scalar::Literal(Lit::String(text)), Some(SqlType::Timestamp)) => {
                    self.timestamp_literal(text)
                }
                _ => Ok(scalar),
            }
        };
        let left = as_time(left, &right)?;
        let right = as_time(right, &left)?;
        Ok((left, right))
    }
}
