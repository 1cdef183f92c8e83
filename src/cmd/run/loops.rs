//! The daemon's loops, keyed by what they do, so that a reload is a diff: a loop whose definition did not
//! change keeps running; a changed one is asked to stop, finishes its in-flight run, and hands over to its
//! successor; a removed one stops after its in-flight run; a new one starts. Two loops of one key never run
//! at once (a lock per key). Each counts as live for `/healthz` while it runs; one that ends unasked (an
//! error or a panic) is reported once with its cause and started again after a backoff.

use crate::monitor::Shutdown;
use crate::telemetry::Liveness;
use std::collections::{HashMap, HashSet};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::{Id, JoinError, JoinSet};

/// A loop's work: it runs until its [`Shutdown`] is set and returns how many things it recorded.
pub type Work = Pin<Box<dyn Future<Output = u64> + Send>>;

/// Starts a loop's work (again, after a death).
pub type Make = Arc<dyn Fn(Shutdown) -> Work + Send + Sync>;

/// A loop the plan wants: its key, its definition (an equal definition means an unchanged loop), and how
/// to start it.
pub struct Wanted {
    pub key: String,
    pub definition: String,
    pub make: Make,
}

impl Wanted {
    pub fn new(
        key: String,
        definition: String,
        make: impl Fn(Shutdown) -> Work + Send + Sync + 'static,
    ) -> Wanted {
        Wanted {
            key,
            definition,
            make: Arc::new(make),
        }
    }
}

/// What applying a plan changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Diff {
    pub kept: usize,
    pub changed: usize,
    pub started: usize,
    pub stopped: usize,
}

/// A dead loop waits `2^(deaths - 1)` seconds before it starts again, at most this long.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// A loop that ran this long before it died starts its backoff afresh.
const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// The backoff before a loop's restart after its `deaths`-th death in a row (1-based).
pub fn backoff(deaths: u32) -> Duration {
    Duration::from_secs(1u64 << deaths.saturating_sub(1).min(6)).min(MAX_BACKOFF)
}

struct Slot {
    definition: String,
    make: Make,
    stop: tokio::sync::watch::Sender<bool>,
    task: Id,
    started: Instant,
    deaths: u32,
}

/// A group of keyed loops.
pub struct Loops {
    tasks: JoinSet<u64>,
    slots: HashMap<String, Slot>,
    locks: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
    liveness: Arc<Liveness>,
}

impl Loops {
    pub fn new(liveness: Arc<Liveness>) -> Loops {
        Loops {
            tasks: JoinSet::new(),
            slots: HashMap::new(),
            locks: HashMap::new(),
            liveness,
        }
    }

    /// How many loops are wanted.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Makes `wanted` the running set: keeps unchanged loops, replaces changed ones, stops removed ones,
    /// starts new ones.
    pub fn apply(&mut self, wanted: Vec<Wanted>) -> Diff {
        let mut diff = Diff::default();
        let keys: HashSet<&str> = wanted.iter().map(|w| w.key.as_str()).collect();
        let removed: Vec<String> = self
            .slots
            .keys()
            .filter(|k| !keys.contains(k.as_str()))
            .cloned()
            .collect();
        for key in removed {
            if let Some(slot) = self.slots.remove(&key) {
                let _ = slot.stop.send(true);
                diff.stopped += 1;
            }
        }
        for w in wanted {
            match self.slots.get(&w.key) {
                Some(slot) if slot.definition == w.definition => {
                    diff.kept += 1;
                    continue;
                }
                Some(_) => diff.changed += 1,
                None => diff.started += 1,
            }
            // The successor is live before its predecessor is told to stop: no gap for `/healthz`.
            let slot = self.spawn(&w.key, w.definition, w.make, Duration::ZERO, 0);
            if let Some(old) = self.slots.insert(w.key, slot) {
                let _ = old.stop.send(true);
            }
        }
        diff
    }

