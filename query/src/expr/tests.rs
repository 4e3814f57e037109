//! Parser and evaluator tests: precedence, literals, null handling, every function, errors.

use super::*;
use crate::parse::Limits;

fn eval_with(text: &str, inputs: &[(&str, Eval)]) -> Result<Eval, QueryError> {
    let expr = parse_expression(text, &Limits::default())?;
    let values: Vec<Eval> = expr
        .identifiers()
        .iter()
        .map(|name| {
            inputs
                .iter()
                .find(|(known, _)| known == name)
                .map_or(Eval::Null, |(_, value)| value.clone())
        })
        .collect();
    expr.eval(&mut |index| values[index].clone())
}

fn ev(text: &str) -> Eval {
    eval_with(text, &[]).unwrap_or_else(|error| panic!("{text}: {error}"))
}

fn s(text: &str) -> Eval {
    Eval::string(text)
}

fn parse_error(text: &str) -> QueryError {
    parse_expression(text, &Limits::default()).expect_err(text)
}

#[test]
fn precedence_and_associativity() {
    assert_eq!(ev("1 + 2 * 3"), Eval::Long(7));
    assert_eq!(ev("(1 + 2) * 3"), Eval::Long(9));
    assert_eq!(ev("2 ^ 3 ^ 2"), Eval::Long(512));
    assert_eq!(ev("-2 ^ 2"), Eval::Long(4));
    assert_eq!(ev("10 - 4 - 3"), Eval::Long(3));
    assert_eq!(ev("1 + 2 < 4 && 3 > 2"), Eval::Long(1));
    assert_eq!(ev("!0 + 1"), Eval::Long(2));
    assert_eq!(ev("1 || 0 && 0"), Eval::Long(0));
}

#[test]
fn arithmetic_types() {
    assert_eq!(ev("7 / 2"), Eval::Long(3));
    assert_eq!(ev("-7 / 2"), Eval::Long(-3));
    assert_eq!(ev("7 % -3"), Eval::Long(1));
    assert_eq!(ev("7.0 / 2"), Eval::Double(3.5));
    assert_eq!(ev("1.5 * 2"), Eval::Double(3.0));
    assert_eq!(ev("5.5 % 2"), Eval::Double(1.5));
    assert_eq!(ev("'5' + 2"), Eval::Double(7.0));
    assert_eq!(ev("'a' + 'b'"), s("ab"));
    assert_eq!(ev("'x' * 2"), Eval::Null);
    assert_eq!(ev("1.0 / 0"), Eval::Double(f64::INFINITY));
    assert_eq!(ev("9223372036854775807 + 1"), Eval::Long(i64::MIN));
    let division = eval_with("1 / 0", &[]).unwrap_err();
    assert_eq!(
        (division.status, division.error_message.as_str()),
        (500, "/ by zero")
    );
    assert!(eval_with("5 % 0", &[]).is_err());
    assert!(eval_with("'a' - 'b'", &[]).is_err());
    assert!(eval_with("-'a'", &[]).is_err());
}

#[test]
fn comparisons_are_long_booleans_with_nulls() {
    assert_eq!(ev("2 > 1.5"), Eval::Long(1));
    assert_eq!(ev("'b' < 'a'"), Eval::Long(0));
    assert_eq!(ev("'10' == 10"), Eval::Long(1));
    assert_eq!(ev("1 != 1.0"), Eval::Long(0));
    assert_eq!(ev("null == null"), Eval::Null);
    assert_eq!(ev("x > 1"), Eval::Null);
    assert_eq!(ev("null + 1"), Eval::Null);
}

#[test]
fn three_valued_logic() {
    assert_eq!(ev("null && 0"), Eval::Long(0));
    assert_eq!(ev("0 && null"), Eval::Long(0));
    assert_eq!(ev("null && 1"), Eval::Null);
    assert_eq!(ev("null || 1"), Eval::Long(1));
    assert_eq!(ev("1 || null"), Eval::Long(1));
    assert_eq!(ev("null || 0"), Eval::Null);
    assert_eq!(ev("2.5 && 'true'"), Eval::Long(1));
    assert_eq!(ev("-1 || 'yes'"), Eval::Long(0));
    assert_eq!(ev("!null"), Eval::Null);
    assert_eq!(ev("!'TRUE'"), Eval::Long(0));
}

