//! The pieces every page shares (pure): the one escaping function, the page shell (inline CSS, navigation,
//! no script, no external asset), and how numbers and instants are written.

/// Text or an attribute value made safe for HTML: `& < > " '` as entities. Everything from a response, the
/// store or the config passes through here before it reaches a page.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A path segment made safe for a URL (a probe's name in `/probe/NAME`): RFC 3986 unreserved characters
/// kept, every other byte percent-encoded.
pub fn url_segment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Milliseconds as people read them: `-` when unknown, `850 ms`, `1.25 s`.
pub fn ms_text(ms: Option<f64>) -> String {
    match ms {
        None => "-".to_string(),
        Some(ms) if ms < 1.0 => format!("{ms:.2} ms"),
        Some(ms) if ms < 1000.0 => format!("{ms:.0} ms"),
        Some(ms) => format!("{:.2} s", ms / 1000.0),
    }
}

/// A percentage to two decimals (`99.95 %`), `-` when unknown.
pub fn percent_text(percent: Option<f64>) -> String {
    percent.map_or_else(|| "-".to_string(), |p| format!("{p:.2} %"))
}

/// A rate (`14.40×`), `-` when unknown.
pub fn rate_text(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_string(), |r| format!("{r:.2}×"))
}

/// An instant, RFC 3339 UTC.
pub fn at_text(ms: u64) -> String {
    crate::release::instant_text(ms)
}

/// How long ago `at_ms` was at `now_ms`, to the second (`3m 5s ago`).
pub fn ago_text(now_ms: u64, at_ms: u64) -> String {
    let d = std::time::Duration::from_secs(now_ms.saturating_sub(at_ms) / 1000);
    format!("{} ago", humantime::format_duration(d))
}

/// Which page a shell belongs to (its navigation link is marked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    Overview,
    Probe,
    Slo,
    Release,
}

/// How pages link to each other: served (`/probe/NAME`) or in one file (`#probe-NAME`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    Served,
    OneFile,
}

impl Links {
    pub fn probe(self, name: &str) -> String {
        match self {
            Links::Served => format!("/probe/{}", url_segment(name)),
            Links::OneFile => format!("#probe-{}", url_segment(name)),
        }
    }

    fn to(self, nav: Nav) -> &'static str {
        match (self, nav) {
            (Links::Served, Nav::Overview | Nav::Probe) => "/",
            (Links::Served, Nav::Slo) => "/slo",
            (Links::Served, Nav::Release) => "/release",
            (Links::OneFile, Nav::Overview | Nav::Probe) => "#overview",
            (Links::OneFile, Nav::Slo) => "#slo",
            (Links::OneFile, Nav::Release) => "#release",
        }
    }
}

/// The page's style: system fonts only, colours with text beside them (never colour alone).
pub const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1f24;background:#fff}\
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem}\
table{border-collapse:collapse;margin:.5rem 0}th,td{padding:.25rem .6rem;border-bottom:1px solid #d8dee4;text-align:left;vertical-align:top}\
.probes td:nth-child(n+4):nth-child(-n+8){white-space:nowrap}nav a{margin-right:1rem}nav a[aria-current]{font-weight:bold}\
.cards{display:flex;gap:1rem;flex-wrap:wrap}.card{border:1px solid #d8dee4;border-radius:6px;padding:.6rem 1rem;min-width:10rem}\
.card b{display:block;font-size:1.2rem}\
.state{font-weight:bold;padding:0 .4rem;border-radius:4px}\
.s-pass{background:#dafbe1}.s-fail,.s-firing{background:#ffd7d5}.s-inconclusive,.s-silenced{background:#fff1c2}.s-unknown{background:#eaeef2}\
.strip rect{width:3px;height:20px}.up{fill:#2da44e}.degraded{fill:#d4a72c}.down{fill:#cf222e}.none{fill:#d0d7de}\
pre{white-space:pre-wrap;word-break:break-word;background:#f6f8fa;padding:.5rem}\
.finding{color:#82071e}small{color:#57606a}";

/// A whole page: `title` (escaped here), the navigation with `nav` marked, and `body` (already HTML).
/// With `refresh`, the page reloads itself every 30 s (a `meta` refresh: no script). The icon is empty and
/// inline, so no browser asks for `/favicon.ico`.
pub fn shell(title: &str, nav: Nav, links: Links, body: &str, refresh: bool) -> String {
    let refresh = if refresh {
        "<meta http-equiv=\"refresh\" content=\"30\">"
    } else {
        ""
    };
    let link = |target: Nav, text: &str| {
        let current = if target == nav {
            " aria-current=\"page\""
        } else {
            ""
        };
        format!("<a href=\"{}\"{current}>{text}</a>", links.to(target))
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">{refresh}\
<title>{} · oewsprobe</title><link rel=\"icon\" href=\"data:,\"><style>{STYLE}</style></head>\n<body><nav>{}{}{}</nav>\n{body}\n</body></html>\n",
        esc(title),
        link(Nav::Overview, "Overview"),
        link(Nav::Slo, "SLOs"),
        link(Nav::Release, "Release"),
    )
}

/// A state as a labelled badge: the word is always there, the colour only helps.
pub fn state_badge(state: super::model::State) -> String {
    format!("<span class=\"state s-{0}\">{0}</span>", state.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_markup_character_is_escaped() {
        assert_eq!(
            esc("<script>alert(1)</script> & \"x\" 'y'"),
            "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot; &#39;y&#39;"
        );
        assert_eq!(esc("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn url_segments_keep_only_unreserved_characters() {
        assert_eq!(url_segment("health-check_1.x~"), "health-check_1.x~");
        assert_eq!(url_segment("<b>x</b>/.."), "%3Cb%3Ex%3C%2Fb%3E%2F..");
        assert_eq!(url_segment("é"), "%C3%A9");
    }

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(ms_text(None), "-");
        assert_eq!(ms_text(Some(0.5)), "0.50 ms");
        assert_eq!(ms_text(Some(849.6)), "850 ms");
        assert_eq!(ms_text(Some(1250.0)), "1.25 s");
        assert_eq!(percent_text(Some(99.951)), "99.95 %");
        assert_eq!(rate_text(Some(14.4)), "14.40×");
        assert_eq!(at_text(1_796_083_200_000), "2026-12-01T00:00:00Z");
        assert_eq!(ago_text(1_000_000, 815_000), "3m 5s ago");
    }

    #[test]
    fn the_shell_escapes_its_title_and_marks_the_current_page() {
        let page = shell("<i>x</i>", Nav::Slo, Links::Served, "<p>body</p>", true);
        assert!(page.contains("<title>&lt;i&gt;x&lt;/i&gt; · oewsprobe</title>"));
        assert!(page.contains("<a href=\"/slo\" aria-current=\"page\">SLOs</a>"));
        assert!(page.contains("<meta http-equiv=\"refresh\" content=\"30\">"));
        assert!(!page.contains("<script"));
        assert!(!page.contains("http://") && !page.contains("https://"));
        let file = shell("x", Nav::Overview, Links::OneFile, "", false);
        assert!(file.contains("<a href=\"#slo\">SLOs</a>"));
        assert!(!file.contains("refresh"));
    }
}
