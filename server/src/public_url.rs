//! The URL clients reach this server at, for links in TileJSON: from the
//! configured `public_url`, else from proxy headers (`Forwarded`, RFC 7239;
//! else `X-Forwarded-Proto`/`-Host`/`-Prefix`), else from `Host`.

use hyper::header::{HeaderMap, FORWARDED, HOST};
use hyper::Uri;

/// The base URL (scheme, host, optional path prefix; no trailing slash).
pub fn base_url(configured: Option<&str>, uri: &Uri, headers: &HeaderMap, local: &str) -> String {
    if let Some(url) = configured {
        return url.to_owned();
    }
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let first = |v: &str| v.split(',').next().unwrap_or("").trim().to_owned();

    let (mut proto, mut host) = (None, None);
    if let Some(fwd) = headers.get(FORWARDED).and_then(|v| v.to_str().ok()) {
        // The first element is the hop nearest the client.
        for pair in first(fwd).split(';') {
            if let Some((key, value)) = pair.split_once('=') {
                let value = value.trim().trim_matches('"').to_owned();
                match key.trim().to_ascii_lowercase().as_str() {
                    "proto" => proto = Some(value),
                    "host" => host = Some(value),
                    _ => {}
                }
            }
        }
    }
    let proto = proto
        .or_else(|| header("x-forwarded-proto").map(first))
        .filter(|p| p == "http" || p == "https")
        .unwrap_or_else(|| "http".to_owned());
    let host = host
        .or_else(|| header("x-forwarded-host").map(first))
        // RFC 9112 §3.2.2: an absolute-form target's authority wins over Host.
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .or_else(|| {
            headers
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        })
        .filter(|h| is_host(h))
        .unwrap_or_else(|| local.to_owned());
    let prefix = header("x-forwarded-prefix")
        .map(first)
        .filter(|p| is_path_prefix(p))
        .map(|p| p.trim_end_matches('/').to_owned())
        .unwrap_or_default();
    format!("{proto}://{host}{prefix}")
}

/// A plausible `host[:port]`: only characters hosts and IPv6 literals use,
/// so a forged header cannot inject anything into the URLs we emit.
fn is_host(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 255
        && h.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']' | b'_')
        })
}

fn is_path_prefix(p: &str) -> bool {
    p.starts_with('/')
        && p.len() <= 255
        && p.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_' | b'~'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(pairs: &[(&str, &str)]) -> String {
        let mut headers = HeaderMap::new();
        for (k, v) in pairs {
            headers.insert(
                hyper::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        base_url(None, &Uri::from_static("/x"), &headers, "127.0.0.1:8080")
    }

    #[test]
    fn host_header_gives_http_url() {
        assert_eq!(
            url(&[("host", "tiles.example:9000")]),
            "http://tiles.example:9000"
        );
        assert_eq!(url(&[]), "http://127.0.0.1:8080");
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_and_host() {
        let u = url(&[
            ("host", "internal:8080"),
            ("x-forwarded-host", "xf.example"),
            (
                "forwarded",
                "for=1.2.3.4;proto=https;host=\"maps.example.org\", for=5.6.7.8",
            ),
        ]);
        assert_eq!(u, "https://maps.example.org");
    }

    #[test]
    fn x_forwarded_headers_and_prefix_are_used() {
        let u = url(&[
            ("host", "internal:8080"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "geo.example.fr, proxy2"),
            ("x-forwarded-prefix", "/tuiles/"),
        ]);
        assert_eq!(u, "https://geo.example.fr/tuiles");
    }

    #[test]
    fn forged_hosts_are_ignored() {
        assert_eq!(
            url(&[("host", "evil.example\"/><script>")]),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            url(&[("host", "ok.example"), ("x-forwarded-proto", "javascript")]),
            "http://ok.example"
        );
    }
}
