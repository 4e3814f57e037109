//! The golden Druid SQL cases (`cluster-tests/cases/sql/*.slt`, format in
//! `cluster-tests/cases/README.md`): parsing the files and turning expected rows into the
//! JSON a `resultFormat: "array"` answer is compared with.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// One SQL case.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlCase {
    /// `file:name`.
    pub name: String,
    pub sql: String,
    /// Relative tolerance for numbers (approximate aggregates); exact when `None`.
    pub tolerance: Option<f64>,
    /// The SQL query context posted with the query (a `context {...}` line).
    pub context: Option<Value>,
    /// The expected rows, each a JSON array.
    pub expected: Vec<Value>,
}

impl SqlCase {
    /// The expected answer as one JSON array; with a tolerance, numbers become doubles so
    /// that the comparison applies it.
    pub fn expected_json(&self) -> Value {
        let mut rows = Value::Array(self.expected.clone());
        if self.tolerance.is_some() {
            as_doubles(&mut rows);
        }
        rows
    }
}

fn as_doubles(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(as_doubles),
        Value::Number(number) if !number.is_f64() => {
            if let Some(double) = number.as_f64().and_then(serde_json::Number::from_f64) {
                *number = double;
            }
        }
        _ => {}
    }
}

/// `cluster-tests/cases/sql`.
pub fn sql_cases_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("cases/sql")
}

/// Every case of every `.slt` file in `dir`, files sorted by name; panics on a malformed file.
pub fn load_sql_cases(dir: &Path) -> Vec<SqlCase> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "slt"))
        .collect();
    paths.sort();
    let mut cases = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(&path).expect("readable case file");
        let file = path
            .file_stem()
            .and_then(|stem| stem.to_str())
            .unwrap_or("?");
        cases.extend(
            parse_sql_cases(&text)
                .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
                .into_iter()
                .map(|mut case| {
                    case.name = format!("{file}:{}", case.name);
                    case
                }),
        );
    }
    cases
}

/// Parses one `.slt` file.
pub fn parse_sql_cases(text: &str) -> Result<Vec<SqlCase>, String> {
    let mut cases = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((number, line)) = lines.next() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let name = line
            .strip_prefix("query ")
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .ok_or_else(|| format!("line {}: expected `query NAME`, found {line:?}", number + 1))?;
        let mut sql = Vec::new();
        let mut tolerance = None;
        let mut context = None;
        loop {
            let (number, line) = lines
                .next()
                .ok_or_else(|| format!("case {name}: no `----` line"))?;
            if line == "----" {
                break;
            }
            if let Some(value) = line.strip_prefix("tolerance ") {
                tolerance = Some(
                    value
                        .trim()
                        .parse::<f64>()
                        .map_err(|err| format!("line {}: bad tolerance: {err}", number + 1))?,
                );
            } else if let Some(value) = line.strip_prefix("context ") {
                let value: Value = serde_json::from_str(value)
                    .map_err(|err| format!("line {}: bad context: {err}", number + 1))?;
                if !value.is_object() {
                    return Err(format!(
                        "line {}: a context must be a JSON object",
                        number + 1
                    ));
                }
                context = Some(value);
            } else {
                sql.push(line);
            }
        }
        let mut expected = Vec::new();
        while let Some((number, line)) = lines.next_if(|(_, line)| !line.trim().is_empty()) {
            let row: Value = serde_json::from_str(line)
                .map_err(|err| format!("line {}: expected a JSON row: {err}", number + 1))?;
            if !row.is_array() {
                return Err(format!("line {}: a row must be a JSON array", number + 1));
            }
            expected.push(row);
        }
        cases.push(SqlCase {
            name: name.to_owned(),
            sql: sql.join("\n"),
            tolerance,
            context,
            expected,
        });
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cases_parse_with_multi_line_sql_tolerance_and_rows() {
        let text = "# comment\n\nquery a\nSELECT 1\nFROM t\ntolerance 0.5\n----\n[1,\"x\"]\n[null]\n\nquery b\nSELECT 2\n----\n";
        let cases = parse_sql_cases(text).unwrap();
        assert_eq!(cases.len(), 2);
        assert_eq!(cases[0].sql, "SELECT 1\nFROM t");
        assert_eq!(cases[0].tolerance, Some(0.5));
        assert_eq!(cases[0].expected, vec![json!([1, "x"]), json!([null])]);
        assert_eq!(cases[0].expected_json(), json!([[1.0, "x"], [null]]));
        assert!(cases[1].expected.is_empty());
        assert!(parse_sql_cases("SELECT 1\n").is_err());
        assert!(parse_sql_cases("query c\nSELECT 1\n----\n{}\n").is_err());
    }

    #[test]
    fn a_context_line_is_posted_with_the_query() {
        let text =
            "query a\nSELECT 1\ncontext {\"useApproximateCountDistinct\": false}\n----\n[1]\n";
        let cases = parse_sql_cases(text).unwrap();
        assert_eq!(cases[0].sql, "SELECT 1");
        assert_eq!(
            cases[0].context,
            Some(json!({"useApproximateCountDistinct": false}))
        );
        assert!(parse_sql_cases("query a\nSELECT 1\ncontext [1]\n----\n[1]\n").is_err());
    }

    #[test]
    fn the_repository_cases_parse() {
        let cases = load_sql_cases(&sql_cases_dir());
        assert!(cases.len() >= 20, "{} cases", cases.len());
        assert!(
            cases.iter().all(|case| !case.expected.is_empty()),
            "run scripts/golden/sql_expected.py"
        );
    }
}
