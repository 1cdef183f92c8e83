//! The rollback hook runner (adapter): a command as an argv array, no shell, in a process group of its own,
//! with a timeout that ends the whole group, given the release, the version to roll back to, the reason and an
//! evidence file in an allow-listed environment. Its exit status, duration and output (bounded, secrets
//! redacted) are returned for the store.

mod capture;
mod group;
mod redact;
mod webhook;

pub use redact::{ALWAYS_PASSED, HookEnv, REDACTED, hook_env, kept_output};
pub use webhook::{SIGNATURE_HEADER, Secret, WebhookOutcome, post_webhook, signature};

use capture::Capture;
use group::Group;
use serde::Serialize;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Output kept per stream; the rest is cut (and says so).
const OUTPUT_LIMIT: usize = 64 * 1024;
/// After the timeout's TERM, how long the hook's group has to end before it is KILLed.
pub const KILL_GRACE: Duration = Duration::from_secs(3);
/// After the hook ends, how long its output may still take to arrive (a child it left may hold the pipe).
const DRAIN: Duration = Duration::from_millis(200);

/// The hook: what to run, for how long at most, with which of the daemon's variables, hiding which secrets.
#[derive(Debug, Clone, Copy)]
pub struct Hook<'a> {
    /// argv: the program, then its arguments.
    pub command: &'a [String],
    pub timeout: Duration,
    /// `rollback.env`: variable names passed on besides [`ALWAYS_PASSED`].
    pub env: &'a [String],
    /// Every secret the config resolved: withheld from the environment, redacted from the output.
    pub secrets: &'a [Secret],
}

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

