//! Replies and the one table that maps engine error kinds to HTTP status.
//! Messages of client errors go to the client; details of server-side
//! failures (file paths, offsets) go to the log only, each distinct one
//! once at error level (a damaged GeoTIFF block fails every tile that
//! needs it, and would otherwise fill the log with the same line).

use std::collections::BTreeSet;
use std::sync::Mutex;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Response, StatusCode};
use tuilerie_engine::{Error, ErrorKind};

/// A reply before it becomes a hyper response.
#[derive(Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The message of an error reply, as the client may read it: another
    /// protocol answering the same question in its own words (a WMTS
    /// GetTile answered by the tile code) rewrites it without parsing the
    /// body.
    pub message: Option<String>,
    /// What kind of failure an error reply is, for another protocol to
    /// say it in its words through [`said`].
    pub kind: Option<ErrorKind>,
}

impl Reply {
    /// A reply with a body and its media type.
    pub fn new(status: StatusCode, content_type: &'static str, body: Bytes) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        Reply {
            status,
            headers,
            body,
            message: None,
            kind: None,
        }
    }

    /// A reply with no body (204, 304).
    pub fn empty(status: StatusCode) -> Self {
        Reply {
            status,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            message: None,
            kind: None,
        }
    }

    /// A JSON document.
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Reply::new(status, "application/json", Bytes::from(value.to_string()))
    }

    /// A JSON error, `{"error": message, "status": code}` (the shape martin
    /// and TiTiler users read: one human-readable message).
    pub fn error(status: StatusCode, message: impl Into<String>) -> Self {
        let message: String = message.into();
        let mut reply = Reply::json(
            status,
            &serde_json::json!({ "error": message, "status": status.as_u16() }),
        );
        reply.message = Some(message);
        reply
    }

    /// A JSON error of `kind`, with the status the table gives it.
    pub fn failed(kind: ErrorKind, message: impl Into<String>) -> Self {
        let mut reply = Reply::error(said(kind).status, message);
        reply.kind = Some(kind);
        reply
    }

    /// The reply for an engine error while serving `layer`.
    pub fn from_engine(error: &Error, layer: &str) -> Self {
        let mut reply = Reply::engine_error(error, layer);
        reply.kind = Some(error.kind());
        reply
    }

    fn engine_error(error: &Error, layer: &str) -> Self {
        let status = said(error.kind()).status;
        if error.kind() == ErrorKind::Timeout {
            // The server's own bound, not a failure of the data: no
            // Retry-After (the same render would time out again), which
            // also tells it from `overloaded` (see `is_overloaded`).
            return Reply::error(
                status,
                format!("rendering layer {layer:?} took longer than the server allows"),
            );
        }
        if status.is_server_error() {
            log_failure(error, layer);
            Reply::error(
                status,
                format!("layer {layer:?} could not be read; see the server log"),
            )
        } else {
            Reply::error(status, error.to_string())
        }
    }

    /// `503` with `Retry-After`: the server is at its bound on CPU jobs.
    pub fn overloaded() -> Self {
        Reply::error(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is busy; retry in a second",
        )
        .header(hyper::header::RETRY_AFTER, HeaderValue::from_static("1"))
    }

    /// Whether this is [`Reply::overloaded`]: one request's bad luck, which
    /// the next request for the same tile should not share.
    pub fn is_overloaded(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE
            && self.headers.contains_key(hyper::header::RETRY_AFTER)
    }

    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// The hyper response; for `HEAD` the body is dropped and its length kept.
    pub fn into_response(self, head: bool) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(Bytes::new()));
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        let no_body = matches!(
            self.status,
            StatusCode::NO_CONTENT | StatusCode::NOT_MODIFIED
        );
        if !no_body {
            response
                .headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(self.body.len()));
            if !head {
                *response.body_mut() = Full::new(self.body);
            }
        }
        response
    }
}

/// Logs a server-side failure while serving `layer`: at error level the
/// first time its message is seen, at debug level after.
pub(crate) fn log_failure(error: &Error, layer: &str) {
    let message = error.to_string();
    if first_time(&message) {
        tracing::error!(layer, error = %message,
            "request failed (each failure is logged once; repeats at debug level)");
    } else {
        tracing::debug!(layer, error = %message, "request failed again");
    }
}

/// Distinct server-side failures remembered as logged. When full, the set
/// is emptied: memory stays bounded, and failures still happening are
/// logged again at error level rather than never.
const LOGGED_FAILURES: usize = 1024;

/// Whether the failure `message` (which names the file and, for a damaged
/// block, its level and block) is not yet in the log.
fn first_time(message: &str) -> bool {
    static LOGGED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    // A panic while holding the lock leaves the set usable.
    let mut logged = LOGGED.lock().unwrap_or_else(|e| e.into_inner());
    if logged.contains(message) {
        return false;
    }
    if logged.len() >= LOGGED_FAILURES {
        logged.clear();
    }
    logged.insert(message.to_owned())
}

/// How one kind of engine error is said in each protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Said {
    /// The HTTP status of the JSON error (XYZ, TileJSON) and of the WMTS
    /// exception report.
    pub status: StatusCode,
    /// The OWS exception code (WMTS 1.0.0 Table 28, OWS Common 1.1 §8.3).
    pub ows: &'static str,
    /// The WMS service exception code (WMS 1.3.0 Annex E, Table E.1), or
    /// `None`: an exception without a code, as the schema allows for
    /// failures the table does not name.
    pub wms: Option<&'static str>,
}

/// The one table from engine error kinds to every protocol's words.
/// Data-side limits (a tile that decodes past its bound) are server
/// errors: the client asked nothing wrong. A missing thing is a tile out
/// of range to WMTS (the only thing a tile request can miss once its layer
/// is found).
pub fn said(kind: ErrorKind) -> Said {
    let (status, ows, wms) = match kind {
        ErrorKind::NotFound => (StatusCode::NOT_FOUND, "TileOutOfRange", None),
        ErrorKind::InvalidRequest => (
            StatusCode::BAD_REQUEST,
            "InvalidParameterValue",
            Some("InvalidParameterValue"),
        ),
        ErrorKind::Unsupported => (
            StatusCode::NOT_IMPLEMENTED,
            "OperationNotSupported",
            Some("OperationNotSupported"),
        ),
        // A render abandoned at its deadline: the server's bound.
        ErrorKind::Timeout => (StatusCode::SERVICE_UNAVAILABLE, "NoApplicableCode", None),
        ErrorKind::Corrupt | ErrorKind::LimitExceeded | ErrorKind::Io | ErrorKind::Internal => {
            (StatusCode::INTERNAL_SERVER_ERROR, "NoApplicableCode", None)
        }
    };
    Said { status, ows, wms }
}
