//! `henge`: a real-time OLAP store that speaks Apache Druid's APIs.

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use henge_roles::config::{NodeConfig, NodeFlags};
use henge_roles::node::{shutdown_signal, Node};
use henge_roles::quickstart::{self, QuickstartOptions};

/// mimalloc instead of the system allocator: queries and ingestion create and drop millions
/// of small values (group keys, rows, strings), where glibc's malloc spends a quarter of a
/// high-cardinality groupBy consolidating free chunks (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "henge", version, about = "Henge: a real-time OLAP store that speaks Apache Druid's APIs", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs every role in one process with embedded coordination and local deep storage,
    /// loads a demo datasource (and any --load files), and serves the API on one port.
    Quickstart {
        #[command(flatten)]
        flags: NodeFlags,
        /// Newline-JSON file to load as a datasource named after the file (repeatable;
        /// `.gz` files are decompressed).
        #[arg(long = "load", value_name = "FILE")]
        load: Vec<PathBuf>,
        /// Timestamp column of the --load files [default: auto-detected from the first row].
        #[arg(long, value_name = "COLUMN")]
        time_column: Option<String>,
        /// Rows of the generated demo datasource `henge-demo` (0 skips it).
        #[arg(long, default_value_t = quickstart::DEFAULT_DEMO_ROWS)]
        demo_rows: usize,
    },
    /// Runs the given roles and nothing else.
    Server {
        /// Comma-separated roles: coordinator, overlord, historical, realtime, broker, or all
        /// [default: all].
        #[arg(long, value_name = "LIST")]
        roles: Option<String>,
        #[command(flatten)]
        flags: NodeFlags,
    },
    /// Benchmark tools (`scripts/bench` drives them).
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// Writes the deterministic benchmark dataset: events.json (newline JSON, 30 days of
    /// time-ordered events), checksums.json and spec.json (the ingestion task).
    Gen {
        /// Number of events.
        #[arg(long)]
        rows: u64,
        /// Output directory (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Seed of the generator.
        #[arg(long, default_value_t = henge_roles::bench::DEFAULT_SEED)]
        seed: u64,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,h2=warn,tower=warn,hyper=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Quickstart {
            flags,
            load,
            time_column,
            demo_rows,
        } => {
            let options = QuickstartOptions {
                load,
                time_column,
                demo_rows,
            };
            block_on(quickstart::run(flags, options))
        }
        Command::Server { roles, flags } => block_on(async move {
            let config = NodeConfig::resolve(&flags, roles.as_deref())?;
            let node = Node::start(config).await?;
            shutdown_signal().await;
            node.stop().await
        }),
        Command::Bench {
            command: BenchCommand::Gen { rows, out, seed },
        } => {
            let checksums = henge_roles::bench::generate(rows, seed, &out)?;
            println!("{}", serde_json::to_string(&checksums)?);
            Ok(())
        }
    }
}

/// Stack of every runtime thread. Planning walks syntax trees recursively; SQL caps a
/// statement at `henge_sql::MAX_OPERATORS` operators, and a tree that deep needs more than
/// tokio's default 2 MiB (the memory is reserved, not committed, until used).
const THREAD_STACK_BYTES: usize = 64 * 1024 * 1024;

/// Runs a node's future on a multi-threaded runtime.
fn block_on(future: impl std::future::Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_multi_thread()
        .thread_stack_size(THREAD_STACK_BYTES)
        .enable_all()
        .build()?
        .block_on(future)
}
