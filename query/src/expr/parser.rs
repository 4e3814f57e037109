//! Parsing tokens into an [`Expr`] by precedence climbing, with the length and nesting
//! limits checked before anything can recurse deeply.

use super::function;
use super::lexer::{tokenize, Token};
use super::{BinaryOp, Eval, Expr, Node, UnaryOp};
use crate::error::QueryError;
use crate::parse::Limits;

/// Parses an expression string, checking function names and arities.
pub(crate) fn parse_expression(text: &str, limits: &Limits) -> Result<Expr, QueryError> {
    let length = text.chars().count();
    if length > limits.max_expression_length {
        return Err(QueryError::resource_limit(format!(
            "expression of {length} characters exceeds the limit of {}",
            limits.max_expression_length
        )));
    }
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        text,
        tokens,
        at: 0,
        depth: 0,
        max_depth: limits.max_expression_depth,
        limits,
        identifiers: Vec::new(),
    };
    if parser.tokens.is_empty() {
        return Err(parser.error("empty expression"));
    }
    let (root, _) = parser.expression(0)?;
    if let Some(token) = parser.tokens.get(parser.at) {
        return Err(parser.error(format!("unexpected {token:?}")));
    }
    Ok(Expr {
        text: text.to_owned(),
        root,
        identifiers: parser.identifiers,
    })
}

struct Parser<'t> {
    text: &'t str,
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    max_depth: usize,
    limits: &'t Limits,
    identifiers: Vec<String>,
}

/// Binary operators by precedence level, lowest first.
const LEVELS: [&[(&str, BinaryOp)]; 5] = [
    &[("&&", BinaryOp::And), ("||", BinaryOp::Or)],
    &[
        ("<", BinaryOp::Lt),
        ("<=", BinaryOp::Le),
        (">", BinaryOp::Gt),
        (">=", BinaryOp::Ge),
        ("==", BinaryOp::Eq),
        ("!=", BinaryOp::Ne),
    ],
    &[("+", BinaryOp::Add), ("-", BinaryOp::Sub)],
    &[
        ("*", BinaryOp::Mul),
        ("/", BinaryOp::Div),
        ("%", BinaryOp::Mod),
    ],
    &[("^", BinaryOp::Pow)],
];

