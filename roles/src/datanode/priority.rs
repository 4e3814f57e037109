//! The data node's processing slots, handed out by query priority: a segment scan waits for
//! one of `slots` permits, and when several wait, the highest context `priority` goes first
//! (first come, first served among equals), like Druid's `PrioritizedExecutorService`.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// Permits for segment scans, granted by priority.
pub struct PriorityGate {
    state: Mutex<GateState>,
}

struct GateState {
    free: usize,
    waiting: BinaryHeap<Waiter>,
    arrivals: u64,
}

struct Waiter {
    priority: i32,
    arrival: u64,
    grant: oneshot::Sender<()>,
}

impl PartialEq for Waiter {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Waiter {}

impl PartialOrd for Waiter {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Waiter {
    /// The heap's maximum is the next to run: higher priority, then earlier arrival.
    fn cmp(&self, other: &Self) -> Ordering {
        self.priority
            .cmp(&other.priority)
            .then_with(|| other.arrival.cmp(&self.arrival))
    }
}

/// A granted slot; dropping it hands the slot to the next waiter.
pub struct Permit {
    gate: Arc<PriorityGate>,
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.gate.release();
    }
}

/// A waiter that gives its slot back if it is dropped after being granted one.
struct Pending<'a> {
    gate: &'a Arc<PriorityGate>,
    grant: Option<oneshot::Receiver<()>>,
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(mut grant) = self.grant.take() {
            grant.close();
            if grant.try_recv().is_ok() {
                self.gate.release();
            }
        }
    }
}

impl PriorityGate {
    pub fn new(slots: usize) -> Arc<PriorityGate> {
        Arc::new(PriorityGate {
            state: Mutex::new(GateState {
                free: slots,
                waiting: BinaryHeap::new(),
                arrivals: 0,
            }),
        })
    }

    /// Waits for a slot; among waiters, higher `priority` is served first.
    pub async fn acquire(self: &Arc<Self>, priority: i32) -> Permit {
        let receiver = {
            let mut state = self.lock();
            if state.free > 0 {
                state.free -= 1;
                return Permit {
                    gate: Arc::clone(self),
                };
            }
            let (grant, receiver) = oneshot::channel();
            let arrival = state.arrivals;
            state.arrivals += 1;
            state.waiting.push(Waiter {
                priority,
                arrival,
                grant,
            });
            receiver
        };
        let mut pending = Pending {
            gate: self,
            grant: Some(receiver),
        };
        if let Some(grant) = pending.grant.as_mut() {
            // The sender is only dropped after a successful send, or with the gate.
            let _ = grant.await;
        }
        pending.grant = None;
        Permit {
            gate: Arc::clone(self),
        }
    }

    /// Gives a slot to the best live waiter, or back to the pool.
    fn release(&self) {
        let mut state = self.lock();
        while let Some(waiter) = state.waiting.pop() {
            if waiter.grant.send(()).is_ok() {
                return;
            }
        }
        state.free += 1;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().expect("priority gate lock poisoned")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn higher_priority_waiters_go_first_then_arrival_order() {
        let gate = PriorityGate::new(1);
        let held = gate.acquire(0).await;
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for (name, priority) in [
            ("low", -5),
            ("first-normal", 0),
            ("high", 10),
            ("second-normal", 0),
        ] {
            let gate = Arc::clone(&gate);
            let order = Arc::clone(&order);
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire(priority).await;
                order.lock().unwrap().push(name);
            }));
            // Let each task queue up before the next arrives.
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        drop(held);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(
            *order.lock().unwrap(),
            vec!["high", "first-normal", "second-normal", "low"]
        );
    }

    #[tokio::test]
    async fn a_dropped_waiter_does_not_lose_the_slot() {
        let gate = PriorityGate::new(1);
        let held = gate.acquire(0).await;
        let waiting = {
            let gate = Arc::clone(&gate);
            tokio::spawn(async move {
                let _permit = gate.acquire(5).await;
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        waiting.abort();
        let _ = waiting.await;
        drop(held);
        let again = tokio::time::timeout(Duration::from_secs(1), gate.acquire(0)).await;
        assert!(again.is_ok(), "the slot came back");
    }
}
