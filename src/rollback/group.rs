//! The hook's process group (adapter): the hook leads a group of its own, so its timeout ends everything it
//! started — TERM to the whole group, then KILL to whatever is left after a short grace — and a hook dropped
//! half-way (its future cancelled) takes its group with it.

use rustix::io::Errno;
use rustix::process::{Pid, Signal, kill_process_group, test_kill_process_group};
use std::time::{Duration, Instant};
use tokio::process::Child;

/// How often the group is looked at while it winds down after TERM.
const POLL: Duration = Duration::from_millis(50);

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

    /// TERM to the whole group; KILL to whatever of it still runs after `grace`; returns once nothing of the
    /// group runs (zombies waiting for init to reap them do not count), at most [`KILLED_WITHIN`] after the
    /// KILL, with the leader reaped.
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

/// Whether a process of group `pgid` is still running, by `/proc`: its orphaned members that died wait as
/// zombies until init reaps them (which may take a second or more), and a zombie does nothing. Without a
/// readable `/proc`, every member counts as live.
fn has_live_member(pgid: Pid) -> bool {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return true;
    };
    entries.filter_map(Result::ok).any(|entry| {
        std::fs::read_to_string(entry.path().join("stat"))
            .ok()
            .and_then(|stat| group_and_state(&stat))
            .is_some_and(|(group, state)| group == pgid.as_raw_nonzero().get() && state != 'Z')
    })
}

/// The process group and state of a `/proc/PID/stat` line (`PID (COMM) STATE PPID PGRP ...`; COMM may hold
/// spaces and parentheses).
fn group_and_state(stat: &str) -> Option<(i32, char)> {
    let (_, rest) = stat.rsplit_once(") ")?;
    let mut fields = rest.split(' ');
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let group = fields.next()?.parse().ok()?;
    Some((group, state))
}

/// Whether the group `pgid` is gone (or only zombies are left of it) within `limit`. The leader is reaped as soon as it exits (a zombie leader
/// would keep the group "alive"); its pid cannot be reused while other members still carry it as their group.
async fn gone_within(pgid: Pid, leader: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        let _ = leader.try_wait();
        if test_kill_process_group(pgid) == Err(Errno::SRCH) || !has_live_member(pgid) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_lines_give_the_group_and_state() {
        let table = [
            (
                "4242 (sleep) S 1 4240 4240 0 -1 4194560 95",
                Some((4240, 'S')),
            ),
            ("4243 (sh) Z 1 4240 4240 0 -1", Some((4240, 'Z'))),
            ("7 (a) b (c)) R 1 9 9 0", Some((9, 'R'))),
            ("7 (truncated", None),
            ("7 (x) R 1 notanumber", None),
        ];
        for (line, expected) in table {
            assert_eq!(group_and_state(line), expected, "{line}");
        }
    }
}
