//! Test support (cargo feature `testing`): [`EtcdServer`] runs a throwaway single-member
//! etcd on free loopback ports, with its data in a temporary directory, and kills it on
//! drop.
//!
//! The binary is `/usr/bin/etcd` (Debian's `etcd-server`), or `$HENGE_ETCD_BIN`. When it
//! is missing, [`EtcdServer::start`] panics and points at `scripts/install-deps`: etcd
//! tests fail loudly instead of being skipped.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tempfile::TempDir;

use crate::etcd::EtcdStore;
use crate::store::MetaStore;

/// Default etcd binary location.
pub const DEFAULT_ETCD_BIN: &str = "/usr/bin/etcd";
/// Environment variable that overrides [`DEFAULT_ETCD_BIN`].
pub const ETCD_BIN_ENV: &str = "HENGE_ETCD_BIN";
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running etcd for tests.
pub struct EtcdServer {
    child_opt: Option<Child>,
    dir: TempDir,
    client_port: u16,
    peer_port: u16,
}

impl EtcdServer {
    /// Starts etcd and waits until it answers requests.
    ///
    /// # Panics
    ///
    /// If the binary is missing or etcd does not come up within 30 s (the panic message
    /// includes the end of etcd's log).
    pub async fn start() -> EtcdServer {
        let dir = tempfile::Builder::new()
            .prefix("henge-etcd-")
            .tempdir()
            .expect("failed to create a temporary directory for etcd");
        let (client_port, peer_port) = free_port_pair();
        let mut server = EtcdServer {
            child_opt: None,
            dir,
            client_port,
            peer_port,
        };
        server.spawn_and_wait().await;
        server
    }

    /// `http://127.0.0.1:PORT`, for etcd clients.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// `etcd://127.0.0.1:PORT`, the spec [`crate::connect`] and Henge's config take.
    pub fn spec(&self) -> String {
        format!("etcd://127.0.0.1:{}", self.client_port)
    }

    /// A store on this server whose keys live under `namespace`.
    pub async fn store(&self, namespace: &str) -> EtcdStore {
        EtcdStore::connect(&[self.endpoint()], namespace)
            .await
            .expect("failed to create an etcd client")
    }

    /// Kills etcd (SIGKILL) to simulate an outage; its data stays for [`Self::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child_opt.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts etcd again on the same ports and data after [`Self::kill`].
    pub async fn restart(&mut self) {
        self.kill();
        self.spawn_and_wait().await;
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("etcd.log")
    }

    async fn spawn_and_wait(&mut self) {
        let binary = std::env::var(ETCD_BIN_ENV).unwrap_or_else(|_| DEFAULT_ETCD_BIN.to_string());
        if !Path::new(&binary).is_file() {
            panic!(
                "etcd binary not found at {binary}: the etcd tests need a real etcd server. \
                 Run scripts/install-deps (it installs Debian's etcd-server and \
                 protobuf-compiler), or point ${ETCD_BIN_ENV} at an etcd 3.4+ binary"
            );
        }
        let log = File::options()
            .create(true)
            .append(true)
            .open(self.log_path())
            .expect("failed to create the etcd log file");
        let client_url = self.endpoint();
        let peer_url = format!("http://127.0.0.1:{}", self.peer_port);
        let child = Command::new(&binary)
            .arg("--data-dir")
            .arg(self.dir.path().join("data"))
            .args(["--listen-client-urls", &client_url])
            .args(["--advertise-client-urls", &client_url])
            .args(["--listen-peer-urls", &peer_url])
            .args(["--initial-advertise-peer-urls", &peer_url])
            .args(["--initial-cluster", &format!("default={peer_url}")])
            .stdin(Stdio::null())
            .stdout(
                log.try_clone()
                    .expect("failed to clone the etcd log handle"),
            )
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("failed to start {binary}: {err}"));
        self.child_opt = Some(child);
        self.wait_until_ready().await;
    }

    async fn wait_until_ready(&mut self) {
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        let store = self.store("").await;
        loop {
            if let Some(child) = self.child_opt.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "etcd exited during startup with {status}; log:\n{}",
                        self.log_tail()
                    );
                }
            }
            if store.get("/henge-test-ready-probe").await.is_ok() {
                return;
            }
            if tokio::time::Instant::now() >= deadline {
                panic!(
                    "etcd did not answer within {START_TIMEOUT:?}; log:\n{}",
                    self.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Two distinct free loopback ports (both are held until both are chosen).
fn free_port_pair() -> (u16, u16) {
    let first = TcpListener::bind("127.0.0.1:0").expect("failed to bind a loopback port");
    let second = TcpListener::bind("127.0.0.1:0").expect("failed to bind a loopback port");
    let ports = (
        first
            .local_addr()
            .expect("bound socket has an address")
            .port(),
        second
            .local_addr()
            .expect("bound socket has an address")
            .port(),
    );
    drop((first, second));
    ports
}