#[test]
fn literals_and_identifiers() {
    assert_eq!(ev(r"'it\'s \u00e9'"), s("it's é"));
    assert_eq!(ev("1.5e3"), Eval::Double(1500.0));
    assert!(parse_expression("1e3", &Limits::default()).is_err());
    let quoted = eval_with(r#""my col" * 2"#, &[("my col", Eval::Long(21))]).unwrap();
    assert_eq!(quoted, Eval::Long(42));
    let expr = parse_expression("a + b * a + \"c\"", &Limits::default()).unwrap();
    assert_eq!(expr.identifiers(), ["a", "b", "c"]);
    assert_eq!(ev("-9223372036854775807 - 1"), Eval::Long(i64::MIN));
}

#[test]
fn general_functions() {
    assert_eq!(ev("if(1 > 2, 'a', 'b')"), s("b"));
    assert_eq!(ev("if(null, 1, 2)"), Eval::Long(2));
    assert_eq!(ev("nvl(null, 5)"), Eval::Long(5));
    assert_eq!(ev("nvl('x', 5)"), s("x"));
    assert_eq!(ev("coalesce(null, null, 3.5)"), Eval::Double(3.5));
    assert_eq!(ev("isnull(null) + notnull(1) * 10"), Eval::Long(11));
    assert_eq!(ev("case_searched(1 > 2, 'a', 2 > 1, 'b', 'c')"), s("b"));
    assert_eq!(ev("case_searched(0, 'a')"), Eval::Null);
    assert_eq!(ev("case_searched(0, 'a', 'z')"), s("z"));
    assert_eq!(ev("case_simple(2, 1, 'one', 2, 'two', 'many')"), s("two"));
    assert_eq!(ev("case_simple('3', 3, 'three', 'other')"), s("three"));
    assert_eq!(ev("case_simple(null, 1, 'one', 'other')"), s("other"));
    assert_eq!(ev("cast('3.7', 'LONG')"), Eval::Long(3));
    assert_eq!(ev("cast(2, 'double')"), Eval::Double(2.0));
    assert_eq!(ev("cast(2.0, 'STRING')"), s("2.0"));
    assert_eq!(ev("cast('abc', 'LONG')"), Eval::Null);
}

#[test]
fn math_functions() {
    assert_eq!(ev("abs(-3)"), Eval::Long(3));
    assert_eq!(ev("abs(-2.5)"), Eval::Double(2.5));
    assert_eq!(ev("ceil(1.2)"), Eval::Double(2.0));
    assert_eq!(ev("floor(-1.2)"), Eval::Double(-2.0));
    assert_eq!(ev("floor(5)"), Eval::Double(5.0));
    assert_eq!(ev("round(2.5)"), Eval::Double(3.0));
    assert_eq!(ev("round(-2.5)"), Eval::Double(-3.0));
    assert_eq!(ev("round(2.71828, 2)"), Eval::Double(2.72));
    assert_eq!(ev("round(1234, -2)"), Eval::Long(1200));
    assert_eq!(ev("round(-1250, -2)"), Eval::Long(-1300));
    assert_eq!(ev("round(2.675, 2)"), Eval::Double(2.68));
    assert_eq!(ev("round(1.005, 2)"), Eval::Double(1.01));
    assert_eq!(ev("round(0.004, 2)"), Eval::Double(0.0));
    assert_eq!(ev("round(0.005, 2)"), Eval::Double(0.01));
    assert_eq!(ev("round(-0.5)"), Eval::Double(-1.0));
    assert_eq!(ev("round(1234.5, -2)"), Eval::Double(1200.0));
    assert_eq!(ev("round(9.99, 1)"), Eval::Double(10.0));
    assert_eq!(ev("round(7)"), Eval::Long(7));
    assert_eq!(ev("pow(2, 10)"), Eval::Double(1024.0));
    assert_eq!(ev("sqrt(16)"), Eval::Double(4.0));
    assert_eq!(ev("exp(0)"), Eval::Double(1.0));
    assert_eq!(ev("log(1)"), Eval::Double(0.0));
    assert_eq!(ev("log10(1000)"), Eval::Double(3.0));
    assert_eq!(ev("greatest(1, 5, null, 3)"), Eval::Long(5));
    assert_eq!(ev("least(1, 0.5)"), Eval::Double(0.5));
    assert_eq!(ev("greatest('b', 'a', 10)"), s("b"));
    assert_eq!(ev("greatest(null, null)"), Eval::Null);
    assert_eq!(ev("max(3, 4)"), Eval::Long(4));
    assert_eq!(ev("min(3, null)"), Eval::Null);
    assert_eq!(ev("div(7, 2)"), Eval::Long(3));
    assert_eq!(ev("sqrt('x')"), Eval::Null);
    assert_eq!(ev("cbrt(27)"), Eval::Double(3.0));
    assert_eq!(ev("todegrees(pi())"), Eval::Double(180.0));
    assert_eq!(ev("atan2(0, -1)"), Eval::Double(std::f64::consts::PI));
    assert_eq!(ev("hypot(3, 4)"), Eval::Double(5.0));
    assert_eq!(ev("copysign(2, -0.0)"), Eval::Double(-2.0));
    assert_eq!(ev("acos(null)"), Eval::Null);
}

#[test]
fn safe_divide_and_subtract_months() {
    assert_eq!(ev("safe_divide(7, 2)"), Eval::Long(3));
    assert_eq!(ev("safe_divide(-7, 2)"), Eval::Long(-3));
    assert_eq!(ev("safe_divide(7, 0)"), Eval::Null);
    assert_eq!(ev("safe_divide(7.0, 2)"), Eval::Double(3.5));
    assert_eq!(ev("safe_divide(7, 0.0)"), Eval::Null);
    assert_eq!(ev("safe_divide(null, 2)"), Eval::Null);
    // 2015-01-31 to 2015-09-12: 7 whole months; backwards, -7.
    let (start, end) = (1_422_662_400_000_i64, 1_442_016_000_000_i64);
    assert_eq!(
        ev(&format!("subtract_months({end}, {start}, 'UTC')")),
        Eval::Long(7)
    );
    assert_eq!(
        ev(&format!("subtract_months({start}, {end}, 'UTC')")),
        Eval::Long(-7)
    );
    assert_eq!(ev("subtract_months(null, 0, 'UTC')"), Eval::Null);
}

#[test]
fn string_functions() {
    assert_eq!(ev("concat('a', 1, 2.5)"), s("a12.5"));
    assert_eq!(ev("concat('a', null)"), Eval::Null);
    assert_eq!(ev("concat()"), Eval::Null);
    assert_eq!(ev("greatest()"), Eval::Null);
    assert_eq!(ev("strlen('héllo')"), Eval::Long(5));
    assert_eq!(ev("strlen(null)"), Eval::Null);
    assert_eq!(ev("substring('abcdef', 2, 3)"), s("cde"));
    assert_eq!(ev("substring('abcdef', 4, 10)"), s("ef"));
    assert_eq!(ev("substring('abcdef', 1, -1)"), s("bcdef"));
    assert_eq!(ev("substring('abc', 3, 1)"), Eval::Null);
    assert_eq!(ev("left('abcdef', 2)"), s("ab"));
    assert_eq!(ev("right('abcdef', 2)"), s("ef"));
    assert_eq!(ev("right('ab', 5)"), s("ab"));
    assert!(eval_with("left('ab', -1)", &[]).is_err());
    assert_eq!(ev("lower('AbC')"), s("abc"));
    assert_eq!(ev("upper('AbC')"), s("ABC"));
    assert_eq!(ev("trim('  a b  ')"), s("a b"));
    assert_eq!(ev("ltrim('xxaxx', 'x')"), s("axx"));
    assert_eq!(ev("rtrim('xxaxx', 'x')"), s("xxa"));
    assert_eq!(ev("replace('banana', 'an', 'AN')"), s("bANANa"));
    assert_eq!(ev("strpos('banana', 'an')"), Eval::Long(1));
    assert_eq!(ev("strpos('banana', 'an', 2)"), Eval::Long(3));
    assert_eq!(ev("strpos('banana', 'x')"), Eval::Long(-1));
    assert_eq!(ev("reverse('abc')"), s("cba"));
    assert_eq!(ev("repeat('ab', 3)"), s("ababab"));
    assert_eq!(ev("repeat('ab', 0)"), Eval::Null);
    assert_eq!(ev("lpad('abc', 6, 'xy')"), s("xyxabc"));
    assert_eq!(ev("rpad('abc', 5, 'x')"), s("abcxx"));
    assert_eq!(ev("lpad('abcdef', 3, 'x')"), s("abc"));
    assert_eq!(ev("lpad('abc', 5, '')"), s("abc"));
    assert_eq!(ev("rpad('abc', 5, null)"), Eval::Null);
    assert_eq!(ev("like('Apple', 'A%e')"), Eval::Long(1));
    assert_eq!(ev("like('Apple', 'a%')"), Eval::Long(0));
    assert_eq!(ev("like('a_b', 'a!_b', '!')"), Eval::Long(1));
    assert_eq!(ev("like(null, '%')"), Eval::Long(0));
    assert_eq!(ev("regexp_extract('foo123bar', '[0-9]+')"), s("123"));
    assert_eq!(
        ev("regexp_extract('foo123bar', '([a-z]+)([0-9]+)', 2)"),
        s("123")
    );
    assert_eq!(ev("regexp_extract('foo', '[0-9]+')"), Eval::Null);
    assert_eq!(ev("regexp_like('foo123', '^f.o')"), Eval::Long(1));
    assert_eq!(ev("regexp_replace('a1b22', '[0-9]+', '#')"), s("a#b#"));
    assert_eq!(ev("contains_string('Banana', 'nan')"), Eval::Long(1));
    assert_eq!(ev("contains_string('Banana', 'BAN')"), Eval::Long(0));
    assert_eq!(ev("icontains_string('Banana', 'BAN')"), Eval::Long(1));
    assert_eq!(ev("parse_long('ff', 16)"), Eval::Long(255));
    assert_eq!(ev("parse_long('12x')"), Eval::Null);
}

#[test]
fn time_functions() {
    // 2015-09-12T00:46:58.771Z
    let t = "1442018818771";
    assert_eq!(
        ev(&format!("timestamp_floor({t}, 'PT1H')")),
        Eval::Long(1442016000000)
    );
    assert_eq!(
        ev(&format!("timestamp_floor({t}, 'P1D')")),
        Eval::Long(1442016000000)
    );
    assert_eq!(
        ev(&format!("timestamp_floor({t}, 'P1M')")),
        Eval::Long(1441065600000)
    );
    assert_eq!(
        ev(&format!("timestamp_ceil({t}, 'PT1H')")),
        Eval::Long(1442019600000)
    );
    assert_eq!(
        ev("timestamp_ceil(1442016000000, 'PT1H')"),
        Eval::Long(1442016000000)
    );
    assert_eq!(
        ev(&format!("timestamp_shift({t}, 'P1D', -2)")),
        Eval::Long(1441846018771)
    );
    // 2015-01-31 + P1M clamps to 2015-02-28.
    assert_eq!(
        ev("timestamp_shift(1422662400000, 'P1M', 1)"),
        Eval::Long(1425081600000)
    );
    assert_eq!(
        ev(&format!("timestamp_extract({t}, 'HOUR')")),
        Eval::Long(0)
    );
    assert_eq!(
        ev(&format!("timestamp_extract({t}, 'HOUR', '-07:00')")),
        Eval::Long(17)
    );
    assert_eq!(ev(&format!("timestamp_extract({t}, 'DOW')")), Eval::Long(6));
    assert_eq!(
        ev(&format!("timestamp_extract({t}, 'QUARTER')")),
        Eval::Long(3)
    );
    assert_eq!(
        ev(&format!("timestamp_extract({t}, 'EPOCH')")),
        Eval::Long(1442018818)
    );
    assert_eq!(
        ev(&format!("timestamp_extract({t}, 'year')")),
        Eval::Long(2015)
    );
    assert_eq!(
        ev(&format!("timestamp_format({t})")),
        s("2015-09-12T00:46:58.771Z")
    );
    assert_eq!(
        ev(&format!(
            "timestamp_format({t}, 'yyyy-MM-dd HH:mm', '+05:30')"
        )),
        s("2015-09-12 06:16")
    );
    assert_eq!(
        ev("timestamp_parse('2015-09-12T00:46:58.771Z')"),
        Eval::Long(1442018818771)
    );
    assert_eq!(
        ev("timestamp_parse('2015-09-12 01:00:00')"),
        Eval::Long(1442019600000)
    );
    assert_eq!(
        ev("timestamp_parse('2015-09-12 01:00:00', null, '+01:00')"),
        Eval::Long(1442016000000)
    );
    assert_eq!(
        ev("timestamp_parse('12/09/2015', 'dd/MM/yyyy')"),
        Eval::Long(1442016000000)
    );
    assert_eq!(ev("timestamp_parse('not a time')"), Eval::Null);
    assert_eq!(ev("timestamp('2015-09-12')"), Eval::Long(1442016000000));
    assert_eq!(ev("unix_timestamp('2015-09-12')"), Eval::Long(1442016000));
    assert!(eval_with("timestamp('nope')", &[]).is_err());
    assert_eq!(ev("timestamp_floor(null, 'PT1H')"), Eval::Null);
}

#[test]
fn parse_errors_are_400s_and_limits_hold() {
    let unknown = parse_error("foo(1)");
    assert_eq!(unknown.status, 400);
    assert!(unknown
        .error_message
        .contains("function 'foo' is not defined."));
    let arity = parse_error("substring('a', 1)");
    assert!(arity
        .error_message
        .contains("Function[substring] needs 3 arguments, got 2"));
    assert_eq!(parse_error("regexp_extract(x, y)").status, 400);
    assert_eq!(parse_error("cast(x, 'BLOB')").status, 400);
    assert_eq!(parse_error("timestamp_extract(x, 'FORTNIGHT')").status, 400);
    assert_eq!(
        parse_error("timestamp_floor(x, 'PT1H', null, 'Mars/Olympus')").status,
        400
    );
    // Named zones follow daylight saving: 2015-09-12T00:46:58.771Z is 18:46 MDT on the 11th.
    assert_eq!(
        ev("timestamp_floor(1442018818771, 'P1D', null, 'America/Denver')"),
        Eval::Long(1_441_951_200_000)
    );
    assert_eq!(
        ev("timestamp_format(1442018818771, 'yyyy-MM-dd HH:mm', 'America/Los_Angeles')"),
        s("2015-09-11 17:46")
    );
    for broken in [
        "", "1 +", "(1", "1 2", "f(", "a,b", ")", "'open", "1 === 2", "[1, 2]",
    ] {
        assert!(
            parse_expression(broken, &Limits::default()).is_err(),
            "{broken}"
        );
    }
    let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
    let error = parse_expression(&deep, &Limits::default()).unwrap_err();
    assert_eq!(error.error, "Resource limit exceeded");
    let unary = "-".repeat(5000) + "x";
    assert!(parse_expression(&unary, &Limits::default()).is_err());
    let long = "1+".repeat(60_000) + "1";
    assert_eq!(parse_error(&long).error, "Resource limit exceeded");
    let nested_calls = "abs(".repeat(150) + "1" + &")".repeat(150);
    assert_eq!(ev(&nested_calls), Eval::Long(1));
    let nested_parens = "(".repeat(190) + "x" + &")".repeat(190);
    assert_eq!(ev(&nested_parens), Eval::Null);
    let chain = "1+".repeat(150) + "1";
    assert_eq!(ev(&chain), Eval::Long(151));
    let too_long_chain = "1+".repeat(300) + "1";
    assert_eq!(
        parse_error(&too_long_chain).error,
        "Resource limit exceeded"
    );
}

#[test]
fn infers_output_types() {
    let infer = |text: &str, input: Option<ValueType>| {
        parse_expression(text, &Limits::default())
            .unwrap()
            .output_type(&|_| input)
    };
    assert_eq!(infer("x + 1", Some(ValueType::Long)), ValueType::Long);
    assert_eq!(infer("x + 1", Some(ValueType::Double)), ValueType::Double);
    assert_eq!(infer("x > 1", Some(ValueType::String)), ValueType::Long);
    assert_eq!(infer("concat(x, 1)", None), ValueType::String);
    assert_eq!(infer("timestamp_floor(x, 'P1D')", None), ValueType::Long);
    assert_eq!(infer("if(x, 1, 2.0)", None), ValueType::Double);
    assert_eq!(infer("cast(x, 'LONG')", None), ValueType::Long);
    assert_eq!(infer("timestamp_extract(x, 'DAY')", None), ValueType::Long);
    assert_eq!(
        infer("timestamp_extract(x, 'CENTURY')", None),
        ValueType::Double
    );
}

mod batch_equivalence {
    use proptest::prelude::*;

    use super::super::batch::Vector;
    use super::*;

    const FUNCTIONS: &[&str] = &[
        "abs", "ceil", "floor", "sqrt", "exp", "log", "log10", "signum", "pow", "isnull", "notnull",
    ];

    fn tree() -> BoxedStrategy<String> {
        let leaf = prop::sample::select(vec![
            "a",
            "b",
            "c",
            "0",
            "1",
            "-3",
            "2.5",
            "0.0",
            "null",
            "9223372036854775807",
        ])
        .prop_map(str::to_owned);
        leaf.prop_recursive(5, 32, 3, |inner| {
            let operators = vec![
                "+", "-", "*", "/", "%", "^", "<", "<=", ">", ">=", "==", "!=", "&&", "||",
            ];
            prop_oneof![
                (prop::sample::select(vec!["-", "!"]), inner.clone())
                    .prop_map(|(op, operand)| format!("{op}({operand})")),
                (
                    inner.clone(),
                    prop::sample::select(operators),
                    inner.clone()
                )
                    .prop_map(|(left, op, right)| format!("({left} {op} {right})")),
                (
                    prop::sample::select(FUNCTIONS),
                    inner.clone(),
                    inner.clone()
                )
                    .prop_map(|(name, first, second)| if name == "pow" {
                        format!("pow({first}, {second})")
                    } else {
                        format!("{name}({first})")
                    }),
                inner.prop_map(|arg| format!("timestamp_floor({arg}, 'PT1H')")),
            ]
        })
        .boxed()
    }

    fn same(left: &Eval, right: &Eval) -> bool {
        match (left, right) {
            (Eval::Double(l), Eval::Double(r)) => l.to_bits() == r.to_bits() || l == r,
            _ => left == right,
        }
    }

    proptest! {
        #[test]
        fn batches_match_rows(
            text in tree(),
            longs in prop::collection::vec(prop::option::of(-5i64..5), 8),
            doubles in prop::collection::vec(prop::option::of(-3.0f64..3.0), 8),
        ) {
            let expr = parse_expression(&text, &Limits::default()).unwrap();
            prop_assume!(expr.supports_batch(&|_| true));
            let input = |name: &str, row: usize| match name {
                "a" => longs[row].map_or(Eval::Null, Eval::Long),
                "b" => doubles[row].map_or(Eval::Null, Eval::Double),
                _ => Eval::Null,
            };
            let vectors: Vec<Vector> = expr
                .identifiers()
                .iter()
                .map(|name| match name.as_str() {
                    "a" => Vector::longs(
                        longs.iter().map(|v| v.unwrap_or(0)).collect(),
                        longs.iter().map(Option::is_none).collect(),
                    ),
                    "b" => Vector::doubles(
                        doubles.iter().map(|v| v.unwrap_or(0.0)).collect(),
                        doubles.iter().map(Option::is_none).collect(),
                    ),
                    _ => Vector::null(8),
                })
                .collect();
            if let Ok(batch) = expr.eval_batch(&vectors, 8) {
                for row in 0..8 {
                    let names = expr.identifiers().to_vec();
                    let scalar = expr
                        .eval(&mut |index| input(&names[index], row))
                        .unwrap_or_else(|error| panic!("{text} row {row}: {error}"));
                    prop_assert!(same(&scalar, &batch.get(row)), "{text} row {row}: {scalar:?} vs {:?}", batch.get(row));
                }
            }
        }
    }
}