impl Parser<'_> {
    fn error(&self, message: impl std::fmt::Display) -> QueryError {
        QueryError::invalid_query(format!("Invalid expression: [{}]: {message}", self.text))
    }

    fn peek_symbol(&self) -> Option<&'static str> {
        match self.tokens.get(self.at) {
            Some(Token::Symbol(symbol)) => Some(symbol),
            _ => None,
        }
    }

    fn expect(&mut self, symbol: &str) -> Result<(), QueryError> {
        if self.peek_symbol() == Some(symbol) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error(format!("expected '{symbol}'")))
        }
    }

    /// Guards the parser's own recursion: a parenthesis or call argument costs two levels
    /// (an expression and its first operand).
    fn enter(&mut self) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > self.max_depth * 2 {
            return Err(QueryError::resource_limit(format!(
                "expression nests deeper than the limit of {}",
                self.max_depth
            )));
        }
        Ok(())
    }

    /// Fails when a node would be deeper than the limit (evaluation recurses on the tree).
    fn check_tree(&self, depth: usize) -> Result<usize, QueryError> {
        if depth > self.max_depth {
            return Err(QueryError::resource_limit(format!(
                "expression nests deeper than the limit of {}",
                self.max_depth
            )));
        }
        Ok(depth)
    }

    /// An expression whose operators are at `level` or tighter, and its tree depth.
    fn expression(&mut self, level: usize) -> Result<(Node, usize), QueryError> {
        self.enter()?;
        let (mut left, mut depth) = self.unary()?;
        // Precedence climbing: take operators of `level` or tighter, left to right.
        while let Some(symbol) = self.peek_symbol() {
            let Some((op_level, op)) = LEVELS.iter().enumerate().find_map(|(at, ops)| {
                ops.iter()
                    .find(|(text, _)| *text == symbol)
                    .map(|&(_, op)| (at, op))
            }) else {
                break;
            };
            if op_level < level {
                break;
            }
            self.at += 1;
            // `^` is right-associative; every other level is left-associative.
            let next = if op == BinaryOp::Pow {
                op_level
            } else {
                op_level + 1
            };
            let (right, right_depth) = self.expression(next)?;
            depth = self.check_tree(1 + depth.max(right_depth))?;
            left = Node::Binary(op, Box::new(left), Box::new(right));
        }
        self.depth -= 1;
        Ok((left, depth))
    }

    fn unary(&mut self) -> Result<(Node, usize), QueryError> {
        self.enter()?;
        let node = match self.peek_symbol() {
            Some("-") => {
                self.at += 1;
                match self.unary()? {
                    // Druid folds a negated numeric literal into a literal.
                    (Node::Literal(Eval::Long(value)), depth) => {
                        (Node::Literal(Eval::Long(value.wrapping_neg())), depth)
                    }
                    (Node::Literal(Eval::Double(value)), depth) => {
                        (Node::Literal(Eval::Double(-value)), depth)
                    }
                    (operand, depth) => (
                        Node::Unary(UnaryOp::Minus, Box::new(operand)),
                        self.check_tree(depth + 1)?,
                    ),
                }
            }
            Some("!") => {
                self.at += 1;
                let (operand, depth) = self.unary()?;
                (
                    Node::Unary(UnaryOp::Not, Box::new(operand)),
                    self.check_tree(depth + 1)?,
                )
            }
            _ => self.primary()?,
        };
        self.depth -= 1;
        Ok(node)
    }

    fn primary(&mut self) -> Result<(Node, usize), QueryError> {
        let Some(token) = self.tokens.get(self.at).cloned() else {
            return Err(self.error("unexpected end of expression"));
        };
        self.at += 1;
        let leaf = |node: Node| Ok((node, 1));
        match token {
            Token::Long(value) => leaf(Node::Literal(Eval::Long(value))),
            Token::Double(value) => leaf(Node::Literal(Eval::Double(value))),
            Token::Str(text) => leaf(Node::Literal(Eval::string(text))),
            Token::Null => leaf(Node::Literal(Eval::Null)),
            Token::Symbol("(") => {
                let inner = self.expression(0)?;
                self.expect(")")?;
                Ok(inner)
            }
            Token::Symbol("[") => Err(QueryError::unsupported(
                "array expressions are not supported yet",
            )),
            Token::Identifier(name) => {
                if self.peek_symbol() == Some("(") {
                    self.at += 1;
                    let (args, depth) = self.arguments()?;
                    let (func, compiled) = function::resolve(&name, &args, self.limits, self.text)?;
                    let call = Node::Call {
                        func,
                        args,
                        compiled,
                    };
                    return Ok((call, self.check_tree(depth + 1)?));
                }
                let index = match self.identifiers.iter().position(|known| *known == name) {
                    Some(index) => index,
                    None => {
                        self.identifiers.push(name);
                        self.identifiers.len() - 1
                    }
                };
                leaf(Node::Identifier(index))
            }
            Token::Symbol(symbol) => Err(self.error(format!("unexpected '{symbol}'"))),
        }
    }

    /// Function arguments after the opening parenthesis, through the closing one, and the
    /// depth of the deepest.
    fn arguments(&mut self) -> Result<(Vec<Node>, usize), QueryError> {
        let mut args = Vec::new();
        let mut depth = 0;
        if self.peek_symbol() == Some(")") {
            self.at += 1;
            return Ok((args, depth));
        }
        loop {
            let (arg, arg_depth) = self.expression(0)?;
            args.push(arg);
            depth = depth.max(arg_depth);
            match self.peek_symbol() {
                Some(",") => self.at += 1,
                Some(")") => {
                    self.at += 1;
                    return Ok((args, depth));
                }
                _ => return Err(self.error("expected ',' or ')' in function arguments")),
            }
        }
    }
}
