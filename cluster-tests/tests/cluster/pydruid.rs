//! Runs the Python client tests (`cluster-tests/python/`: pydruid's, and the DuckDB and
//! pyarrow ones) against a Henge broker, with the Python of the venv that `scripts/venv`
//! creates.

use std::path::PathBuf;
use std::process::Command;

/// Runs the pydruid test against `url`; panics with its output if it fails.
pub fn run(url: &str) {
    run_script("test_pydruid.py", url);
}

/// Runs `cluster-tests/python/<script>` against `url`; panics with its output if it fails.
pub fn run_script(script: &str, url: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf();
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/venv to create the Python venv (scripts/test does)",
        python.display()
    );
    let path = root.join("cluster-tests/python").join(script);
    let output = Command::new(&python)
        .arg(&path)
        .env("HENGE_URL", url)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{script}:\n{stdout}");
    assert!(
        output.status.success(),
        "{script} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}
