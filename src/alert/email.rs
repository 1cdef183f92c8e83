//! Alert email content (pure): subject, plain-text and HTML bodies, and the threading headers, from one
//! grouped notification. Every finding with its expected and actual values, the failure class with its
//! runbook hint, recent latency, and the release under watch. Also the test email of `oewsprobe alert test`.

use super::AlertEvent;
use crate::probe::{FailureClass, Finding};
use std::fmt::Write as _;

/// What the email says about one probe.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertItem {
    pub probe: String,
    pub event: AlertEvent,
    pub class: Option<FailureClass>,
    pub findings: Vec<Finding>,
    pub latency_p50_ms: Option<f64>,
    pub latency_p95_ms: Option<f64>,
}

/// Where and when.
#[derive(Debug, Clone, PartialEq)]
pub struct EmailContext {
    pub target: String,
    /// The release under watch, if any.
    pub release: Option<String>,
    /// A stable key of the alert group, for Message-ID and threading.
    pub group_key: String,
    pub now_ms: u64,
    /// The Message-ID of the email this one follows up (a resolved notice threads under its alert).
    pub in_reply_to: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedEmail {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub message_id: String,
    pub in_reply_to: Option<String>,
}

fn word(event: AlertEvent) -> &'static str {
    match event {
        AlertEvent::Firing => "FIRING",
        AlertEvent::Reminder => "STILL FIRING",
        AlertEvent::Resolved => "RESOLVED",
    }
}

/// Orders a notification's items: firing first, then reminders, then resolved; by probe name within.
pub fn order(items: &mut [AlertItem]) {
    items.sort_by_key(|i| {
        (
            i.event != AlertEvent::Firing,
            i.event != AlertEvent::Reminder,
            i.probe.clone(),
        )
    });
}

pub fn render(items: &[AlertItem], ctx: &EmailContext) -> RenderedEmail {
    let firing = items.iter().any(|i| i.event != AlertEvent::Resolved);
    let severity = if firing { "critical" } else { "resolved" };
    let mut states: Vec<String> = Vec::new();
    for event in [
        AlertEvent::Firing,
        AlertEvent::Reminder,
        AlertEvent::Resolved,
    ] {
        let names: Vec<&str> = items
            .iter()
            .filter(|i| i.event == event)
            .map(|i| i.probe.as_str())
            .collect();
        if !names.is_empty() {
            states.push(format!("{}: {}", word(event), names.join(", ")));
        }
    }
    let subject = format!(
        "[oewsprobe][{severity}] {} — {}",
        states.join("; "),
        ctx.target
    );
    let mut text = format!("oewsprobe: {}\ntarget: {}\n", states.join("; "), ctx.target);
    if let Some(release) = &ctx.release {
        let _ = writeln!(text, "release under watch: {release}");
    }
    let mut html = format!(
        "<html><body><h2>oewsprobe: {}</h2><p>target: <code>{}</code></p>",
        escape(&states.join("; ")),
        escape(&ctx.target)
    );
    if let Some(release) = &ctx.release {
        let _ = write!(
            html,
            "<p>release under watch: <b>{}</b></p>",
            escape(release)
        );
    }
    for item in items {
        let class = item.class.map_or("-", |c| c.as_str());
        let _ = write!(
            text,
            "\n{} — {} (class {class})\n",
            item.probe,
            word(item.event)
        );
        let _ = write!(
            html,
            "<h3>{} — {} (class {})</h3>",
            escape(&item.probe),
            word(item.event),
            escape(class)
        );
        if let Some(hint) = item.class.and_then(FailureClass::hint) {
            let _ = writeln!(text, "  hint: {hint}");
            let _ = write!(html, "<p><i>hint: {}</i></p>", escape(hint));
        }
        if !item.findings.is_empty() {
            html.push_str("<ul>");
        }
        for f in &item.findings {
            let _ = writeln!(text, "  - {}", f.message);
            let _ = write!(
                html,
                "<li><code>{}</code>: expected <code>{}</code>, got <code>{}</code></li>",
                escape(f.place()),
                escape(&f.expected),
                escape(&f.actual)
            );
        }
        if !item.findings.is_empty() {
            html.push_str("</ul>");
        }
        if let (Some(p50), Some(p95)) = (item.latency_p50_ms, item.latency_p95_ms) {
            let _ = writeln!(text, "  recent latency: p50 {p50:.0} ms, p95 {p95:.0} ms");
            let _ = write!(
                html,
                "<p>recent latency: p50 {p50:.0} ms, p95 {p95:.0} ms</p>"
            );
        }
    }
    html.push_str("</body></html>");
    let kind = if firing { "alert" } else { "resolved" };
    RenderedEmail {
        subject,
        text,
        html,
        message_id: message_id(&ctx.group_key, kind, ctx.now_ms),
        in_reply_to: ctx.in_reply_to.clone(),
    }
}

