//! The location quorum in probes' alerts: each run the alert loop folds is judged against the other locations'
//! latest conclusive runs of the probe (read from the store, recent enough: within two of the probe's
//! intervals), so an outage fires only when enough locations fail, and a location failing alone is a location
//! problem — folded as a pass, and told once by a `warning` email. One location in the store: the runs as
//! they are, and no read per run.

use super::Lead;
use super::alerts::enqueue_notice;
use super::shared::{now_ms, report_leader_error, store_task};
use crate::alert::{AlertSettings, EmailContext, Notice};
use crate::fleet::{Fold, LocationRun, Quorum, judge_run};
use crate::probe::{ProbeRecord, Verdict};
use crate::store::{Fence, Store, StoreError};
use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The prefix of the stored "told" state of a probe's location problem (`loc/PROBE`: the locations told).
const TOLD_PREFIX: &str = "loc/";
/// How often the number of locations in the store is looked at again: soon while one was seen (another
/// agent may be starting), seldom once several were.
const RECOUNT_ALONE: Duration = Duration::from_secs(1);
const RECOUNT_SEVERAL: Duration = Duration::from_secs(30);
/// How old another location's run may be when the probe's interval is not known yet (its first run here).
const FIRST_WINDOW_MS: u64 = 5 * 60_000;
/// Slack beyond two intervals for another agent's run to be written (its writer batches).
const SLACK_MS: u64 = 5_000;

/// Where the judge writes, and as whom: the alert loop's store, this agent's lease and its fence, the alert
/// settings and the target.
#[derive(Clone, Copy)]
pub struct Out<'a> {
    pub store: &'a Arc<Mutex<Store>>,
    pub lead: &'a Lead,
    pub fence: &'a Fence,
    pub settings: &'a AlertSettings,
    pub target: &'a str,
}

/// The judge of one alert loop.
#[derive(Debug)]
pub struct LocationJudge {
    here: String,
    quorum: Quorum,
    /// Each probe's previous run here: the interval bounds how old another location's run may be.
    last_at: HashMap<String, u64>,
    /// The locations told failing alone, per probe.
    told: HashMap<String, BTreeSet<String>>,
    /// Whether the store holds more than one location, and when that was read.
    several: Option<(bool, std::time::Instant)>,
}

impl LocationJudge {
    /// The judge for this agent's `location`, with what was told restored from the store.
    pub async fn restore(
        store: &Arc<Mutex<Store>>,
        location: &str,
        quorum: Quorum,
    ) -> LocationJudge {
        let told = match store_task(store, |s| s.alert_states::<serde_json::Value>()).await {
            Ok(states) => states
                .into_iter()
                .filter_map(|(key, value)| {
                    let probe = key.strip_prefix(TOLD_PREFIX)?.to_string();
                    Some((probe, serde_json::from_value(value).ok()?))
                })
                .collect(),
            Err(e) => {
                tracing::error!(error = %e, "location problems: cannot read what was told; starting fresh");
                HashMap::new()
            }
        };
        LocationJudge {
            here: location.to_string(),
            quorum,
            last_at: HashMap::new(),
            told,
            several: None,
        }
    }

