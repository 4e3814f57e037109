//! Indexing tasks as the overlord stores them (`/henge/tasks/{id}`), and Druid's task API
//! shapes built from them.

use henge_coordination::{keys, MetaStore};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Druid's task status codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TaskState {
    Running,
    Success,
    Failed,
}

impl TaskState {
    pub fn is_complete(self) -> bool {
        self != TaskState::Running
    }
}

/// Where a task is in the runner: waiting for a worker, assigned, or running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RunnerState {
    Waiting,
    Pending,
    Running,
    None,
}

/// One task record in the coordination store.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaskRecord {
    pub id: String,
    pub task_type: String,
    pub datasource: String,
    pub payload: Value,
    pub state: TaskState,
    pub runner_state: RunnerState,
    /// Node id (`host:port`) of the realtime worker the task is assigned to.
    pub worker: Option<String>,
    pub created_time: String,
    /// Epoch ms when the worker started it.
    pub started_ms: Option<i64>,
    /// Run time in ms once complete, -1 before (Druid's convention).
    pub duration: i64,
    pub error_msg: Option<String>,
    /// Druid's task report (`ingestionStatsAndErrors`), once the task has run.
    pub report: Option<Value>,
}

impl TaskRecord {
    /// Druid's `status` object of `GET /druid/indexer/v1/task/{id}/status`.
    pub fn status_json(&self) -> Value {
        let code = serde_json::to_value(self.state).expect("task state serializes");
        let runner = serde_json::to_value(self.runner_state).expect("runner state serializes");
        let location = match self
            .worker
            .as_deref()
            .and_then(|worker| worker.rsplit_once(':'))
        {
            Some((host, port)) => json!({
                "host": host,
                "port": port.parse::<i64>().unwrap_or(-1),
                "tlsPort": -1,
            }),
            None => json!({"host": null, "port": -1, "tlsPort": -1}),
        };
        json!({
            "id": self.id,
            "groupId": self.id,
            "type": self.task_type,
            "createdTime": self.created_time,
            "queueInsertionTime": "1970-01-01T00:00:00.000Z",
            "statusCode": code,
            "status": code,
            "runnerStatusCode": runner,
            "duration": self.duration,
            "location": location,
            "dataSource": self.datasource,
            "errorMsg": self.error_msg,
        })
    }
}

pub async fn load(store: &dyn MetaStore, id: &str) -> anyhow::Result<Option<TaskRecord>> {
    match store.get(&keys::task(id)).await? {
        Some(kv) => Ok(Some(serde_json::from_slice(&kv.value)?)),
        None => Ok(None),
    }
}

pub async fn list(store: &dyn MetaStore) -> anyhow::Result<Vec<(TaskRecord, i64)>> {
    let (entries, _) = store.list(&keys::task("")).await?;
    entries
        .into_iter()
        .map(|kv| Ok((serde_json::from_slice(&kv.value)?, kv.mod_revision)))
        .collect()
}

pub async fn save(store: &dyn MetaStore, task: &TaskRecord) -> anyhow::Result<()> {
    store
        .put(&keys::task(&task.id), serde_json::to_vec(task)?, None)
        .await?;
    Ok(())
}