/// A one-off notice: an SLO tier breach or recovery, a release-watch decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `critical`, `warning` or `info`.
    pub severity: &'static str,
    /// What happened, in a few words (the subject's heart).
    pub title: String,
    /// The facts, one a line.
    pub lines: Vec<String>,
}

/// Renders a notice like an alert: subject with severity and target, text and HTML, threading headers.
pub fn render_notice(notice: &Notice, ctx: &EmailContext) -> RenderedEmail {
    let subject = format!(
        "[oewsprobe][{}] {} — {}",
        notice.severity, notice.title, ctx.target
    );
    let mut text = format!("oewsprobe: {}\ntarget: {}\n", notice.title, ctx.target);
    let mut html = format!(
        "<html><body><h2>oewsprobe: {}</h2><p>target: <code>{}</code></p>",
        escape(&notice.title),
        escape(&ctx.target)
    );
    if let Some(release) = &ctx.release {
        let _ = writeln!(text, "release under watch: {release}");
        let _ = write!(
            html,
            "<p>release under watch: <b>{}</b></p>",
            escape(release)
        );
    }
    text.push('\n');
    html.push_str("<ul>");
    for line in &notice.lines {
        let _ = writeln!(text, "{line}");
        let _ = write!(html, "<li>{}</li>", escape(line));
    }
    html.push_str("</ul></body></html>");
    RenderedEmail {
        subject,
        text,
        html,
        message_id: message_id(&ctx.group_key, notice.severity, ctx.now_ms),
        in_reply_to: ctx.in_reply_to.clone(),
    }
}

/// A Message-ID unique per group key, kind and instant.
fn message_id(group_key: &str, kind: &str, now_ms: u64) -> String {
    format!(
        "<oewsprobe.{}.{kind}.{now_ms}@oewsprobe.invalid>",
        sanitize(group_key)
    )
}

/// The email `oewsprobe alert test` sends: it names the target and the SMTP server it went through.
pub fn render_test(target: &str, server: &str, now_ms: u64) -> RenderedEmail {
    RenderedEmail {
        subject: format!("[oewsprobe][test] alert email works — {target}"),
        text: format!(
            "oewsprobe: this is a test email, sent by `oewsprobe alert test`.\n\
             Alert email works: alerts about {target} will reach you this way.\n\
             target: {target}\nSMTP server: {server}\n"
        ),
        html: format!(
            "<html><body><h2>oewsprobe: alert email works</h2>\
             <p>This is a test email, sent by <code>oewsprobe alert test</code>. Alerts about this target will \
             reach you this way.</p><p>target: <code>{}</code><br>SMTP server: <code>{}</code></p></body></html>",
            escape(target),
            escape(server)
        ),
        message_id: format!("<oewsprobe.test.{now_ms}@oewsprobe.invalid>"),
        in_reply_to: None,
    }
}