/// Runs the hook in a process group of its own with an allow-listed environment and the call's variables.
/// Its exit status decides (not the end of its pipes); past the timeout its whole group is ended (TERM, then
/// KILL after [`KILL_GRACE`]). The output read until then is kept, bounded, with known secrets redacted.
pub async fn run_hook(hook: &Hook<'_>, call: &HookCall<'_>) -> HookOutcome {
    let started = Instant::now();
    let mut outcome = HookOutcome {
        command: hook
            .command
            .iter()
            .map(|arg| kept_output(arg, false, hook.secrets))
            .collect(),
        exit_code: None,
        timed_out: false,
        spawn_error: None,
        duration_ms: 0,
        stdout: String::new(),
        stderr: String::new(),
    };
    let Some((program, args)) = hook.command.split_first() else {
        outcome.spawn_error = Some("rollback.command is empty".to_string());
        return outcome;
    };
    let env = hook_env(hook.env, hook.secrets, |name| std::env::var(name).ok());
    for name in &env.withheld {
        tracing::warn!(
            variable = %name,
            "rollback.env: not passed to the hook: its value holds a secret of the config"
        );
    }
    let child = tokio::process::Command::new(program)
        .args(args)
        .env_clear()
        .envs(env.passed)
        .env("OEWSPROBE_RELEASE", call.release)
        .env("OEWSPROBE_ROLLBACK_TO", call.rollback_to)
        .env("OEWSPROBE_REASON", call.reason)
        .env("OEWSPROBE_EVIDENCE", call.evidence_file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
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
    let mut group = Group::led_by(&child);
    let stdout = Capture::start(child.stdout.take(), OUTPUT_LIMIT);
    let stderr = Capture::start(child.stderr.take(), OUTPUT_LIMIT);
    match tokio::time::timeout(hook.timeout, child.wait()).await {
        Ok(status) => {
            outcome.exit_code = status.ok().and_then(|s| s.code());
            group.let_go();
        }
        Err(_) => {
            outcome.timed_out = true;
            group.end(&mut child, KILL_GRACE).await;
        }
    }
    let ((out, out_cut), (err, err_cut)) = tokio::join!(stdout.finish(DRAIN), stderr.finish(DRAIN));
    outcome.stdout = kept_output(&out, out_cut, hook.secrets);
    outcome.stderr = kept_output(&err, err_cut, hook.secrets);
    outcome.duration_ms = started.elapsed().as_millis() as u64;
    outcome
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

    async fn run(parts: &[&str], timeout: Duration) -> HookOutcome {
        let command = argv(parts);
        let hook = Hook {
            command: &command,
            timeout,
            env: &[],
            secrets: &[],
        };
        run_hook(&hook, &call(Path::new("/tmp/evidence.json"))).await
    }

    /// Whether `pid` is a live process (not gone, not a zombie waiting to be reaped).
    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
            stat.rsplit_once(") ")
                .is_some_and(|(_, rest)| !rest.starts_with('Z'))
        })
    }

    fn read_pid(file: &Path) -> String {
        std::fs::read_to_string(file)
            .expect("pid file")
            .trim()
            .to_string()
    }

    #[tokio::test]
    async fn the_hook_gets_its_environment_and_its_output_is_kept() {
        let script = "echo \"$OEWSPROBE_RELEASE>$OEWSPROBE_ROLLBACK_TO:$OEWSPROBE_REASON@$OEWSPROBE_EVIDENCE\"; echo oops >&2; exit 3";
        let outcome = run(&["sh", "-c", script], Duration::from_secs(10)).await;
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
        let outcome = run(&["sleep", "30"], Duration::from_millis(300)).await;
        assert!(outcome.timed_out);
        assert_eq!(outcome.exit_code, None);
        assert!(outcome.duration_ms < 5_000, "{}", outcome.duration_ms);
    }

    #[tokio::test]
    async fn the_timeout_ends_every_process_the_hook_started_and_keeps_its_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pids = dir.path().join("pids");
        // A child that ignores TERM (it must get KILL), and one that dies by TERM.
        let script = format!(
            "echo before the timeout; (trap '' TERM; sleep 60) & echo $! > {p}; sleep 60 & echo $! >> {p}; sleep 60",
            p = pids.display()
        );
        let outcome = run(&["sh", "-c", &script], Duration::from_secs(2)).await;
        assert!(outcome.timed_out && !outcome.succeeded());
        assert_eq!(outcome.stdout, "before the timeout\n");
        let text = std::fs::read_to_string(&pids).expect("pid file");
        let started: Vec<&str> = text.lines().collect();
        assert_eq!(started.len(), 2, "{text:?}");
        for pid in started {
            assert!(
                !alive(pid),
                "process {pid} of the hook's group outlived the timeout"
            );
        }
    }

    #[tokio::test]
    async fn a_hook_that_exits_0_leaving_a_child_on_its_stdout_succeeded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid = dir.path().join("pid");
        let script = format!(
            "echo rolled back; sleep 30 & echo $! > {}; exit 0",
            pid.display()
        );
        let outcome = run(&["sh", "-c", &script], Duration::from_secs(20)).await;
        let child = read_pid(&pid);
        assert!(
            alive(&child),
            "the hook's child keeps running: it is not the hook"
        );
        let _ = std::process::Command::new("kill").arg(&child).status();
        assert!(outcome.succeeded() && !outcome.timed_out, "{outcome:?}");
        assert_eq!(outcome.stdout, "rolled back\n");
        assert!(outcome.duration_ms < 20_000, "{}", outcome.duration_ms);
    }

    #[tokio::test]
    async fn arguments_are_not_interpreted_by_a_shell() {
        let outcome = run(
            &["echo", "$OEWSPROBE_RELEASE; rm -rf /"],
            Duration::from_secs(5),
        )
        .await;
        assert_eq!(outcome.stdout, "$OEWSPROBE_RELEASE; rm -rf /\n");
        let missing = run(&["/nonexistent/hook"], Duration::from_secs(5)).await;
        assert_eq!(
            missing.spawn_error.as_deref(),
            Some("cannot start /nonexistent/hook: No such file or directory (os error 2)")
        );
    }

    #[tokio::test]
    async fn the_hook_sees_only_allow_listed_variables_and_its_output_hides_secrets() {
        let command = argv(&["sh", "-c", "env; echo pw-1234"]);
        let hook = Hook {
            command: &command,
            timeout: Duration::from_secs(10),
            env: &["CARGO_PKG_NAME".to_string()],
            secrets: &[Secret::new(b"pw-1234".to_vec())],
        };
        let outcome = run_hook(&hook, &call(Path::new("/e"))).await;
        let mut names: Vec<&str> = outcome
            .stdout
            .lines()
            .filter_map(|line| line.split_once('=').map(|(name, _)| name))
            .collect();
        names.sort_unstable();
        names.retain(|n| *n != "PWD" && *n != "SHLVL" && *n != "_"); // the shell's own
        let mut expected = vec![
            "OEWSPROBE_EVIDENCE",
            "OEWSPROBE_REASON",
            "OEWSPROBE_RELEASE",
            "OEWSPROBE_ROLLBACK_TO",
        ];
        for name in ["PATH", "HOME", "LANG", "CARGO_PKG_NAME"] {
            if std::env::var_os(name).is_some() {
                expected.push(name);
            }
        }
        expected.sort_unstable();
        assert_eq!(names, expected);
        assert!(
            outcome.stdout.ends_with("[redacted]\n"),
            "{}",
            outcome.stdout
        );
    }
}
