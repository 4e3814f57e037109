//! Druid's expression language (`docs/querying/math-expr.md`): parsing an expression string
//! into an [`Expr`] tree and evaluating it over named inputs.
//!
//! - `lexer`: tokens (identifiers, `"quoted identifiers"`, `'strings'` with Java escapes,
//!   long and double literals, operators);
//! - `parser`: precedence climbing with Druid's grammar (unary `-`/`!` bind tightest, then
//!   right-associative `^`, `* / %`, `+ -`, comparisons, `&& ||`), length and nesting limits,
//!   function names and arities checked at parse time, literal arguments (patterns, periods,
//!   types) compiled once;
//! - `value`: [`Eval`], the typed value with Druid's conversions and truthiness;
//! - `eval`: operators with Druid's SQL-compatible null handling and strict booleans
//!   (comparisons and logic yield longs 1/0; null operands give null);
//! - `function` (+ `function/`): the built-in functions;
//! - `batch`: vectorized evaluation of numeric expressions over a batch of rows;
//! - `infer`: the static output type of an expression, for virtual columns without
//!   `outputType`.

mod batch;
mod eval;
mod function;
mod infer;
mod lexer;
mod parser;
#[cfg(test)]
mod tests;
mod value;

use std::sync::Arc;

pub(crate) use self::batch::{Values, Vector};
pub(crate) use self::infer::ValueType;
pub(crate) use self::parser::parse_expression;
pub(crate) use self::value::Eval;
use crate::error::QueryError;
use function::{Compiled, Func};

/// A unary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UnaryOp {
    Minus,
    Not,
}

/// A binary operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BinaryOp {
    Pow,
    Mul,
    Div,
    Mod,
    Add,
    Sub,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinaryOp {
    fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Pow => "^",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Mod => "%",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::And => "&&",
            BinaryOp::Or => "||",
        }
    }
}

/// One node of a parsed expression.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    Literal(Eval),
    /// An input, by index into [`Expr::identifiers`].
    Identifier(usize),
    Unary(UnaryOp, Box<Node>),
    Binary(BinaryOp, Box<Node>, Box<Node>),
    Call {
        func: Func,
        args: Vec<Node>,
        /// Literal arguments compiled at parse time (regexes, periods, patterns, types).
        compiled: Option<Arc<Compiled>>,
    },
}

/// A parsed expression: its tree and the distinct input names it reads.
#[derive(Clone, Debug)]
pub(crate) struct Expr {
    text: String,
    root: Node,
    identifiers: Vec<String>,
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.text == other.text
    }
}

impl Expr {
    /// The input names the expression reads, each once, in order of first appearance.
    pub(crate) fn identifiers(&self) -> &[String] {
        &self.identifiers
    }

    /// Evaluates the expression; `input(i)` is the value of `identifiers()[i]`.
    pub(crate) fn eval(&self, input: &mut dyn FnMut(usize) -> Eval) -> Result<Eval, QueryError> {
        eval::eval(&self.root, input)
    }

    /// Whether the expression can be evaluated a batch of rows at a time, given which
    /// inputs are numeric.
    pub(crate) fn supports_batch(&self, numeric_input: &dyn Fn(usize) -> bool) -> bool {
        batch::supports(&self.root, numeric_input)
    }

    /// Evaluates the expression over `len` rows; `inputs[i]` holds `identifiers()[i]`.
    /// Call only when [`Self::supports_batch`] holds; on an error, evaluate row by row.
    pub(crate) fn eval_batch(&self, inputs: &[Vector], len: usize) -> Result<Vector, QueryError> {
        batch::eval(&self.root, inputs, len)
    }

    /// The static type of the result, given the types of the inputs (`None`: unknown).
    pub(crate) fn output_type(&self, input: &dyn Fn(usize) -> Option<ValueType>) -> ValueType {
        infer::infer(&self.root, input).unwrap_or(ValueType::String)
    }

    /// The sides of each equality of a condition made only of `a == b` terms joined by
    /// `&&` (a join condition), each side as an expression of its own; `None` for any other
    /// shape.
    pub(crate) fn equalities(&self) -> Option<Vec<(Expr, Expr)>> {
        fn collect<'n>(node: &'n Node, out: &mut Vec<(&'n Node, &'n Node)>) -> Option<()> {
            match node {
                Node::Binary(BinaryOp::And, left, right) => {
                    collect(left, out)?;
                    collect(right, out)
                }
                Node::Binary(BinaryOp::Eq, left, right) => {
                    out.push((left, right));
                    Some(())
                }
                _ => None,
            }
        }
        let mut sides = Vec::new();
        collect(&self.root, &mut sides)?;
        Some(
            sides
                .into_iter()
                .map(|(left, right)| (self.part(left), self.part(right)))
                .collect(),
        )
    }

    /// A subtree of this expression as an expression of its own (inputs renumbered).
    fn part(&self, node: &Node) -> Expr {
        fn renumber(node: &Node, from: &[String], to: &mut Vec<String>) -> Node {
            match node {
                Node::Literal(value) => Node::Literal(value.clone()),
                Node::Identifier(index) => {
                    let name = &from[*index];
                    let at = to
                        .iter()
                        .position(|known| known == name)
                        .unwrap_or_else(|| {
                            to.push(name.clone());
                            to.len() - 1
                        });
                    Node::Identifier(at)
                }
                Node::Unary(op, inner) => Node::Unary(*op, Box::new(renumber(inner, from, to))),
                Node::Binary(op, left, right) => Node::Binary(
                    *op,
                    Box::new(renumber(left, from, to)),
                    Box::new(renumber(right, from, to)),
                ),
                Node::Call {
                    func,
                    args,
                    compiled,
                } => Node::Call {
                    func: *func,
                    args: args.iter().map(|arg| renumber(arg, from, to)).collect(),
                    compiled: compiled.clone(),
                },
            }
        }
        let mut identifiers = Vec::new();
        let root = renumber(node, &self.identifiers, &mut identifiers);
        Expr {
            text: format!("{}#{root:?}", self.text),
            root,
            identifiers,
        }
    }

    /// The expression's text, as written.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The input a bare identifier reads (`None` for anything else).
    pub(crate) fn as_identifier(&self) -> Option<&str> {
        match self.root {
            Node::Identifier(index) => Some(&self.identifiers[index]),
            _ => None,
        }
    }

    /// Whether the expression is a constant (reads no input).
    pub(crate) fn is_constant(&self) -> bool {
        self.identifiers.is_empty()
    }
}

/// A failure while evaluating an expression on some row (Druid's runtime exceptions).
pub(crate) fn runtime_error(message: impl Into<String>, class: &str) -> QueryError {
    QueryError::unknown(message, class)
}
