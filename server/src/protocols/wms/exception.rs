//! WMS service exception reports: not OWS Common reports (WMS predates
//! them) but `ServiceExceptionReport`, in the form of each version —
//! 1.3.0: namespace `http://www.opengis.net/ogc`, `exceptions_1_3_0.xsd`,
//! `text/xml` (OGC 06-042 §6.11 and Annex H.2); 1.1.1: the
//! `exception_1_1_1.dtd` form, `application/vnd.ogc.se_xml` (OGC 01-068r3
//! §6.9 and Annex A.3).
//!
//! HTTP status: neither version defines one for a service exception, and
//! MapServer, GeoServer and MapProxy answer them with `200 OK`; clients
//! (QGIS, OWSLib, GDAL's WMS driver) read the body of a `200` XML reply as
//! the exception, while some of them report a `4xx` as a bare HTTP error
//! and lose the text. So an exception caused by the request is `200`;
//! only the server's own failures (a source that cannot be read, an
//! overload) keep their `5xx`, so that caches, proxies and monitoring
//! see them. The alternative that lost, 400 as WMTS answers (OWS Common
//! 1.1 §8.6), is what WMS clients do not expect.

use hyper::StatusCode;

use crate::protocols::ows::escape;
use crate::reply::Reply;

/// A WMS version this server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Version {
    /// WMS 1.1.1 (OGC 01-068r3).
    V111,
    /// WMS 1.3.0 (OGC 06-042, ISO 19128).
    V130,
}

impl Version {
    /// Every version, lowest first.
    pub(crate) const ALL: [Version; 2] = [Version::V111, Version::V130];

    /// `"1.1.1"` or `"1.3.0"`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Version::V111 => "1.1.1",
            Version::V130 => "1.3.0",
        }
    }

    /// The version a `VERSION` value names exactly, if this server speaks it.
    pub(crate) fn exact(requested: &str) -> Option<Version> {
        Version::ALL
            .into_iter()
            .find(|v| v.as_str() == requested.trim())
    }

    /// The version to answer a GetCapabilities in (OGC 06-042 §6.2.4): the
    /// highest without a request; a supported one as asked; above the
    /// highest, the highest; between two, the highest below the request;
    /// below the lowest, the lowest. `None` when `requested` is not of the
    /// form `x.y.z` (digits).
    pub(crate) fn negotiate(requested: Option<&str>) -> Option<Version> {
        let Some(requested) = requested.map(str::trim).filter(|v| !v.is_empty()) else {
            return Some(Version::V130);
        };
        let wanted = triple(requested)?;
        let below = Version::ALL
            .into_iter()
            .rev()
            .find(|v| triple(v.as_str()).is_some_and(|t| t <= wanted));
        Some(below.unwrap_or(Version::V111))
    }
}

/// `x.y.z` as numbers, compared in order (so 1.10.0 is above 1.3.0).
fn triple(version: &str) -> Option<[u32; 3]> {
    let mut parts = version.split('.').map(|p| {
        (!p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    });
    let t = [parts.next()??, parts.next()??, parts.next()??];
    parts.next().is_none().then_some(t)
}

/// The exception codes of OGC 06-042 Table E.1 (1.1.1: 01-068r3 Annex
/// A.3) this server can raise (no layer has dimensions and capabilities
/// have no update sequence, so their four codes never arise), plus OWS Common's parameter codes MapServer and GeoServer also
/// use for a missing or malformed parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Code {
    InvalidFormat,
    /// `InvalidCRS` in 1.3.0, `InvalidSRS` in 1.1.1.
    InvalidCrs,
    LayerNotDefined,
    StyleNotDefined,
    LayerNotQueryable,
    InvalidPoint,
    OperationNotSupported,
    MissingParameterValue,
    InvalidParameterValue,
    /// No code attribute: an error no code describes (a server failure).
    None,
}

impl Code {
    /// The `code` attribute's value in `version`, `None` for no attribute.
    pub(crate) fn name(self, version: Version) -> Option<&'static str> {
        Some(match self {
            Code::InvalidFormat => "InvalidFormat",
            Code::InvalidCrs if version == Version::V111 => "InvalidSRS",
            Code::InvalidCrs => "InvalidCRS",
            Code::LayerNotDefined => "LayerNotDefined",
            Code::StyleNotDefined => "StyleNotDefined",
            Code::LayerNotQueryable => "LayerNotQueryable",
            Code::InvalidPoint => "InvalidPoint",
            Code::OperationNotSupported => "OperationNotSupported",
            Code::MissingParameterValue => "MissingParameterValue",
            Code::InvalidParameterValue => "InvalidParameterValue",
            Code::None => return None,
        })
    }
}

