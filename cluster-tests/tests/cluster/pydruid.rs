//! Runs the pydruid client test (`cluster-tests/python/test_pydruid.py`) against a Henge
//! broker, with the Python of the venv that `scripts/venv` creates.

use std::path::PathBuf;
use std::process::Command;

/// Runs the pydruid test against `url`; panics with its output if it fails.
pub fn run(url: &str) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf();
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/venv to create the Python venv with pydruid (scripts/test does)",
        python.display()
    );
    let script = root.join("cluster-tests/python/test_pydruid.py");
    let output = Command::new(&python)
        .arg(&script)
        .env("HENGE_URL", url)
        .output()
        .unwrap_or_else(|err| panic!("cannot run {}: {err}", python.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("pydruid:\n{stdout}");
    assert!(
        output.status.success(),
        "pydruid test failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}
