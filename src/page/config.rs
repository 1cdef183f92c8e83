//! What the pages take from the plan: each probe's name and definition as shown, the bursts' names, the
//! objectives, the watch settings and the query budget.

use super::model::ProbeInfo;
use crate::config::Plan;
use crate::slo::{Objective, Sli};

/// The plan as the pages use it.
#[derive(Debug, Clone)]
pub struct PageConfig {
    pub probes: Vec<String>,
    pub bursts: Vec<String>,
    pub infos: Vec<ProbeInfo>,
    pub objectives: Vec<Objective>,
    pub watch: crate::release::WatchSettings,
    /// `rollback.recovery`: how long after the hook a watched probe must pass.
    pub recovery: std::time::Duration,
    pub queries_per_hour: u32,
}

impl PageConfig {
    pub fn of(plan: &Plan) -> PageConfig {
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let infos = plan
            .probes
            .iter()
            .map(|p| ProbeInfo {
                name: p.name.clone(),
                description: p.description.clone(),
                request: format!("{} {}", p.request.method, p.request.path),
                schedule: p.schedule.as_ref().map(|s| s.as_str().to_string()),
                timeout_ms: u64::try_from(p.request.timeout.as_millis()).unwrap_or(u64::MAX),
                expect_status: p.expect.status.to_string(),
                expect_latency_ms: p.expect.latency.map(ms),
                objective_latency_ms: plan
                    .objectives
                    .iter()
                    .filter(|o| o.covers(&p.name))
                    .filter_map(|o| match o.sli {
                        Sli::Latency { threshold } => Some(ms(threshold)),
                        Sli::Availability => None,
                    })
                    .reduce(f64::min),
            })
            .collect();
        PageConfig {
            probes: plan.probes.iter().map(|p| p.name.clone()).collect(),
            bursts: plan
                .probes
                .iter()
                .filter(|p| p.burst.is_some())
                .map(|p| p.burst_name())
                .collect(),
            infos,
            objectives: plan.objectives.clone(),
            watch: plan.settings.watch.settings.clone(),
            recovery: plan.settings.watch.recovery,
            queries_per_hour: plan.settings.queries_per_hour,
        }
    }

    /// The query of everything the pages show over `window_ms`, with `detail` shown in detail (latency per bar, latest runs).
    pub fn query<'a>(
        &'a self,
        window_ms: u64,
        detail: &'a [String],
    ) -> crate::happened::PageQuery<'a> {
        crate::happened::PageQuery {
            probes: &self.probes,
            bursts: &self.bursts,
            objectives: &self.objectives,
            watch: &self.watch,
            recovery: self.recovery,
            queries_per_hour: self.queries_per_hour,
            window_ms,
            detail,
        }
    }
}