/// A service exception caused by the request: `200 OK` (see the module
/// docs), in `version`'s form. `locator` names the parameter at fault; the
/// 1.1.1 DTD has no attribute for it, so there it is left out.
pub(crate) fn exception(version: Version, code: Code, locator: Option<&str>, text: &str) -> Reply {
    report(StatusCode::OK, version, code, locator, text)
}

/// [`exception`] boxed, as parsers return it (a reply is large; errors
/// stay small on the happy path).
pub(crate) fn rejected(
    version: Version,
    code: Code,
    locator: Option<&str>,
    text: &str,
) -> Box<Reply> {
    Box::new(exception(version, code, locator, text))
}

/// A service exception for a failure of the server (`status` is 5xx), with
/// no code; `text` is what the client may read (details go to the log).
pub(crate) fn failure(version: Version, status: StatusCode, text: &str) -> Reply {
    report(status, version, Code::None, None, text)
}

/// The report document and its media type.
fn report(
    status: StatusCode,
    version: Version,
    code: Code,
    locator: Option<&str>,
    text: &str,
) -> Reply {
    let code = code
        .name(version)
        .map_or(String::new(), |c| format!(" code=\"{c}\""));
    let message = text.to_owned();
    let text = escape(text);
    let (content_type, body) = match version {
        Version::V130 => {
            let locator =
                locator.map_or(String::new(), |l| format!(" locator=\"{}\"", escape(l)));
            (
                "text/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                     <ServiceExceptionReport version=\"1.3.0\" xmlns=\"http://www.opengis.net/ogc\" \
                     xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
                     xsi:schemaLocation=\"http://www.opengis.net/ogc http://schemas.opengis.net/wms/1.3.0/exceptions_1_3_0.xsd\">\n\
                     <ServiceException{code}{locator}>{text}</ServiceException>\n\
                     </ServiceExceptionReport>\n"
                ),
            )
        }
        Version::V111 => (
            "application/vnd.ogc.se_xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
                 <!DOCTYPE ServiceExceptionReport SYSTEM \"http://schemas.opengis.net/wms/1.1.1/exception_1_1_1.dtd\">\n\
                 <ServiceExceptionReport version=\"1.1.1\">\n\
                 <ServiceException{code}>{text}</ServiceException>\n\
                 </ServiceExceptionReport>\n"
            ),
        ),
    };
    let mut reply = Reply::new(status, content_type, body.into());
    reply.message = Some(message);
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_follows_06_042_clause_6_2_4() {
        let n = |v| Version::negotiate(v);
        assert_eq!(n(None), Some(Version::V130));
        assert_eq!(n(Some("")), Some(Version::V130));
        assert_eq!(n(Some("1.3.0")), Some(Version::V130));
        assert_eq!(n(Some("1.1.1")), Some(Version::V111));
        assert_eq!(n(Some("2.0.0")), Some(Version::V130));
        assert_eq!(n(Some("1.10.0")), Some(Version::V130));
        assert_eq!(n(Some("1.2.0")), Some(Version::V111));
        assert_eq!(n(Some("1.1.0")), Some(Version::V111));
        assert_eq!(n(Some("1.0.0")), Some(Version::V111));
        for bad in [
            "1.3",
            "a.b.c",
            "1.3.0.0",
            "1..0",
            "-1.0.0",
            "99999999999.0.0",
        ] {
            assert_eq!(n(Some(bad)), None, "{bad}");
        }
    }

    #[test]
    fn reports_take_each_versions_form() {
        let body = |r: &Reply| String::from_utf8_lossy(&r.body).into_owned();
        let r130 = exception(Version::V130, Code::InvalidCrs, Some("CRS"), "no <crs>");
        assert_eq!(r130.status, StatusCode::OK);
        assert_eq!(r130.headers["content-type"], "text/xml");
        assert!(body(&r130)
            .contains("<ServiceException code=\"InvalidCRS\" locator=\"CRS\">no &lt;crs&gt;"));
        let r111 = exception(Version::V111, Code::InvalidCrs, Some("SRS"), "x");
        assert_eq!(r111.headers["content-type"], "application/vnd.ogc.se_xml");
        assert!(body(&r111).contains("<ServiceException code=\"InvalidSRS\">x<"));
        assert!(body(&r111).contains("exception_1_1_1.dtd"));
        let failed = failure(Version::V130, StatusCode::SERVICE_UNAVAILABLE, "busy");
        assert_eq!(failed.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body(&failed).contains("<ServiceException>busy<"));
    }
}
