//! What the OGC web services (WMTS now, WMS next) share: KVP parameters
//! with case-insensitive names (OWS Common 1.1 §11.5.2), percent-decoding,
//! XML escaping, and OWS exception reports with the codes and statuses of
//! OWS Common 1.1 §8 and WMTS 1.0.0 Table 28, including the one table that
//! turns any other reply's error (the tile protocol's) into one.

use hyper::StatusCode;

use crate::reply::{said, Reply};

pub(crate) const XML: &str = "application/xml";

/// An OWS exception report with the status WMTS 1.0.0 Table 28 gives it.
pub(crate) fn exception(
    status: StatusCode,
    code: &str,
    locator: Option<&str>,
    text: &str,
) -> Reply {
    let locator = locator.map_or(String::new(), |l| format!(" locator=\"{}\"", escape(l)));
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <ExceptionReport xmlns=\"http://www.opengis.net/ows/1.1\" version=\"1.1.0\" xml:lang=\"en\">\n\
         <Exception exceptionCode=\"{code}\"{locator}><ExceptionText>{}</ExceptionText></Exception>\n\
         </ExceptionReport>\n",
        escape(text)
    );
    Reply::new(status, XML, body.into())
}

pub(crate) fn missing(name: &str) -> Reply {
    exception(
        StatusCode::BAD_REQUEST,
        "MissingParameterValue",
        Some(name),
        &format!("parameter {name} is missing"),
    )
}

pub(crate) fn invalid(name: &str, text: String) -> Reply {
    exception(
        StatusCode::BAD_REQUEST,
        "InvalidParameterValue",
        Some(name),
        &text,
    )
}

/// XML text and attribute escaping.
pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A percent-decoded query component (`+` is a space, as forms send it).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// KVP parameters; names are case-insensitive (OWS Common 1.1 §11.5.2).
pub(crate) struct Params(Vec<(String, String)>);

impl Params {
    pub(crate) fn parse(query: &str) -> Self {
        Params(
            query
                .split('&')
                .filter(|kv| !kv.is_empty())
                .map(|kv| {
                    let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                    (decode(k).to_ascii_uppercase(), decode(v))
                })
                .collect(),
        )
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A parameter that is present and not empty.
    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }
}

/// A tile reply as WMTS answers it: an error as the OWS exception the
/// table (`reply::said`) gives its kind (WMTS 1.0.0 Table 28: a tile the
/// layer does not have is `TileOutOfRange`), its message and status kept;
/// anything else as it is.
pub(crate) fn from_tile_reply(reply: Reply) -> Reply {
    if !(reply.status.is_client_error() || reply.status.is_server_error()) {
        return reply;
    }
    let code = reply.kind.map_or("NoApplicableCode", |kind| said(kind).ows);
    let text = reply
        .message
        .as_deref()
        .unwrap_or("the tile could not be served");
    let mut report = exception(reply.status, code, None, text);
    // A busy server's Retry-After stays with its 503.
    if let Some(retry) = reply.headers.get(hyper::header::RETRY_AFTER) {
        report
            .headers
            .insert(hyper::header::RETRY_AFTER, retry.clone());
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_are_case_insensitive_and_values_percent_decoded() {
        let params = Params::parse("service=WMTS&Request=GetTile&LAYER=a%20b+c&empty=&x");
        assert_eq!(params.get("SERVICE"), Some("WMTS"));
        assert_eq!(params.get("REQUEST"), Some("GetTile"));
        assert_eq!(params.get("LAYER"), Some("a b c"));
        assert_eq!(params.get("EMPTY"), Some(""));
        assert_eq!(params.value("EMPTY"), None);
        assert_eq!(params.get("X"), Some(""));
        assert_eq!(params.get("MISSING"), None);
    }

    #[test]
    fn a_tile_error_becomes_the_exception_its_status_stands_for() {
        let text = |r: &Reply| String::from_utf8_lossy(&r.body).into_owned();
        let missing = from_tile_reply(Reply::failed(
            tuilerie_engine::ErrorKind::NotFound,
            "no <tile> here",
        ));
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
        assert!(text(&missing).contains("exceptionCode=\"TileOutOfRange\""));
        assert!(text(&missing).contains("no &lt;tile&gt; here"));
        let busy = from_tile_reply(Reply::overloaded());
        assert!(text(&busy).contains("NoApplicableCode"));
        assert_eq!(busy.headers.get(hyper::header::RETRY_AFTER).unwrap(), "1");
        let tile = Reply::new(StatusCode::OK, "image/png", vec![1, 2, 3].into());
        assert_eq!(from_tile_reply(tile).body.as_ref(), &[1, 2, 3]);
    }
}
