//! Queries running on this data node. Every `RunQuery` call takes a [`Ticket`], registered
//! under its query id so that `CancelQuery` finds it, carrying the deadline the broker sent.
//! Segment scans poll [`Stop::should_stop`] between chunks of rows. Dropping a ticket (the
//! call ended, or the broker dropped the call on timeout or cancellation) stops whatever
//! work of that call still runs on the blocking threads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use henge_query::QueryError;

/// Query id -> (call number, cancellation flag) of each running call.
type Calls = HashMap<String, Vec<(u64, Arc<AtomicBool>)>>;

/// The running calls of this node, by query id.
#[derive(Default)]
pub struct RunningQueries {
    calls: Mutex<Calls>,
    next_call: AtomicU64,
    interrupted: AtomicU64,
}

/// What a call's work polls to know it must stop: a cancellation flag and a deadline.
#[derive(Clone)]
pub struct Stop {
    flag: Arc<AtomicBool>,
    deadline: Option<Instant>,
}

impl Stop {
    /// True once the call was cancelled, dropped, or its deadline passed.
    pub fn should_stop(&self) -> bool {
        self.flag.load(Ordering::Relaxed) || self.deadline_passed()
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    fn deadline_passed(&self) -> bool {
        self.deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
    }

    /// Druid's error for a stopped call: `Query timeout` once the deadline passed, else
    /// `Query cancelled`.
    pub fn error(&self, query_id: Option<&str>) -> QueryError {
        if self.deadline_passed() {
            QueryError::timed_out(query_id)
        } else {
            QueryError::cancelled(query_id)
        }
    }
}

/// One registered call; see the module doc.
pub struct Ticket {
    queries: Arc<RunningQueries>,
    query_id: String,
    call: u64,
    stop: Stop,
    answered: bool,
}

impl Ticket {
    pub fn stop(&self) -> Stop {
        self.stop.clone()
    }

    /// Marks the call as answered (not interrupted) before the ticket is dropped.
    pub fn answered(mut self) {
        self.answered = true;
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.stop.flag.store(true, Ordering::Relaxed);
        if !self.answered {
            self.queries.interrupted.fetch_add(1, Ordering::Relaxed);
        }
        let mut calls = self.queries.lock();
        if let Some(list) = calls.get_mut(&self.query_id) {
            list.retain(|(call, _)| *call != self.call);
            if list.is_empty() {
                calls.remove(&self.query_id);
            }
        }
    }
}

impl RunningQueries {
    /// Registers a call of `query_id` with `timeout_ms` left (0: no deadline).
    pub fn start(self: &Arc<Self>, query_id: &str, timeout_ms: u64) -> Ticket {
        let flag = Arc::new(AtomicBool::new(false));
        let call = self.next_call.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .entry(query_id.to_owned())
            .or_default()
            .push((call, Arc::clone(&flag)));
        Ticket {
            queries: Arc::clone(self),
            query_id: query_id.to_owned(),
            call,
            stop: Stop {
                flag,
                deadline: (timeout_ms > 0)
                    .then(|| Instant::now() + Duration::from_millis(timeout_ms)),
            },
            answered: false,
        }
    }

    /// Stops every running call of `query_id`; returns how many there were.
    pub fn cancel(&self, query_id: &str) -> usize {
        let calls = self.lock();
        let Some(list) = calls.get(query_id) else {
            return 0;
        };
        for (_, flag) in list {
            flag.store(true, Ordering::Relaxed);
        }
        list.len()
    }

    /// Calls running now.
    pub fn running(&self) -> usize {
        self.lock().values().map(Vec::len).sum()
    }

    /// Calls that ended without an answer (cancelled, timed out, or dropped by the broker)
    /// since the node started.
    pub fn interrupted(&self) -> u64 {
        self.interrupted.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Calls> {
        self.calls.lock().expect("running queries lock poisoned")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_stops_every_call_of_the_id_and_drop_unregisters() {
        let queries = Arc::new(RunningQueries::default());
        let first = queries.start("q", 0);
        let second = queries.start("q", 0);
        let other = queries.start("r", 0);
        assert_eq!(queries.running(), 3);
        assert_eq!(queries.cancel("q"), 2);
        assert!(first.stop().should_stop() && second.stop().should_stop());
        assert!(!other.stop().should_stop());
        assert_eq!(first.stop().error(Some("q")).error, "Query cancelled");
        assert_eq!(queries.cancel("unknown"), 0);
        let other_stop = other.stop();
        other.answered();
        assert!(other_stop.should_stop(), "a finished call stops leftovers");
        drop(first);
        drop(second);
        assert_eq!(queries.running(), 0);
        assert_eq!(queries.interrupted(), 2);
    }

    #[test]
    fn a_passed_deadline_is_a_timeout() {
        let queries = Arc::new(RunningQueries::default());
        let ticket = queries.start("late", 1);
        std::thread::sleep(Duration::from_millis(5));
        let stop = ticket.stop();
        assert!(stop.should_stop());
        let error = stop.error(Some("late"));
        assert_eq!((error.status, error.error.as_str()), (504, "Query timeout"));
        assert_eq!(error.error_message, "Query [late] timed out");
    }
}
