//! OGC WMS 1.1.1 (01-068r3) and 1.3.0 (06-042): `/wms`, KVP over `GET`
//! and over `POST` as an `application/x-www-form-urlencoded` body (06-042
//! §6.3.3 allows POST with the same parameters; MapServer and GeoServer
//! accept it, and clients use it for long `LAYERS` or `SLD_BODY`).
//!
//! This module parses the service-level parameters, negotiates the
//! version and dispatches on `REQUEST`; each operation lives in its own
//! file (`capabilities.rs`), errors are `ServiceExceptionReport`s
//! (`exception.rs`).

mod capabilities;
mod exception;
mod featureinfo;
mod getmap;
mod legend;
mod map_params;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Body;
use hyper::header::{HeaderMap, CONTENT_TYPE};

use super::ows::Params;
use crate::reply::Reply;
use crate::AppState;

use exception::{exception, rejected, Code, Version};

/// Largest POST body read: a form of parameters is a few hundred bytes, a
/// long `LAYERS` a few KiB; 64 KiB leaves room for an inline `SLD_BODY`
/// while bounding what one request holds in memory.
pub(crate) const MAX_FORM_BYTES: usize = 64 * 1024;

/// `GET /wms?...`, or a POST's form (`query` is then the body).
pub(crate) async fn kvp(state: &AppState, query: &str, base: &str) -> Reply {
    let params = Params::parse(query);
    // WMTVER is WMS 1.0's name for VERSION (01-068r3 §6.5.1).
    let requested = params.value("VERSION").or_else(|| params.value("WMTVER"));
    // Errors before the operation is known answer in the version asked
    // for when it is one of ours, else in the highest.
    let version = requested.and_then(Version::exact).unwrap_or(Version::V130);
    // SERVICE is mandatory in 1.3.0 (06-042 §6.9.2), but WMS 1.0 clients
    // and many scripts leave it out; MapServer accepts that, and so do we.
    if let Some(service) = params.value("SERVICE") {
        if !service.eq_ignore_ascii_case("WMS") {
            return exception(
                version,
                Code::InvalidParameterValue,
                Some("SERVICE"),
                &format!("service {service:?} is not WMS"),
            );
        }
    }
    let Some(request) = params.value("REQUEST") else {
        return exception(
            version,
            Code::MissingParameterValue,
            Some("REQUEST"),
            "parameter REQUEST is missing; try REQUEST=GetCapabilities",
        );
    };
    // Operation names are matched case-insensitively, as MapServer and
    // GeoServer do, though 06-042 §6.8.1 makes values case-sensitive.
    match request.to_ascii_lowercase().as_str() {
        // `capabilities` is WMS 1.0's name (MapServer still accepts it).
        "getcapabilities" | "capabilities" => match Version::negotiate(requested) {
            Some(negotiated) => capabilities::reply(state, negotiated, base),
            None => exception(
                version,
                Code::InvalidParameterValue,
                Some("VERSION"),
                &format!(
                    "version {:?} is not of the form x.y.z",
                    requested.unwrap_or_default()
                ),
            ),
        },
        // The operations below need VERSION exactly (06-042 §7.3.3.1:
        // Version::exact, not negotiate); they are written separately.
        // `map` and `feature_info` are WMS 1.0's names.
        "getmap" | "map" => match exact_version(requested) {
            Ok(version) => getmap::reply(state, &params, version).await,
            Err(reply) => *reply,
        },
        "getfeatureinfo" | "feature_info" => match exact_version(requested) {
            Ok(version) => featureinfo::reply(state, &params, version).await,
            Err(reply) => *reply,
        },
        // SLD 1.1 (OGC 05-078r4 §10.2), declared as an extended operation.
        "getlegendgraphic" => match exact_version(requested) {
            Ok(version) => legend::reply(state, &params, version).await,
            Err(reply) => *reply,
        },
        _ => not_supported(version, request),
    }
}

/// The version of an operation other than GetCapabilities: one of ours
/// exactly (06-042 §6.2.4 negotiates capabilities only); a client that
/// sends none gets 1.3.0, as MapServer answers it.
fn exact_version(requested: Option<&str>) -> Result<Version, Box<Reply>> {
    match requested {
        None => Ok(Version::V130),
        Some(v) => Version::exact(v).ok_or_else(|| {
            rejected(
                Version::V130,
                Code::InvalidParameterValue,
                Some("VERSION"),
                &format!("version {v:?} is not served; use 1.3.0 or 1.1.1"),
            )
        }),
    }
}

/// `OperationNotSupported` for `request`.
fn not_supported(version: Version, request: &str) -> Reply {
    exception(
        version,
        Code::OperationNotSupported,
        Some("REQUEST"),
        &format!("request {request:?} is not supported; try REQUEST=GetCapabilities"),
    )
}

/// The parameters of a `POST /wms`: an `application/x-www-form-urlencoded`
/// body of at most [`MAX_FORM_BYTES`], or the exception to answer.
pub(crate) async fn form<B>(headers: &HeaderMap, body: B) -> Result<String, Reply>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let invalid = |text: &str| exception(Version::V130, Code::InvalidParameterValue, None, text);
    let media_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim);
    if !media_type.is_some_and(|t| t.eq_ignore_ascii_case("application/x-www-form-urlencoded")) {
        return Err(invalid(
            "a POST to /wms must be an application/x-www-form-urlencoded form of KVP parameters",
        ));
    }
    match http_body_util::Limited::new(body, MAX_FORM_BYTES)
        .collect()
        .await
    {
        // Invalid UTF-8 becomes U+FFFD and then an unknown value: the
        // same as a bad percent escape in a query string.
        Ok(collected) => Ok(String::from_utf8_lossy(&collected.to_bytes()).into_owned()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(invalid(&format!(
            "the form is larger than {} KiB",
            MAX_FORM_BYTES / 1024
        ))),
        Err(e) => {
            tracing::debug!(error = %e, "reading a WMS form failed");
            Err(invalid("the form could not be read"))
        }
    }
}