    /// How the alert book should fold each run of `batch` (see [`folded`]); writes a warning email for each
    /// probe with a location newly failing alone, as leader (`out.fence`). Returns one fold per run and how
    /// many emails were written.
    pub async fn judge(&mut self, out: Out<'_>, batch: &[ProbeRecord]) -> (Vec<Fold>, u64) {
        let store = out.store;
        let windows: Vec<(String, u64)> = batch
            .iter()
            .map(|r| {
                let since = self.last_at.get(&r.probe).map_or(
                    r.scheduled_at_ms.saturating_sub(FIRST_WINDOW_MS),
                    |&last| {
                        let interval = r.scheduled_at_ms.saturating_sub(last);
                        last.saturating_sub(interval + SLACK_MS)
                    },
                );
                self.last_at.insert(r.probe.clone(), r.scheduled_at_ms);
                (r.probe.clone(), since)
            })
            .collect();
        let as_they_are = || vec![Fold::AsIs; batch.len()];
        if !self.several(store).await {
            return (as_they_are(), 0);
        }
        let latest = match store_task(store, move |s| {
            windows
                .iter()
                .map(|(probe, since)| s.latest_conclusive_by_location(probe, *since))
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .await
        {
            Ok(latest) => latest,
            Err(e) => {
                tracing::warn!(error = %e, "alerting: cannot read the other locations' runs; judging this agent's runs alone");
                return (as_they_are(), 0);
            }
        };
        let mut folds = Vec::with_capacity(batch.len());
        let mut written = 0;
        for (record, latest) in batch.iter().zip(latest) {
            let judged = judge_run(&self.here, record.verdict, &latest, self.quorum);
            written += self
                .tell(&out, record, judged.location_problem, &latest)
                .await;
            folds.push(judged.fold);
        }
        (folds, written)
    }

    /// Whether the store holds runs of more than one location (read again after [`RECOUNT_ALONE`] or
    /// [`RECOUNT_SEVERAL`]).
    async fn several(&mut self, store: &Arc<Mutex<Store>>) -> bool {
        if let Some((several, at)) = self.several
            && at.elapsed()
                < if several {
                    RECOUNT_SEVERAL
                } else {
                    RECOUNT_ALONE
                }
        {
            return several;
        }
        let since = now_ms().saturating_sub(86_400_000);
        let several = store_task(store, move |s| s.locations_in_days_since(since))
            .await
            .map(|n| n > 1)
            .unwrap_or(false);
        self.several = Some((several, std::time::Instant::now()));
        several
    }

    /// Writes the warning for locations of `record`'s probe newly failing alone, and keeps what was told.
    async fn tell(
        &mut self,
        out: &Out<'_>,
        record: &ProbeRecord,
        problem: Option<(Vec<String>, usize)>,
        latest: &[LocationRun],
    ) -> u64 {
        let told = self.told.get(&record.probe).cloned().unwrap_or_default();
        let failing: BTreeSet<String> = problem
            .as_ref()
            .map(|(failing, _)| failing.iter().cloned().collect())
            .unwrap_or_default();
        if failing == told {
            return 0;
        }
        let new: Vec<String> = failing.difference(&told).cloned().collect();
        let notice = (!new.is_empty())
            .then(|| {
                problem
                    .as_ref()
                    .map(|(_, n)| notice(&record.probe, &new, *n, latest))
            })
            .flatten();
        let (probe, key) = (
            record.probe.clone(),
            format!("{TOLD_PREFIX}{}", record.probe),
        );
        let state = serde_json::to_value(&failing).unwrap_or_default();
        let Out {
            store,
            lead,
            fence,
            settings,
            target,
        } = *out;
        let context = EmailContext {
            target: target.to_string(),
            release: None,
            group_key: format!("location-{probe}"),
            now_ms: now_ms(),
            in_reply_to: None,
        };
        let silenced = silenced(settings, &probe, store).await;
        let wrote = notice.is_some();
        let fence = fence.clone();
        let result = store_task(store, move |s| {
            s.as_leader(&fence, |s| {
                if let Some(notice) = &notice {
                    enqueue_notice(s, "location", &probe, notice, context, silenced)?;
                }
                s.save_alert_states(&[(key, state)], now_ms())
            })
        })
        .await;
        match result {
            Ok(()) => {
                self.told.insert(record.probe.clone(), failing);
                u64::from(wrote)
            }
            Err(e) => {
                report_leader_error(lead, &e, "location problems: cannot write the notice");
                0
            }
        }
    }
}

/// Why the probe's alerts are silenced now, if they are.
async fn silenced(
    settings: &AlertSettings,
    probe: &str,
    store: &Arc<Mutex<Store>>,
) -> Option<String> {
    let now = now_ms();
    let silences = store_task(store, move |s| s.active_silences(now))
        .await
        .ok()?;
    crate::alert::silenced_by(probe, now, &silences, &settings.maintenance)
}

/// The run as the book should fold it: itself, or (rarely) a copy with the quorum's verdict.
pub fn folded<'r>(record: &'r ProbeRecord, fold: &Fold) -> Cow<'r, ProbeRecord> {
    match fold {
        Fold::AsIs => Cow::Borrowed(record),
        Fold::Pass => Cow::Owned(ProbeRecord {
            verdict: Verdict::Pass,
            class: None,
            findings: Vec::new(),
            ..record.clone()
        }),
        Fold::Fail(class) => Cow::Owned(ProbeRecord {
            verdict: Verdict::Fail,
            class: *class,
            ..record.clone()
        }),
    }
}

/// The warning: which locations fail alone, of how many reporting.
pub fn notice(probe: &str, new: &[String], reporting: usize, latest: &[LocationRun]) -> Notice {
    let classes: Vec<String> = new
        .iter()
        .map(|location| {
            let class = latest
                .iter()
                .find(|r| &r.location == location)
                .and_then(|r| r.class)
                .map_or("failed", |c| c.as_str());
            format!("{}: {class}", location_name(location))
        })
        .collect();
    Notice {
        severity: "warning",
        title: format!(
            "{probe} fails from {} only: a location problem, not an outage",
            new.iter()
                .map(|l| location_name(l))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        lines: vec![
            format!("failing: {}", classes.join(", ")),
            format!(
                "{} of {reporting} locations fail: too few for an outage (fleet.quorum); no alert fires, no budget is spent, no rollback",
                new.len()
            ),
            "check that location's network, proxy or host".to_string(),
        ],
    }
}

/// A location as users see it: `-` for runs recorded before locations were kept.
fn location_name(location: &str) -> &str {
    if location.is_empty() { "-" } else { location }
}
