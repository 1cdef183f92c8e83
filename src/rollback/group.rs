//! The hook's process group (adapter): the hook leads a group of its own, so its timeout ends everything it
//! started — TERM to the whole group, then KILL to whatever is left after a short grace — and a hook dropped
//! half-way (its future cancelled) takes its group with it.

use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use std::time::{Duration, Instant};
use tokio::process::Child;

/// How often the group is looked at while it winds down after TERM.
const POLL: Duration = Duration::from_millis(20);

/// The process group a hook leads; sends KILL to it when dropped while still armed.
#[derive(Debug)]
pub struct Group {
    /// `None` once the group is ended or let go.
    pgid: Option<Pid>,
}

impl Group {
    /// The group `child` leads (it was spawned with `process_group(0)`).
    pub fn led_by(child: &Child) -> Group {
        let pgid = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .and_then(Pid::from_raw);
        Group { pgid }
    }

    /// Leaves the group to itself: the hook ended by itself, and what it left running is its own business.
    pub fn let_go(&mut self) {
        self.pgid = None;
    }

    /// TERM to the whole group; KILL to whatever of it is still there after `grace`; returns once the group
    /// is gone (or [`KILLED_WITHIN`] after the KILL, for members that only their parent can reap), the leader
    /// reaped.
    pub async fn end(&mut self, leader: &mut Child, grace: Duration) {
        if let Some(pgid) = self.pgid.take() {
            let _ = kill_process_group(pgid, Signal::TERM);
            if !gone_within(pgid, leader, grace).await {
                let _ = kill_process_group(pgid, Signal::KILL);
                gone_within(pgid, leader, KILLED_WITHIN).await;
            }
        }
        let _ = leader.wait().await;
    }
}

/// How long after its KILL a group is waited for (a KILLed process takes a moment to die on a busy machine).
const KILLED_WITHIN: Duration = Duration::from_secs(1);

/// Whether the group `pgid` is gone within `limit`. The leader is reaped as soon as it exits (a zombie leader
/// would keep the group "alive"); its pid cannot be reused while other members still carry it as their group.
async fn gone_within(pgid: Pid, leader: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let _ = leader.try_wait();
        if test_kill_process_group(pgid) == Err(Errno::SRCH) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL).await;
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        if let Some(pgid) = self.pgid {
            let _ = kill_process_group(pgid, Signal::KILL);
        }
    }
}
