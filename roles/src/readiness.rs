//! What each role of this process is waiting for, and whether the process can serve.
//!
//! `GET /status/health` answers `true` only when every role is ready; `GET /status` and the
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

    pub fn all_ready(&self) -> bool {
        let roles = self.roles.lock().expect("readiness lock poisoned");
        roles.values().all(|status| status.ready)
    }

    pub fn snapshot(&self) -> BTreeMap<Role, RoleStatus> {
        self.roles.lock().expect("readiness lock poisoned").clone()
    }

    /// One line per waiting role, for the membership record.
    pub fn waiting_for(&self) -> Vec<String> {
        self.snapshot()
            .into_iter()
            .filter_map(|(role, status)| {
                status.waiting_for.map(|reason| format!("{role}: {reason}"))
            })
            .collect()
    }
}