    fn spawn(
        &mut self,
        key: &str,
        definition: String,
        make: Make,
        delay: Duration,
        deaths: u32,
    ) -> Slot {
        let (stop, mut shutdown) = Shutdown::new();
        let turn = self.locks.entry(key.to_string()).or_default().clone();
        let liveness = self.liveness.clone();
        // Live from now: while it waits for its predecessor (a changed loop finishing its run in flight), the
        // key is being handed over, not dead. A restart after a death is not live during its backoff.
        let now_alive = delay.is_zero().then(|| liveness.guard());
        let start = make.clone();
        let handle = self.tasks.spawn(async move {
            let _alive = match now_alive {
                Some(guard) => guard,
                None => {
                    tokio::select! {
                        () = tokio::time::sleep(delay) => {}
                        () = shutdown.requested() => return 0,
                    }
                    liveness.guard()
                }
            };
            // The previous loop of this key (changed, or dead) has ended before this one starts.
            let _turn = turn.lock_owned().await;
            start(shutdown).await
        });
        Slot {
            definition,
            make,
            stop,
            task: handle.id(),
            started: Instant::now(),
            deaths,
        }
    }

    /// Waits until a loop ends; pending while there is none.
    pub async fn next_end(&mut self) -> Result<(Id, u64), JoinError> {
        match self.tasks.join_next_with_id().await {
            Some(ended) => ended,
            None => std::future::pending().await,
        }
    }

    /// Handles a loop's end: one still wanted has died; it is reported once with `cause` and started again
    /// after a backoff. Returns the report, if any.
    pub fn ended(&mut self, ended: Result<(Id, u64), JoinError>) -> Option<String> {
        let (id, cause) = match ended {
            Ok((id, _)) => (id, "it ended without being asked to stop".to_string()),
            Err(e) if e.is_panic() => {
                let id = e.id();
                (
                    id,
                    format!("it panicked: {}", panic_message(e.into_panic())),
                )
            }
            Err(e) => (e.id(), "it was cancelled".to_string()),
        };
        let key = self
            .slots
            .iter()
            .find(|(_, slot)| slot.task == id && !*slot.stop.borrow())
            .map(|(key, _)| key.clone())?;
        let slot = self.slots.remove(&key)?;
        let deaths = if slot.started.elapsed() >= HEALTHY_RUN {
            1
        } else {
            slot.deaths + 1
        };
        let delay = backoff(deaths);
        let report = format!(
            "oewsprobe run: loop {key} died ({cause}); restarting it in {}s",
            delay.as_secs()
        );
        let restarted = self.spawn(&key, slot.definition, slot.make, delay, deaths);
        self.slots.insert(key, restarted);
        Some(report)
    }

