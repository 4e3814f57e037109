//! Node configuration: command-line flags, an optional TOML file, and defaults.
//!
//! Precedence: a flag given on the command line wins over the config file, which wins over
//! the default. The file uses the flags' names in snake_case and rejects unknown keys:
//!
//! ```toml
//! roles = "historical"
//! http_port = 8083
//! data_dir = "/var/lib/henge"
//! coordination = "etcd://127.0.0.1:2379"
//! deep_storage = "file:///mnt/deep"
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Args;
use serde::Deserialize;

use crate::role::Role;

/// Flags shared by `henge server` and `henge quickstart` (every one optional, so that the
/// config file and defaults can fill the gaps).
#[derive(Args, Debug, Clone, Default)]
pub struct NodeFlags {
    /// TOML config file; flags given on the command line override its values.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Address to bind and advertise to other nodes [default: 127.0.0.1].
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Port of the HTTP API (Druid's JSON APIs, console) and of internode gRPC [default: 8888].
    #[arg(long, value_name = "PORT")]
    pub http_port: Option<u16>,
    /// Directory for local state: segment cache, embedded coordination, realtime work
    /// [default: ./henge-data].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Coordination backend: `embedded` (single process) or `etcd://HOST:PORT[,HOST:PORT]`
    /// [default: embedded].
    #[arg(long, value_name = "SPEC")]
    pub coordination: Option<String>,
    /// Deep storage URL; `file:///PATH` for a local or shared directory
    /// [default: file://DATA_DIR/deep-storage].
    #[arg(long, value_name = "URL")]
    pub deep_storage: Option<String>,
    /// Directory that batch ingestion may read from (repeatable) [default: the data dir and
    /// the current directory].
    #[arg(long = "allow-dir", value_name = "DIR")]
    pub allow_dirs: Vec<PathBuf>,
    /// Rows after which a realtime (push) segment is handed off [default: 1000000].
    #[arg(long, value_name = "ROWS")]
    pub push_max_rows: Option<usize>,
    /// Segment granularity of pushed data: hour, day, ... [default: hour].
    #[arg(long, value_name = "GRANULARITY")]
    pub push_segment_granularity: Option<String>,
    /// How long after its interval ends a realtime segment waits for late rows before it is
    /// handed off, in milliseconds [default: 600000].
    #[arg(long, value_name = "MS")]
    pub push_handoff_grace_ms: Option<u64>,
    /// Timeout of queries whose context sets none, in milliseconds; 0 = no timeout (Druid's
    /// `druid.server.http.defaultQueryTimeout`) [default: 300000].
    #[arg(long, value_name = "MS")]
    pub query_timeout_ms: Option<u64>,
    /// Most group rows a groupBy may hold in memory per segment and per merge; beyond it the
    /// query fails with `Resource limit exceeded` (no disk spilling). A query's context
    /// `bufferGrouperMaxSize` may lower it [default: 1000000].
    #[arg(long, value_name = "ROWS")]
    pub groupby_max_rows: Option<usize>,
}

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    roles: Option<String>,
    host: Option<String>,
    http_port: Option<u16>,
    data_dir: Option<PathBuf>,
    coordination: Option<String>,
    deep_storage: Option<String>,
    #[serde(default)]
    allow_dirs: Vec<PathBuf>,
    push_max_rows: Option<usize>,
    push_segment_granularity: Option<String>,
    push_handoff_grace_ms: Option<u64>,
    query_timeout_ms: Option<u64>,
    groupby_max_rows: Option<usize>,
}

/// The resolved configuration of one node.
#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub roles: Vec<Role>,
    pub host: String,
    pub http_port: u16,
    pub data_dir: PathBuf,
    pub coordination: String,
    pub deep_storage: String,
    pub allow_dirs: Vec<PathBuf>,
    pub push_max_rows: usize,
    pub push_segment_granularity: String,
    pub push_handoff_grace: Duration,
    /// Default query timeout in milliseconds (0 = none).
    pub query_timeout_ms: u64,
    /// Most group rows one groupBy holds per segment and per merge.
    pub groupby_max_rows: usize,
    /// TTL of this node's membership and leadership leases.
    pub lease_ttl: Duration,
}

