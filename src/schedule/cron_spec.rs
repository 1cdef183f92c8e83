//! Cron schedules for probes: the `cron` crate's 6- or 7-field form (seconds first), and the classic
//! 5-field crontab form, which is read as "at second 0" (pure).

use chrono::{DateTime, TimeZone, Utc};
use std::fmt;
use std::str::FromStr;

/// A parsed schedule, evaluated in UTC.
#[derive(Debug, Clone)]
pub struct CronSchedule {
    text: String,
    schedule: cron::Schedule,
}

impl CronSchedule {
    pub fn parse(text: &str) -> Result<CronSchedule, String> {
        let fields = text.split_whitespace().count();
        let full = match fields {
            5 => format!("0 {}", text.trim()),
            6 | 7 => text.trim().to_string(),
            n => {
                return Err(format!(
                    "\"{text}\" has {n} fields; give 6 or 7 (seconds first, e.g. \"0 */5 * * * *\") or a 5-field \
                     crontab line (e.g. \"*/5 * * * *\", read as second 0)"
                ));
            }
        };
        let schedule = cron::Schedule::from_str(&full).map_err(|e| {
            let read_as = if fields == 5 { format!(" (read as \"{full}\")") } else { String::new() };
            format!(
                "\"{text}\"{read_as} is not a valid schedule: {e}. Fields: second minute hour day-of-month month \
                 day-of-week [year]; day-of-week is 1-7 with 1 = Sunday, or names like Mon-Fri"
            )
        })?;
        if schedule.upcoming(Utc).next().is_none() {
            return Err(format!("\"{text}\" never fires"));
        }
        Ok(CronSchedule {
            text: text.trim().to_string(),
            schedule,
        })
    }

    /// The first firing strictly after `after_ms` (ms since the Unix epoch).
    pub fn next_after(&self, after_ms: u64) -> Option<u64> {
        let after: DateTime<Utc> = Utc.timestamp_millis_opt(after_ms as i64).single()?;
        self.schedule
            .after(&after)
            .next()
            .map(|t| t.timestamp_millis() as u64)
    }

    /// The source text, as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// Two schedules are equal when written alike (the parsed form follows from the text).
impl PartialEq for CronSchedule {
    fn eq(&self, other: &CronSchedule) -> bool {
        self.text == other.text
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: u64 = 60_000;

    #[test]
    fn six_and_five_field_forms() {
        let every_5s = CronSchedule::parse("*/5 * * * * *").expect("6 fields");
        assert_eq!(every_5s.next_after(0), Some(5_000));
        assert_eq!(every_5s.next_after(5_000), Some(10_000), "strictly after");
        let crontab = CronSchedule::parse("*/15 * * * *").expect("5 fields");
        assert_eq!(crontab.next_after(1), Some(15 * MINUTE));
        assert_eq!(crontab.as_str(), "*/15 * * * *");
        let hourly_at_7 = CronSchedule::parse("0 7 * * * *").expect("hourly");
        assert_eq!(hourly_at_7.next_after(8 * MINUTE), Some(67 * MINUTE));
    }

    #[test]
    fn errors_say_what_was_wrong() {
        assert_eq!(
            CronSchedule::parse("* *").expect_err("2 fields"),
            "\"* *\" has 2 fields; give 6 or 7 (seconds first, e.g. \"0 */5 * * * *\") or a 5-field crontab line \
             (e.g. \"*/5 * * * *\", read as second 0)"
        );
        let e = CronSchedule::parse("0 0 * * 0").expect_err("day 0");
        assert!(
            e.starts_with("\"0 0 * * 0\" (read as \"0 0 0 * * 0\") is not a valid schedule: "),
            "{e}"
        );
        assert!(
            e.ends_with("day-of-week is 1-7 with 1 = Sunday, or names like Mon-Fri"),
            "{e}"
        );
    }
}
