//! The per-client query rate limit ("10 per 1 hour", a moving window like slowapi's).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(3600);

/// Counts accepted hits per client address over the last hour; refused hits are not counted.
#[derive(Debug)]
pub(crate) struct RateLimiter {
    per_hour: u32,
    hits: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

impl RateLimiter {
    pub(crate) fn new(per_hour: u32) -> Self {
        RateLimiter {
            per_hour,
            hits: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn per_hour(&self) -> u32 {
        self.per_hour
    }

    /// Records a hit for `client` and returns true, or returns false when the limit is reached.
    pub(crate) fn try_hit(&self, client: IpAddr) -> bool {
        self.try_hit_at(client, Instant::now())
    }

    fn try_hit_at(&self, client: IpAddr, now: Instant) -> bool {
        let mut hits = self
            .hits
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let window = hits.entry(client).or_default();
        while window
            .front()
            .is_some_and(|&hit| now.duration_since(hit) >= WINDOW)
        {
            window.pop_front();
        }
        if window.len() >= self.per_hour as usize {
            return false;
        }
        window.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn limit_is_per_client_and_slides_after_an_hour() {
        let limiter = RateLimiter::new(2);
        let (a, b) = (
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        );
        let start = Instant::now();
        assert!(limiter.try_hit_at(a, start));
        assert!(limiter.try_hit_at(a, start));
        assert!(!limiter.try_hit_at(a, start));
        assert!(limiter.try_hit_at(b, start));
        assert!(!limiter.try_hit_at(a, start + WINDOW / 2));
        assert!(limiter.try_hit_at(a, start + WINDOW));
    }
}