impl NodeConfig {
    /// Resolves flags over the config file over defaults. `roles_flag` is the `--roles` value.
    pub fn resolve(flags: &NodeFlags, roles_flag: Option<&str>) -> anyhow::Result<NodeConfig> {
        let file = match &flags.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let roles_text = roles_flag
            .map(str::to_string)
            .or(file.roles)
            .unwrap_or_else(|| "all".to_string());
        let roles = Role::parse_list(&roles_text).map_err(anyhow::Error::msg)?;
        let data_dir = flags
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("henge-data"));
        std::fs::create_dir_all(&data_dir)
            .with_context(|| format!("failed to create data dir {}", data_dir.display()))?;
        let data_dir = data_dir
            .canonicalize()
            .with_context(|| format!("failed to resolve data dir {}", data_dir.display()))?;
        let deep_storage = flags
            .deep_storage
            .clone()
            .or(file.deep_storage)
            .unwrap_or_else(|| format!("file://{}", data_dir.join("deep-storage").display()));
        let mut allow_dirs = if flags.allow_dirs.is_empty() {
            file.allow_dirs
        } else {
            flags.allow_dirs.clone()
        };
        if allow_dirs.is_empty() {
            allow_dirs.push(data_dir.clone());
            allow_dirs.push(std::env::current_dir().context("failed to read the current dir")?);
        }
        let coordination = flags
            .coordination
            .clone()
            .or(file.coordination)
            .unwrap_or_else(|| "embedded".to_string());
        if coordination != "embedded" && !coordination.starts_with("etcd://") {
            bail!("--coordination must be `embedded` or `etcd://HOST:PORT[,HOST:PORT]`, got {coordination:?}");
        }
        Ok(NodeConfig {
            roles,
            host: flags
                .host
                .clone()
                .or(file.host)
                .unwrap_or_else(|| "127.0.0.1".into()),
            http_port: flags.http_port.or(file.http_port).unwrap_or(8888),
            data_dir,
            coordination,
            deep_storage,
            allow_dirs,
            push_max_rows: flags
                .push_max_rows
                .or(file.push_max_rows)
                .unwrap_or(1_000_000),
            push_segment_granularity: flags
                .push_segment_granularity
                .clone()
                .or(file.push_segment_granularity)
                .unwrap_or_else(|| "hour".into()),
            push_handoff_grace: Duration::from_millis(
                flags
                    .push_handoff_grace_ms
                    .or(file.push_handoff_grace_ms)
                    .unwrap_or(600_000),
            ),
            query_timeout_ms: flags
                .query_timeout_ms
                .or(file.query_timeout_ms)
                .unwrap_or(henge_broker::lifecycle::DEFAULT_TIMEOUT_MS),
            groupby_max_rows: flags
                .groupby_max_rows
                .or(file.groupby_max_rows)
                .unwrap_or(henge_query::DEFAULT_MAX_GROUP_ROWS),
            lease_ttl: Duration::from_secs(10),
        })
    }

    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// `host:port` that other nodes use to reach this one; also its node id.
    pub fn advertised_addr(&self) -> String {
        format!("{}:{}", self.host, self.http_port)
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("henge.toml");
        std::fs::write(
            &file,
            format!(
                "roles = \"broker\"\nhttp_port = 9000\ndata_dir = {:?}\npush_max_rows = 5\n",
                dir.path().join("data")
            ),
        )
        .unwrap();
        let flags = NodeFlags {
            config: Some(file.clone()),
            http_port: Some(9100),
            ..NodeFlags::default()
        };
        let config = NodeConfig::resolve(&flags, None).unwrap();
        assert_eq!(config.roles, vec![Role::Broker]);
        assert_eq!(config.http_port, 9100);
        assert_eq!(config.push_max_rows, 5);
        assert_eq!(config.coordination, "embedded");
        assert!(config.deep_storage.starts_with("file://"));
        let config = NodeConfig::resolve(&flags, Some("historical,realtime")).unwrap();
        assert_eq!(config.roles, vec![Role::Historical, Role::Realtime]);

        std::fs::write(&file, "bogus = 1\n").unwrap();
        assert!(NodeConfig::resolve(&flags, None).is_err());
    }
}
