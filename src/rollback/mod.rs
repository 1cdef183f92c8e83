//! The rollback hook runner (adapter): a command as an argv array, no shell, with a timeout, given the
//! release, the version to roll back to, the reason and an evidence file in its environment. Its exit status,
//! duration and output are returned for the store.

mod webhook;

pub use webhook::{SIGNATURE_HEADER, Secret, WebhookOutcome, post_webhook, signature};

use serde::Serialize;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

/// Output kept per stream; the rest is cut (and says so).
const OUTPUT_LIMIT: usize = 64 * 1024;

/// What the hook is told.
#[derive(Debug, Clone)]
pub struct HookCall<'a> {
    pub release: &'a str,
    pub rollback_to: &'a str,
    pub reason: &'a str,
    pub evidence_file: &'a Path,
}

/// How the hook went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HookOutcome {
    pub command: Vec<String>,
    /// The exit code; `None` when it was killed (timeout) or could not start.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    /// Set when the command could not be started at all.
    pub spawn_error: Option<String>,
    pub duration_ms: u64,
    pub stdout: String,
    pub stderr: String,
}

impl HookOutcome {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0)
    }
}

/// Runs `command` (argv: program then arguments) with the call's environment, killing it after `timeout`.
pub async fn run_hook(command: &[String], timeout: Duration, call: &HookCall<'_>) -> HookOutcome {
    let started = Instant::now();
    let mut outcome = HookOutcome {
        command: command.to_vec(),
        exit_code: None,
        timed_out: false,
        spawn_error: None,
        duration_ms: 0,
        stdout: String::new(),
        stderr: String::new(),
    };
    let Some((program, args)) = command.split_first() else {
        outcome.spawn_error = Some("rollback.command is empty".to_string());
        return outcome;
    };
    let child = tokio::process::Command::new(program)
        .args(args)
        .env("OEWSPROBE_RELEASE", call.release)
        .env("OEWSPROBE_ROLLBACK_TO", call.rollback_to)
        .env("OEWSPROBE_REASON", call.reason)
        .env("OEWSPROBE_EVIDENCE", call.evidence_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            outcome.spawn_error = Some(format!("cannot start {program}: {e}"));
            outcome.duration_ms = started.elapsed().as_millis() as u64;
            return outcome;
        }
    };
    let stdout = read_limited(child.stdout.take());
    let stderr = read_limited(child.stderr.take());
    let waited = tokio::time::timeout(timeout, async {
        let (status, out, err) = tokio::join!(child.wait(), stdout, stderr);
        (status, out, err)
    })
    .await;
    match waited {
        Ok((status, out, err)) => {
            outcome.exit_code = status.ok().and_then(|s| s.code());
            outcome.stdout = out;
            outcome.stderr = err;
        }
        Err(_) => {
            outcome.timed_out = true;
            let _ = child.kill().await;
        }
    }
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
}

async fn read_limited<R: tokio::io::AsyncRead + Unpin>(stream: Option<R>) -> String {
    let Some(mut stream) = stream else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut buf = [0u8; 8192];
    let mut cut = false;
    while let Ok(n) = stream.read(&mut buf).await {
        if n == 0 {
            break;
        }
        let room = OUTPUT_LIMIT.saturating_sub(kept.len());
        kept.extend_from_slice(&buf[..n.min(room)]);
        cut |= n > room;
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if cut {
        text.push_str("\n[output cut at 64 KiB]");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(evidence: &Path) -> HookCall<'_> {
        HookCall {
            release: "main-bbb",
            rollback_to: "main-aaa",
            reason: "queries burning 20x",
            evidence_file: evidence,
        }
    }

    fn argv(parts: &[&str]) -> Vec<String> {
        parts.iter().map(|s| s.to_string()).collect()
    }

    #[tokio::test]
    async fn the_hook_gets_its_environment_and_its_output_is_kept() {
        let evidence = Path::new("/tmp/evidence.json");
        let script = "echo \"$OEWSPROBE_RELEASE>$OEWSPROBE_ROLLBACK_TO:$OEWSPROBE_REASON@$OEWSPROBE_EVIDENCE\"; echo oops >&2; exit 3";
        let outcome = run_hook(
            &argv(&["sh", "-c", script]),
            Duration::from_secs(10),
            &call(evidence),
        )
        .await;
        assert_eq!(outcome.exit_code, Some(3));
        assert!(!outcome.succeeded() && !outcome.timed_out);
        assert_eq!(
            outcome.stdout,
            "main-bbb>main-aaa:queries burning 20x@/tmp/evidence.json\n"
        );
        assert_eq!(outcome.stderr, "oops\n");
    }

    #[tokio::test]
    async fn a_hook_past_its_timeout_is_killed() {
        let outcome = run_hook(
            &argv(&["sleep", "30"]),
            Duration::from_millis(300),
            &call(Path::new("/e")),
        )
        .await;
        assert!(outcome.timed_out);
        assert_eq!(outcome.exit_code, None);
        assert!(outcome.duration_ms < 5_000, "{}", outcome.duration_ms);
    }

    #[tokio::test]
    async fn arguments_are_not_interpreted_by_a_shell() {
        let outcome = run_hook(
            &argv(&["echo", "$OEWSPROBE_RELEASE; rm -rf /"]),
            Duration::from_secs(5),
            &call(Path::new("/e")),
        )
        .await;
        assert_eq!(outcome.stdout, "$OEWSPROBE_RELEASE; rm -rf /\n");
        let missing = run_hook(
            &argv(&["/nonexistent/hook"]),
            Duration::from_secs(5),
            &call(Path::new("/e")),
        )
        .await;
        assert_eq!(
            missing.spawn_error.as_deref(),
            Some("cannot start /nonexistent/hook: No such file or directory (os error 2)")
        );
    }
}
