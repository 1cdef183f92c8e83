//! Content coding of the served pages (pure): gzip for a client that accepts it, so a dashboard polling the
//! overview or `/api/v1/status` moves a tenth of the bytes (the strips' tooltips repeat themselves).

use std::io::Write;

/// Bodies shorter than this go as they are: compressing them saves less than it costs.
pub const MIN_GZIP_BYTES: usize = 1024;

/// Whether an `Accept-Encoding` value accepts gzip: `gzip` (or `*`) listed without `q=0`.
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(value) = accept_encoding else {
        return false;
    };
    let mut gzip = None;
    let mut any = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(q > 0.0),
            "*" => any = Some(q > 0.0),
            _ => {}
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// `body` gzipped (fast level: the pages are compressed on every request that is not a 304).
pub fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::fast(),
    );
    // Writing to a Vec cannot fail.
    let _ = encoder.write_all(body);
    encoder.finish().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn gzip_is_accepted_when_listed_without_a_zero_weight() {
        for (value, accepted) in [
            (None, false),
            (Some(""), false),
            (Some("gzip"), true),
            (Some("gzip, deflate, br"), true),
            (Some("br;q=1.0, GZIP;q=0.5"), true),
            (Some("gzip;q=0"), false),
            (Some("gzip; q=0.0, *"), false),
            (Some("*"), true),
            (Some("*;q=0"), false),
            (Some("deflate, br"), false),
            (Some("identity"), false),
        ] {
            assert_eq!(accepts_gzip(value), accepted, "{value:?}");
        }
    }

    #[test]
    fn a_gzipped_body_reads_back_as_itself() {
        let body =
            "<rect class=\"up\" x=\"4\"><title>12-01: 1440 passed</title></rect>".repeat(500);
        let packed = gzip(body.as_bytes());
        assert!(
            packed.len() * 10 < body.len(),
            "{} of {}",
            packed.len(),
            body.len()
        );
        let mut back = String::new();
        flate2::read::GzDecoder::new(&packed[..])
            .read_to_string(&mut back)
            .expect("gunzip");
        assert_eq!(back, body);
    }
}
