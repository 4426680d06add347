//! Content negotiation and conditional requests: `Accept-Encoding`
//! (RFC 9110 §12.5.3) and `If-None-Match` (RFC 9110 §13.1.2).

/// Whether an `Accept-Encoding` value accepts `coding` (e.g. `gzip`).
///
/// A request without the header gets identity: RFC 9110 allows any coding
/// then, but clients such as plain `curl` or GDAL without
/// `--compressed` would receive bytes they cannot read, so martin, nginx and
/// every tile server treat absence as identity.
pub fn accepts_encoding(header: Option<&str>, coding: &str) -> bool {
    let Some(header) = header else {
        return false;
    };
    let mut wildcard = None;
    for item in header.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q=").or(p.trim().strip_prefix("Q=")))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if name.eq_ignore_ascii_case(coding) {
            return q > 0.0;
        }
        if name == "*" {
            wildcard = Some(q > 0.0);
        }
    }
    wildcard.unwrap_or(false)
}

/// Whether an `If-None-Match` value matches `etag` (weak comparison, as
/// RFC 9110 §13.1.2 prescribes for this header): the server answers 304.
pub fn none_match_hits(header: Option<&str>, etag: &str) -> bool {
    let Some(header) = header else {
        return false;
    };
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(etag);
    header
        .split(',')
        .any(|tag| tag.trim() == "*" || opaque(tag) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_honours_q_values_and_wildcards() {
        assert!(accepts_encoding(Some("gzip, deflate, br"), "gzip"));
        assert!(accepts_encoding(Some("GZIP"), "gzip"));
        assert!(accepts_encoding(Some("br;q=1.0, gzip;q=0.8"), "gzip"));
        assert!(!accepts_encoding(Some("gzip;q=0"), "gzip"));
        assert!(!accepts_encoding(Some("deflate"), "gzip"));
        assert!(accepts_encoding(Some("*"), "zstd"));
        assert!(!accepts_encoding(Some("*, gzip;q=0"), "gzip"));
        assert!(!accepts_encoding(Some("identity"), "gzip"));
        assert!(!accepts_encoding(None, "gzip"));
    }

    #[test]
    fn if_none_match_compares_weakly_and_accepts_lists() {
        assert!(none_match_hits(Some("\"abc\""), "\"abc\""));
        assert!(none_match_hits(Some("W/\"abc\""), "\"abc\""));
        assert!(none_match_hits(Some("\"x\", \"abc\""), "\"abc\""));
        assert!(none_match_hits(Some("*"), "\"abc\""));
        assert!(!none_match_hits(Some("\"abd\""), "\"abc\""));
        assert!(!none_match_hits(None, "\"abc\""));
    }
}
