//! A thin actor layer: roles are actors that own their state and receive typed messages
//! through a bounded mailbox; other code holds only a [`Mailbox`].
//!
//! An actor also gets a periodic tick (for reconciliation loops) and a `finalize` that
//! always runs on graceful stop. The [`Supervisor`] starts actors in order, restarts an
//! actor whose handler panicked (rebuilding its state from its factory), and stops them in
//! reverse order.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The behaviour of one actor.
#[async_trait]
pub trait Actor: Send + 'static {
    type Message: Send + 'static;

    /// Handles one message. An error is logged; the actor keeps running.
    async fn handle(&mut self, message: Self::Message) -> anyhow::Result<()>;

    /// Called every [`Actor::tick_interval`], between messages.
    async fn tick(&mut self) -> anyhow::Result<()> {
        Ok(())
    }

    fn tick_interval(&self) -> Option<Duration> {
        None
    }

    /// Runs once when the actor stops gracefully (after its mailbox stops being read).
    async fn finalize(&mut self) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The error of sending to an actor that has stopped.
#[derive(Debug, thiserror::Error)]
#[error("actor {0} has stopped")]
pub struct ActorGone(pub &'static str);

/// A handle to an actor's bounded mailbox.
pub struct Mailbox<M> {
    name: &'static str,
    sender: mpsc::Sender<M>,
}

impl<M> Clone for Mailbox<M> {
    fn clone(&self) -> Self {
        Mailbox {
            name: self.name,
            sender: self.sender.clone(),
        }
    }
}

impl<M: Send + 'static> Mailbox<M> {
    /// Sends a message, waiting while the mailbox is full (backpressure).
    pub async fn send(&self, message: M) -> Result<(), ActorGone> {
        self.sender
            .send(message)
            .await
            .map_err(|_| ActorGone(self.name))
    }

    /// Sends a message built around a reply channel and waits for the reply.
    pub async fn ask<R>(
        &self,
        build: impl FnOnce(oneshot::Sender<R>) -> M,
    ) -> Result<R, ActorGone> {
        let (reply, response) = oneshot::channel();
        self.send(build(reply)).await?;
        response.await.map_err(|_| ActorGone(self.name))
    }
}

struct Running {
    name: &'static str,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// Starts actors in order and stops them in reverse.
#[derive(Default)]
pub struct Supervisor {
    running: Vec<Running>,
}

impl Supervisor {
    /// Spawns an actor built by `factory`, which gets the actor's own mailbox (for tasks the
    /// actor starts that report back to it); the factory runs again if a handler panics.
    pub fn spawn<A, F>(
        &mut self,
        name: &'static str,
        mailbox_size: usize,
        factory: F,
    ) -> Mailbox<A::Message>
    where
        A: Actor,
        F: Fn(&Mailbox<A::Message>) -> A + Send + 'static,
    {
        let (sender, receiver) = mpsc::channel(mailbox_size);
        let mailbox = Mailbox { name, sender };
        let stop = CancellationToken::new();
        let own = mailbox.clone();
        let task = tokio::spawn(run_actor(
            name,
            move || factory(&own),
            receiver,
            stop.clone(),
        ));
        self.running.push(Running { name, stop, task });
        mailbox
    }

    /// Names of the running actors, in start order.
    pub fn names(&self) -> Vec<&'static str> {
        self.running.iter().map(|running| running.name).collect()
    }

    /// Stops every actor in reverse start order, waiting for each `finalize`.
    pub async fn shutdown(&mut self) {
        while let Some(running) = self.running.pop() {
            tracing::info!(actor = running.name, "stopping");
            running.stop.cancel();
            if let Err(err) = running.task.await {
                tracing::error!(actor = running.name, error = %err, "actor task failed");
            }
        }
    }
}

async fn run_actor<A, F>(
    name: &'static str,
    factory: F,
    mut receiver: mpsc::Receiver<A::Message>,
    stop: CancellationToken,
) where
    A: Actor,
    F: Fn() -> A + Send + 'static,
{
    let mut actor = factory();
    let mut ticker = actor.tick_interval().map(|period| {
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker
    });
    loop {
        let step = tokio::select! {
            biased;
            _ = stop.cancelled() => break,
            message = receiver.recv() => match message {
                Some(message) => AssertUnwindSafe(actor.handle(message)).catch_unwind().await,
                None => break,
            },
            _ = async { ticker.as_mut().expect("guarded").tick().await }, if ticker.is_some() => {
                AssertUnwindSafe(actor.tick()).catch_unwind().await
            }
        };
        match step {
            Ok(Ok(())) => {}
            Ok(Err(err)) => {
                tracing::warn!(actor = name, error = %format!("{err:#}"), "actor step failed")
            }
            Err(_panic) => {
                tracing::error!(actor = name, "actor panicked, restarting it");
                actor = factory();
            }
        }
    }
    receiver.close();
    if let Err(err) = actor.finalize().await {
        tracing::error!(actor = name, error = %format!("{err:#}"), "actor finalize failed");
    }
    tracing::info!(actor = name, "stopped");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    enum Msg {
        Add(u64, oneshot::Sender<u64>),
        Panic,
    }

    struct Counter {
        total: u64,
        finalized: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl Actor for Counter {
        type Message = Msg;

        async fn handle(&mut self, message: Msg) -> anyhow::Result<()> {
            match message {
                Msg::Add(amount, reply) => {
                    self.total += amount;
                    let _ = reply.send(self.total);
                }
                Msg::Panic => panic!("boom"),
            }
            Ok(())
        }

        async fn finalize(&mut self) -> anyhow::Result<()> {
            self.finalized.fetch_add(1, Ordering::SeqCst);
            Ok(())
        }
    }

    #[tokio::test]
    async fn asks_restarts_after_panic_and_finalizes() {
        let finalized = Arc::new(AtomicUsize::new(0));
        let mut supervisor = Supervisor::default();
        let counter_finalized = Arc::clone(&finalized);
        let mailbox = supervisor.spawn("counter", 4, move |_| Counter {
            total: 0,
            finalized: Arc::clone(&counter_finalized),
        });
        assert_eq!(mailbox.ask(|reply| Msg::Add(2, reply)).await.unwrap(), 2);
        assert_eq!(mailbox.ask(|reply| Msg::Add(3, reply)).await.unwrap(), 5);
        mailbox.send(Msg::Panic).await.unwrap();
        assert_eq!(mailbox.ask(|reply| Msg::Add(1, reply)).await.unwrap(), 1);
        supervisor.shutdown().await;
        assert_eq!(finalized.load(Ordering::SeqCst), 1);
        assert!(mailbox.ask(|reply| Msg::Add(1, reply)).await.is_err());
    }
}
