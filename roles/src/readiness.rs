//! What each role of this process is waiting for, and whether the process can serve.
//!
//! `GET /status/health` answers `true` only when every role is ready and nothing holds the
//! node back (the quickstart holds it until its datasets are loaded); `GET /status` and the
//! logs say what a role that is not ready waits for (a missing peer, an unfinished load).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;

use crate::role::Role;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleStatus {
    pub ready: bool,
    /// What the role waits for; it may be waiting while ready (e.g. a coordinator with no
    /// historical to assign to is ready, but says so).
    pub waiting_for: Option<String>,
}

#[derive(Default)]
pub struct Readiness {
    roles: Mutex<BTreeMap<Role, RoleStatus>>,
    /// What holds the whole node back beyond its roles, by name.
    holds: Mutex<BTreeMap<String, String>>,
}

impl Readiness {
    pub fn new(roles: &[Role]) -> Readiness {
        let map = roles
            .iter()
            .map(|role| {
                let status = RoleStatus {
                    ready: false,
                    waiting_for: Some("starting".into()),
                };
                (*role, status)
            })
            .collect();
        Readiness {
            roles: Mutex::new(map),
            holds: Mutex::default(),
        }
    }

    /// Records a role's state, logging when what it waits for changes.
    pub fn set(&self, role: Role, ready: bool, waiting_for: Option<String>) {
        let status = RoleStatus { ready, waiting_for };
        let mut roles = self.roles.lock().expect("readiness lock poisoned");
        let previous = roles.insert(role, status.clone());
        if previous.as_ref() != Some(&status) {
            match &status.waiting_for {
                Some(reason) => {
                    tracing::info!(role = %role, ready, waiting_for = %reason, "role waiting")
                }
                None => tracing::info!(role = %role, ready, "role ready"),
            }
        }
    }

    /// Keeps the node not ready until [`Readiness::release`] of `name`, saying why.
    pub fn hold(&self, name: &str, reason: String) {
        tracing::info!(hold = name, waiting_for = %reason, "node held back");
        let mut holds = self.holds.lock().expect("readiness lock poisoned");
        holds.insert(name.to_string(), reason);
    }

    pub fn release(&self, name: &str) {
        let mut holds = self.holds.lock().expect("readiness lock poisoned");
        if holds.remove(name).is_some() {
            tracing::info!(hold = name, "node no longer held back");
        }
    }

    pub fn all_ready(&self) -> bool {
        let roles = self.roles.lock().expect("readiness lock poisoned");
        let holds = self.holds.lock().expect("readiness lock poisoned");
        holds.is_empty() && roles.values().all(|status| status.ready)
    }

    /// What holds the node back beyond its roles, by name.
    pub fn holds(&self) -> BTreeMap<String, String> {
        self.holds.lock().expect("readiness lock poisoned").clone()
    }

    pub fn snapshot(&self) -> BTreeMap<Role, RoleStatus> {
        self.roles.lock().expect("readiness lock poisoned").clone()
    }

    /// One line per waiting role, for the membership record.
    pub fn waiting_for(&self) -> Vec<String> {
        let roles = self.snapshot().into_iter().filter_map(|(role, status)| {
            status.waiting_for.map(|reason| format!("{role}: {reason}"))
        });
        let holds = self
            .holds()
            .into_iter()
            .map(|(name, reason)| format!("{name}: {reason}"));
        roles.chain(holds).collect()
    }
}
