//! Fixtures the planner's unit tests share: catalogs written as column lists, and the
//! rows of an answer computed without a native query.

use serde_json::{Map, Value};

use crate::{prepare, Answer, MapCatalog, Prepared, SqlType};

/// A catalog of `tables`, each a name and its columns with their SQL types.
pub fn catalog_of(tables: &[(&str, &[(&str, SqlType)])]) -> MapCatalog {
    let mut catalog = MapCatalog::default();
    for (name, columns) in tables {
        let columns = columns
            .iter()
            .map(|(column, kind)| ((*column).to_owned(), kind.clone()))
            .collect();
        catalog.insert(*name, columns);
    }
    catalog
}

/// The answer of `sql` when it is answered in memory (INFORMATION_SCHEMA, EXPLAIN).
pub fn answered(sql: &str, catalog: &MapCatalog) -> Answer {
    match prepare(sql, &[], &Map::new(), catalog) {
        Ok(Prepared::Rows(answer)) => answer,
        Ok(Prepared::Native(planned)) => panic!("expected rows, planned {}", planned.native),
        Err(error) => panic!("{sql}: {error}"),
    }
}

/// The rows of [`answered`].
pub fn answered_rows(sql: &str, catalog: &MapCatalog) -> Vec<Vec<Value>> {
    answered(sql, catalog).rows
}

/// Runs `test` on a thread with the stack the server's runtime threads have (64 MiB, see
/// `roles`' main), for inputs whose syntax trees are deep (long operator chains).
pub fn on_server_stack<T: Send + 'static>(test: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(64 * 1024 * 1024)
        .spawn(test)
        .expect("spawn a test thread")
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}
