//! SVG badges (pure): a probe's state and its uptime over a span, as a two-part label like the badges of
//! CI services. The words carry the meaning; the colour only helps.

use super::html::esc;
use super::model::State;

/// About how wide `text` is in the badge's 11 px sans-serif font.
fn width(text: &str) -> usize {
    text.chars().count() * 7 + 10
}

/// A badge reading `label | value`, the value on `colour`.
pub fn badge(label: &str, value: &str, colour: &str) -> String {
    let (lw, vw) = (width(label), width(value));
    let total = lw + vw;
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{total}\" height=\"20\" role=\"img\" aria-label=\"{l}: {v}\">\
<title>{l}: {v}</title><rect width=\"{lw}\" height=\"20\" fill=\"#555\"/><rect x=\"{lw}\" width=\"{vw}\" height=\"20\" fill=\"{colour}\"/>\
<g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\"><text x=\"5\" y=\"14\">{l}</text>\
<text x=\"{vx}\" y=\"14\">{v}</text></g></svg>",
        l = esc(label),
        v = esc(value),
        vx = lw + 5,
    )
}

/// The colour of a state.
pub fn state_colour(state: State) -> &'static str {
    match state {
        State::Pass => "#2da44e",
        State::Fail | State::Firing => "#cf222e",
        State::Inconclusive | State::Silenced => "#bf8700",
        State::Unknown => "#6e7781",
    }
}

/// `NAME | pass`.
pub fn state_badge(name: &str, state: State) -> String {
    badge(name, state.as_str(), state_colour(state))
}

/// `uptime 24h | 99.95 %` (`-` without conclusive runs): green from 99.9 %, amber from 99 %, red below.
pub fn uptime_badge(span: &str, percent: Option<f64>) -> String {
    let colour = match percent {
        None => "#6e7781",
        Some(p) if p >= 99.9 => "#2da44e",
        Some(p) if p >= 99.0 => "#bf8700",
        Some(_) => "#cf222e",
    };
    badge(
        &format!("uptime {span}"),
        &super::html::percent_text(percent),
        colour,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_badge_is_exactly_this_svg() {
        assert_eq!(
            state_badge("health", State::Pass),
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"90\" height=\"20\" role=\"img\" aria-label=\"health: pass\">\
<title>health: pass</title><rect width=\"52\" height=\"20\" fill=\"#555\"/><rect x=\"52\" width=\"38\" height=\"20\" fill=\"#2da44e\"/>\
<g fill=\"#fff\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\"><text x=\"5\" y=\"14\">health</text>\
<text x=\"57\" y=\"14\">pass</text></g></svg>"
        );
    }

    #[test]
    fn badges_escape_names_and_colour_by_uptime() {
        let b = state_badge("<script>x</script>", State::Fail);
        assert!(b.contains("<title>&lt;script&gt;x&lt;/script&gt;: fail</title>"));
        assert!(!b.contains("<script>"));
        assert!(uptime_badge("24h", Some(99.95)).contains("#2da44e"));
        assert!(uptime_badge("24h", Some(99.5)).contains("#bf8700"));
        assert!(uptime_badge("24h", Some(98.0)).contains(">98.00 %</text>"));
        assert!(uptime_badge("24h", None).contains(">-</text>"));
    }
}