    /// Asks every loop to stop and waits for them, at most `grace`; then abandons the rest (a probe run in
    /// flight records itself as `aborted`). Returns how many were abandoned.
    pub async fn stop(&mut self, grace: Duration) -> usize {
        for (_, slot) in self.slots.drain() {
            let _ = slot.stop.send(true);
        }
        let drained = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if drained.is_ok() {
            return 0;
        }
        let abandoned = self.tasks.len();
        self.tasks.abort_all();
        while self.tasks.join_next().await.is_some() {}
        abandoned
    }
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(message) => *message,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map_or_else(|| "(no message)".to_string(), |s| s.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    /// A loop that runs until asked to stop.
    fn idle(key: &str, definition: &str) -> Wanted {
        Wanted::new(key.into(), definition.into(), |mut stop: Shutdown| {
            Box::pin(async move {
                stop.requested().await;
                0
            })
        })
    }

    #[tokio::test]
    async fn applying_a_plan_keeps_equal_loops_and_replaces_stops_and_starts_the_rest() {
        let liveness = Arc::new(Liveness::default());
        let mut loops = Loops::new(liveness.clone());
        let steps: [(&[(&str, &str)], Diff); 3] = [
            (
                &[("a", "1"), ("b", "1")],
                Diff {
                    kept: 0,
                    changed: 0,
                    started: 2,
                    stopped: 0,
                },
            ),
            (
                &[("a", "1"), ("b", "2"), ("c", "1")],
                Diff {
                    kept: 1,
                    changed: 1,
                    started: 1,
                    stopped: 0,
                },
            ),
            (
                &[("c", "1")],
                Diff {
                    kept: 1,
                    changed: 0,
                    started: 0,
                    stopped: 2,
                },
            ),
        ];
        for (wanted, diff) in steps {
            let wanted = wanted.iter().map(|(k, d)| idle(k, d)).collect();
            assert_eq!(loops.apply(wanted), diff);
            assert!(liveness.counts().0 >= loops.len());
        }
        assert_eq!(loops.stop(Duration::from_secs(5)).await, 0);
        assert_eq!(liveness.counts().0, 0);
    }

    #[tokio::test]
    async fn a_changed_loop_starts_only_after_its_predecessor_has_ended() {
        let liveness = Arc::new(Liveness::default());
        let mut loops = Loops::new(liveness);
        let old_ended = Arc::new(AtomicBool::new(false));
        let ended = old_ended.clone();
        loops.apply(vec![Wanted::new(
            "k".into(),
            "1".into(),
            move |mut stop: Shutdown| {
                let ended = ended.clone();
                Box::pin(async move {
                    stop.requested().await;
                    tokio::time::sleep(Duration::from_millis(200)).await; // its run in flight
                    ended.store(true, Ordering::SeqCst);
                    1
                })
            },
        )]);
        let saw_old_ended = Arc::new(AtomicBool::new(false));
        let saw = saw_old_ended.clone();
        loops.apply(vec![Wanted::new(
            "k".into(),
            "2".into(),
            move |_stop: Shutdown| {
                let (saw, old_ended) = (saw.clone(), old_ended.clone());
                Box::pin(async move {
                    saw.store(old_ended.load(Ordering::SeqCst), Ordering::SeqCst);
                    2
                })
            },
        )]);
        let (_, first) = loops.next_end().await.expect("a loop ended");
        let (_, second) = loops.next_end().await.expect("a loop ended");
        assert_eq!((first, second), (1, 2));
        assert!(saw_old_ended.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_loop_that_panics_is_reported_once_and_started_again_after_its_backoff() {
        let liveness = Arc::new(Liveness::default());
        let mut loops = Loops::new(liveness.clone());
        let starts = Arc::new(AtomicU32::new(0));
        let counted = starts.clone();
        loops.apply(vec![Wanted::new(
            "probe x".into(),
            "1".into(),
            move |mut stop: Shutdown| {
                let first = counted.fetch_add(1, Ordering::SeqCst) == 0;
                Box::pin(async move {
                    assert!(!first, "boom");
                    stop.requested().await;
                    0
                })
            },
        )]);
        let ended = loops.next_end().await;
        assert_eq!(
            loops.ended(ended).as_deref(),
            Some("oewsprobe run: loop probe x died (it panicked: boom); restarting it in 1s")
        );
        assert_eq!(liveness.counts().0, 0, "not live during the backoff");
        tokio::time::sleep(Duration::from_millis(1_300)).await;
        assert_eq!(starts.load(Ordering::SeqCst), 2);
        assert_eq!(liveness.counts().0, 1, "live again");
        assert_eq!(loops.stop(Duration::from_secs(5)).await, 0);
    }

    #[test]
    fn the_backoff_doubles_from_one_second_up_to_a_minute() {
        let cases = [
            (1, 1),
            (2, 2),
            (3, 4),
            (4, 8),
            (6, 32),
            (7, 60),
            (8, 60),
            (99, 60),
        ];
        for (deaths, secs) in cases {
            assert_eq!(backoff(deaths), Duration::from_secs(secs), "{deaths}");
        }
    }
}
