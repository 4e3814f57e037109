//! Starting, stopping and killing `henge` processes.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The `henge` binary under test.
pub fn henge_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("HENGE_BIN") {
        return PathBuf::from(path);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace.join("target"), PathBuf::from);
    let binary = target.join("debug").join("henge");
    assert!(
        binary.exists(),
        "{} is missing: build it with `cargo build -p henge-roles` (scripts/test does) or set HENGE_BIN",
        binary.display()
    );
    binary
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("no free port")
        .port()
}

/// `henge server` arguments for one node of a cluster on etcd: its roles, the shared
/// coordination and deep storage, its own data directory under `work`, then `extra` flags.
pub fn server_args(
    roles: &str,
    etcd_spec: &str,
    work: &Path,
    name: &str,
    extra: &[&str],
) -> Vec<String> {
    let deep = format!("file://{}", work.join("deep").display());
    let data_dir = work.join(name).display().to_string();
    [
        "server",
        "--roles",
        roles,
        "--coordination",
        etcd_spec,
        "--deep-storage",
        &deep,
        "--data-dir",
        &data_dir,
    ]
    .iter()
    .chain(extra)
    .map(|arg| arg.to_string())
    .collect()
}

/// `henge quickstart` arguments: its data directory `data` under `work`, `demo_rows` generated
/// demo rows, then `extra` flags.
pub fn quickstart_args(work: &Path, demo_rows: usize, extra: &[&str]) -> Vec<String> {
    let data_dir = work.join("data").display().to_string();
    let demo_rows = demo_rows.to_string();
    [
        "quickstart",
        "--data-dir",
        &data_dir,
        "--demo-rows",
        &demo_rows,
    ]
    .iter()
    .chain(extra)
    .map(|arg| arg.to_string())
    .collect()
}

/// One running `henge` process; killed on drop.
pub struct HengeProcess {
    child: Option<Child>,
    pub name: String,
    pub port: u16,
    pub url: String,
    args: Vec<String>,
    log: PathBuf,
}

impl HengeProcess {
    /// Starts `henge <args> --http-port <port>`, logging to `<log_dir>/<name>.log`.
    pub fn start(name: &str, args: &[String], port: u16, log_dir: &Path) -> HengeProcess {
        let mut process = HengeProcess {
            child: None,
            name: name.to_string(),
            port,
            url: format!("http://127.0.0.1:{port}"),
            args: args.to_vec(),
            log: log_dir.join(format!("{name}.log")),
        };
        process.spawn();
        process
    }

    fn spawn(&mut self) {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("log file");
        let child = Command::new(henge_binary())
            .args(&self.args)
            .args(["--http-port", &self.port.to_string()])
            .env("RUST_LOG", "info,h2=warn,tower=warn,hyper=warn")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("failed to start henge");
        self.child = Some(child);
    }

    /// Starts the process again with the same arguments and port.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        self.spawn();
    }

    /// Waits until `GET /status/health` answers `true`.
    pub async fn wait_healthy(&mut self, timeout: Duration) {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{} exited with {status} before it was healthy:\n{}",
                        self.name,
                        self.log_tail()
                    );
                }
            }
            let healthy = client
                .get(format!("{}/status/health", self.url))
                .send()
                .await
                .ok()
                .filter(|response| response.status().is_success());
            if let Some(response) = healthy {
                if response.text().await.unwrap_or_default().trim() == "true" {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} not healthy after {timeout:?}:\n{}",
                self.name,
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("process running");
        let status = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM failed");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().expect("wait on child") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "{} did not stop within 60 s of SIGTERM:\n{}",
                    self.name,
                    self.log_tail()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The last lines of the process log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for HengeProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
