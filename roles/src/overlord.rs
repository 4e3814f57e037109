//! The overlord role: the task queue.
//!
//! Submissions are validated (a bad spec is a 400 before anything is stored) and stored as
//! WAITING task records; the elected overlord assigns waiting tasks to the realtime worker
//! with the fewest running tasks and fails tasks whose worker has been gone longer than the
//! grace period. Task records live in the coordination store, so they survive restarts of
//! any node.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use henge_coordination::{fenced_txn, keys, Compare, Txn};
use rand::Rng;
use serde_json::Value;
use tokio::sync::oneshot;

use crate::actor::Actor;
use crate::context::NodeContext;
use crate::leadership::Leadership;
use crate::role::Role;
use crate::tasks::{self, RunnerState, TaskRecord, TaskState};

const RUN_PERIOD: Duration = Duration::from_millis(500);
const LOST_WORKER_GRACE: Duration = Duration::from_secs(60);

/// A rejected submission: the HTTP status and the error message.
#[derive(Debug)]
pub struct Rejection {
    pub status: u16,
    pub message: String,
}

pub enum OverlordMessage {
    Submit {
        payload: Value,
        reply: oneshot::Sender<Result<String, Rejection>>,
    },
}

pub struct Overlord {
    context: Arc<NodeContext>,
    leadership: Leadership,
    worker_missing_since: HashMap<String, Instant>,
}

impl Overlord {
    pub fn new(context: Arc<NodeContext>) -> Overlord {
        Overlord {
            leadership: Leadership::start(&context, Role::Overlord),
            context,
            worker_missing_since: HashMap::new(),
        }
    }

    async fn submit(&self, payload: Value) -> Result<String, Rejection> {
        let reject = |status, message: String| Rejection { status, message };
        let task =
            henge_ingest::parse_index_task(&payload).map_err(|err| reject(400, err.to_string()))?;
        henge_ingest::check_input_allowed(&task, &self.context.config.allow_dirs)
            .map_err(|err| reject(400, err.to_string()))?;
        let now = henge_segment::time::format_timestamp(now_ms());
        let task_type = payload
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("index_parallel")
            .to_string();
        let id = match payload.get("id").and_then(Value::as_str) {
            Some(id) => id.to_string(),
            None => format!("{task_type}_{}_{}_{now}", task.datasource, random_suffix()),
        };
        if id.contains('/') {
            return Err(reject(400, format!("task id [{id}] must not contain '/'")));
        }
        let record = TaskRecord {
            id: id.clone(),
            task_type,
            datasource: task.datasource.clone(),
            payload,
            state: TaskState::Running,
            runner_state: RunnerState::Waiting,
            worker: None,
            created_time: now,
            started_ms: None,
            duration: -1,
            error_msg: None,
            report: None,
        };
        let value = serde_json::to_vec(&record).map_err(|err| reject(500, err.to_string()))?;
        let created = self
            .context
            .store
            .txn(
                Txn::new()
                    .when(Compare::Absent(keys::task(&id)))
                    .put(keys::task(&id), value),
            )
            .await
            .map_err(|err| reject(503, format!("failed to store task: {err}")))?;
        if !created {
            return Err(reject(400, format!("Task[{id}] already exists")));
        }
        tracing::info!(task = %id, "task submitted");
        Ok(id)
    }

    async fn run_duties(&mut self) -> anyhow::Result<()> {
        let Some(guard) = self.leadership.guard() else {
            self.context.readiness.set(
                Role::Overlord,
                true,
                Some("not the leader: campaigning or standing by".into()),
            );
            return Ok(());
        };
        let workers: Vec<String> = self
            .context
            .nodes_with_role(Role::Realtime.as_str())
            .await?
            .into_iter()
            .map(|node| node.id)
            .collect();
        let all = tasks::list(self.context.store.as_ref()).await?;
        let mut running: HashMap<String, usize> =
            workers.iter().map(|worker| (worker.clone(), 0)).collect();
        for (task, _) in &all {
            if let (Some(worker), false) = (&task.worker, task.state.is_complete()) {
                *running.entry(worker.clone()).or_default() += 1;
            }
        }
        let now = Instant::now();
        self.worker_missing_since
            .retain(|worker, _| !workers.contains(worker));
        let mut waiting = 0;
        for (mut task, revision) in all {
            if task.state.is_complete() {
                continue;
            }
            let key = keys::task(&task.id);
            match task.worker.clone() {
                Some(worker) if !workers.contains(&worker) => {
                    let since = *self
                        .worker_missing_since
                        .entry(worker.clone())
                        .or_insert(now);
                    if now.duration_since(since) < LOST_WORKER_GRACE {
                        continue;
                    }
                    task.state = TaskState::Failed;
                    task.runner_state = RunnerState::None;
                    task.error_msg = Some(format!(
                        "worker {worker} disappeared while running the task"
                    ));
                    tracing::warn!(task = %task.id, worker = %worker, "failing task of a lost worker");
                }
                Some(_) => continue,
                None => {
                    let Some(worker) = running
                        .iter()
                        .min_by_key(|(worker, count)| (**count, (*worker).clone()))
                        .map(|(worker, _)| worker.clone())
                    else {
                        waiting += 1;
                        continue;
                    };
                    *running.get_mut(&worker).expect("known worker") += 1;
                    tracing::info!(task = %task.id, worker = %worker, "assigning task");
                    task.worker = Some(worker);
                    task.runner_state = RunnerState::Pending;
                }
            }
            let txn = Txn::new()
                .when(Compare::ModRevision(key.clone(), revision))
                .put(key, serde_json::to_vec(&task)?);
            fenced_txn(&guard, txn).await?;
        }
        let note = (waiting > 0).then(|| format!("no realtime worker for {waiting} waiting tasks"));
        self.context.readiness.set(Role::Overlord, true, note);
        Ok(())
    }
}

#[async_trait]
impl Actor for Overlord {
    type Message = OverlordMessage;

    async fn handle(&mut self, message: OverlordMessage) -> anyhow::Result<()> {
        match message {
            OverlordMessage::Submit { payload, reply } => {
                let _ = reply.send(self.submit(payload).await);
            }
        }
        Ok(())
    }

    fn tick_interval(&self) -> Option<Duration> {
        Some(RUN_PERIOD)
    }

    async fn tick(&mut self) -> anyhow::Result<()> {
        self.run_duties().await
    }

    async fn finalize(&mut self) -> anyhow::Result<()> {
        self.leadership.stop().await;
        Ok(())
    }
}

fn random_suffix() -> String {
    let mut rng = rand::rng();
    (0..8)
        .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
        .collect()
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}