/// HTML-escapes text.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Keeps a Message-ID's local part to safe characters.
fn sanitize(key: &str) -> String {
    key.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(
        probe: &str,
        event: AlertEvent,
        class: Option<FailureClass>,
        findings: Vec<Finding>,
    ) -> AlertItem {
        AlertItem {
            probe: probe.into(),
            event,
            class,
            findings,
            latency_p50_ms: Some(120.0),
            latency_p95_ms: Some(480.4),
        }
    }

    fn ctx() -> EmailContext {
        EmailContext {
            target: "https://api.example.org".into(),
            release: Some("main-bbb".into()),
            group_key: "default".into(),
            now_ms: 1_790_000_000_000,
            in_reply_to: None,
        }
    }

    #[test]
    fn a_grouped_alert_email_is_exact() {
        let mut items = vec![
            item(
                "models",
                AlertEvent::Firing,
                Some(FailureClass::ProxyBadGateway),
                vec![Finding::of_request(
                    "status",
                    "GET /api/v1/models",
                    "200",
                    "502",
                    None,
                )],
            ),
            item(
                "health",
                AlertEvent::Firing,
                Some(FailureClass::Contract),
                vec![Finding::new(
                    "json",
                    Some("$.status".into()),
                    "\"healthy\"",
                    "\"<down>\"",
                    None,
                )],
            ),
        ];
        order(&mut items);
        let email = render(&items, &ctx());
        assert_eq!(
            email.subject,
            "[oewsprobe][critical] FIRING: health, models — https://api.example.org"
        );
        assert_eq!(
            email.text,
            "oewsprobe: FIRING: health, models\ntarget: https://api.example.org\nrelease under watch: main-bbb\n\
             \nhealth — FIRING (class contract)\n  - $.status: expected \"healthy\", got \"<down>\"\n  recent latency: p50 120 ms, p95 480 ms\n\
             \nmodels — FIRING (class proxy_bad_gateway)\n  hint: the reverse proxy cannot reach the container: is it running and on the proxy's network (oews_default)?\n  - GET /api/v1/models: expected 200, got 502\n  recent latency: p50 120 ms, p95 480 ms\n"
        );
        assert!(email.html.contains("<li><code>$.status</code>: expected <code>&quot;healthy&quot;</code>, got <code>&quot;&lt;down&gt;&quot;</code></li>"), "{}", email.html);
        assert!(
            email.html.contains(
                "<li><code>GET /api/v1/models</code>: expected <code>200</code>, got <code>502</code></li>"
            ),
            "{}",
            email.html
        );
        assert_eq!(
            email.message_id,
            "<oewsprobe.default.alert.1790000000000@oewsprobe.invalid>"
        );
        assert_eq!(email.in_reply_to, None);
    }

    #[test]
    fn the_test_email_names_target_and_server() {
        let email = render_test("http://127.0.0.1:9", "127.0.0.1:2525 (plain)", 7);
        assert_eq!(
            email.subject,
            "[oewsprobe][test] alert email works — http://127.0.0.1:9"
        );
        assert_eq!(
            email.text,
            "oewsprobe: this is a test email, sent by `oewsprobe alert test`.\n\
             Alert email works: alerts about http://127.0.0.1:9 will reach you this way.\n\
             target: http://127.0.0.1:9\nSMTP server: 127.0.0.1:2525 (plain)\n"
        );
        assert!(
            email.html.contains(
                "<p>target: <code>http://127.0.0.1:9</code><br>SMTP server: <code>127.0.0.1:2525 (plain)</code></p>"
            ),
            "{}",
            email.html
        );
        assert_eq!(email.message_id, "<oewsprobe.test.7@oewsprobe.invalid>");
        assert_eq!(email.in_reply_to, None);
    }

    #[test]
    fn a_resolved_notice_threads_under_its_alert() {
        let mut context = ctx();
        context.in_reply_to = Some("<oewsprobe.default.alert.1@oewsprobe.invalid>".into());
        context.release = None;
        let email = render(
            &[item("health", AlertEvent::Resolved, None, vec![])],
            &context,
        );
        assert_eq!(
            email.subject,
            "[oewsprobe][resolved] RESOLVED: health — https://api.example.org"
        );
        assert_eq!(
            email.in_reply_to.as_deref(),
            Some("<oewsprobe.default.alert.1@oewsprobe.invalid>")
        );
        assert!(email.message_id.contains(".resolved."));
    }

    #[test]
    fn a_notice_is_exact() {
        let notice = Notice {
            severity: "critical",
            title: "release main-bbb: rollback called".into(),
            lines: vec![
                "reason: availability page tier burns at 14.4".into(),
                "hook: exited 0 <ok>".into(),
            ],
        };
        let email = render_notice(&notice, &ctx());
        assert_eq!(
            email.subject,
            "[oewsprobe][critical] release main-bbb: rollback called — https://api.example.org"
        );
        assert_eq!(
            email.text,
            "oewsprobe: release main-bbb: rollback called\ntarget: https://api.example.org\nrelease under watch: main-bbb\n\n\
             reason: availability page tier burns at 14.4\nhook: exited 0 <ok>\n"
        );
        assert!(
            email.html.contains("<li>hook: exited 0 &lt;ok&gt;</li>"),
            "{}",
            email.html
        );
        assert_eq!(
            email.message_id,
            "<oewsprobe.default.critical.1790000000000@oewsprobe.invalid>"
        );
    }
}
