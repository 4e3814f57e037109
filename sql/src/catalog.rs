//! Tables and their columns' SQL types, as Druid derives them from native column types
//! (`docs/querying/sql-data-types.md`): `__time` is TIMESTAMP, STRING is VARCHAR, LONG is
//! BIGINT, FLOAT and DOUBLE keep their names, complex columns are `COMPLEX<name>`.

use std::collections::BTreeMap;

/// The SQL type of a column or expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlType {
    Timestamp,
    Varchar,
    Bigint,
    Float,
    Double,
    Boolean,
    /// `COMPLEX<name>`, holding the name.
    Complex(String),
}

impl SqlType {
    /// The SQL type of a native column type (`LONG`, `STRING`, `COMPLEX<hyperUnique>` ...).
    /// `hyperUnique`-style bare complex names are taken as complex types.
    pub fn from_native(column: &str, native: &str) -> SqlType {
        if column == "__time" {
            return SqlType::Timestamp;
        }
        match native {
            "STRING" => SqlType::Varchar,
            "LONG" => SqlType::Bigint,
            "FLOAT" => SqlType::Float,
            "DOUBLE" => SqlType::Double,
            other => {
                let inner = other
                    .strip_prefix("COMPLEX<")
                    .and_then(|rest| rest.strip_suffix('>'))
                    .unwrap_or(other);
                SqlType::Complex(inner.to_owned())
            }
        }
    }

    /// The SQL name (`sqlType` in headers).
    pub fn sql_name(&self) -> String {
        match self {
            SqlType::Timestamp => "TIMESTAMP".into(),
            SqlType::Varchar => "VARCHAR".into(),
            SqlType::Bigint => "BIGINT".into(),
            SqlType::Float => "FLOAT".into(),
            SqlType::Double => "DOUBLE".into(),
            SqlType::Boolean => "BOOLEAN".into(),
            SqlType::Complex(name) => format!("COMPLEX<{name}>"),
        }
    }

    /// The native type name (`type` in headers): TIMESTAMP and BOOLEAN travel as LONG.
    pub fn native_name(&self) -> String {
        match self {
            SqlType::Timestamp | SqlType::Bigint | SqlType::Boolean => "LONG".into(),
            SqlType::Varchar => "STRING".into(),
            SqlType::Float => "FLOAT".into(),
            SqlType::Double => "DOUBLE".into(),
            SqlType::Complex(name) => format!("COMPLEX<{name}>"),
        }
    }

    /// True for BIGINT, FLOAT, DOUBLE and BOOLEAN.
    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            SqlType::Bigint | SqlType::Float | SqlType::Double | SqlType::Boolean
        )
    }

    /// The native `matchValueType`/`outputType` of values of this type.
    pub fn value_type(&self) -> &'static str {
        match self {
            SqlType::Timestamp | SqlType::Bigint | SqlType::Boolean => "LONG",
            SqlType::Float => "FLOAT",
            SqlType::Double => "DOUBLE",
            SqlType::Varchar | SqlType::Complex(_) => "STRING",
        }
    }
}

/// Which tables exist and their columns, in order.
pub trait Catalog {
    /// The columns of `table` with their SQL types, or `None` if there is no such table.
    fn table(&self, table: &str) -> Option<Vec<(String, SqlType)>>;

    /// The names of the datasource tables, sorted (for INFORMATION_SCHEMA).
    fn table_names(&self) -> Vec<String>;

    /// The names of the registered lookups, sorted: the tables of the `lookup` schema
    /// (for INFORMATION_SCHEMA).
    fn lookup_names(&self) -> Vec<String> {
        Vec::new()
    }
}

/// A catalog held in memory (the HTTP layer fills one per request; tests build them by hand).
#[derive(Debug, Clone, Default)]
pub struct MapCatalog {
    tables: BTreeMap<String, Vec<(String, SqlType)>>,
    lookups: Vec<String>,
}

impl MapCatalog {
    /// Adds or replaces a table.
    pub fn insert(&mut self, table: impl Into<String>, columns: Vec<(String, SqlType)>) {
        self.tables.insert(table.into(), columns);
    }

    /// Sets the registered lookups' names.
    pub fn set_lookups(&mut self, mut names: Vec<String>) {
        names.sort();
        self.lookups = names;
    }
}

impl Catalog for MapCatalog {
    fn table(&self, table: &str) -> Option<Vec<(String, SqlType)>> {
        self.tables.get(table).cloned()
    }

    fn table_names(&self) -> Vec<String> {
        self.tables.keys().cloned().collect()
    }

    fn lookup_names(&self) -> Vec<String> {
        self.lookups.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_types_map_to_druid_sql_types() {
        assert_eq!(SqlType::from_native("__time", "LONG"), SqlType::Timestamp);
        assert_eq!(SqlType::from_native("page", "STRING"), SqlType::Varchar);
        assert_eq!(SqlType::from_native("added", "LONG"), SqlType::Bigint);
        assert_eq!(SqlType::from_native("x", "DOUBLE"), SqlType::Double);
        assert_eq!(
            SqlType::from_native("u", "COMPLEX<hyperUnique>").sql_name(),
            "COMPLEX<hyperUnique>"
        );
        assert_eq!(SqlType::Timestamp.native_name(), "LONG");
    }
}
