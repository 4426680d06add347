//! GetMap (06-042 §7.3): the layers drawn bottom first over the box, in
//! the asked CRS, size and format, by the engine's one map entry point on
//! the CPU pool. Failures after the map is known follow EXCEPTIONS: a
//! report (XML), or an image of the map's size (BLANK, INIMAGE).

use std::sync::atomic::Ordering;

use hyper::header::{HeaderValue, CACHE_CONTROL, RETRY_AFTER};
use hyper::StatusCode;
use tuilerie_engine::map::{self, Frame};
use tuilerie_engine::{Error, ErrorKind};

use super::exception::{exception, failure, Code, Version};
use super::map_params::{self, Exceptions, MapParams, Operation};
use crate::cpu_pool::Overloaded;
use crate::protocols::ows::Params;
use crate::reply::{log_failure, said, Reply};
use crate::AppState;

/// The reply to a GetMap.
pub(crate) async fn reply(state: &AppState, params: &Params, version: Version) -> Reply {
    let map = match map_params::parse(state, params, version, Operation::GetMap) {
        Ok(map) => map,
        Err(report) => {
            // In the image when asked and the image's parameters are good
            // (a LayerNotDefined drawn into the map, as MapServer does).
            let exceptions = map_params::exceptions(params);
            let frame = map_params::frame(state, params, version, Operation::GetMap);
            return match (exceptions, frame) {
                (Exceptions::Xml, _) | (_, Err(_)) => *report,
                (exceptions, Ok((frame, image))) => {
                    in_image(state, exceptions, frame, image.mime_type(), *report).await
                }
            };
        }
    };
    let layers = map.layers.clone();
    let request = map.request.clone();
    let job = move || {
        let refs: Vec<&tuilerie_engine::Layer> = layers.iter().map(|l| &**l).collect();
        map::render(&refs, &request)
    };
    match run(state, &map.names, job).await {
        Ok(rendered) => Reply::new(StatusCode::OK, map.image.mime_type(), rendered.bytes)
            .header(CACHE_CONTROL, state.settings.cache_control.clone()),
        Err(failed) => failed.answer(state, &map, version).await,
    }
}

/// Why a render gave no map.
pub(crate) enum Failed {
    Engine(Error),
    Panicked,
    Overloaded,
}

impl Failed {
    /// The reply for this failure, as the map's EXCEPTIONS asks.
    pub(crate) async fn answer(self, state: &AppState, map: &MapParams, version: Version) -> Reply {
        let report = self.report(version);
        let mime = map.image.mime_type();
        in_image(state, map.exceptions, map.request.frame, mime, report).await
    }

    /// The service exception report for this failure: the table's WMS code
    /// for the engine error's kind, 200 for what the request did wrong, the
    /// 5xx status for the server's failures.
    pub(crate) fn report(self, version: Version) -> Reply {
        match self {
            Failed::Engine(error) => {
                let kind = error.kind();
                let said = said(kind);
                let code = match said.wms {
                    Some("InvalidParameterValue") => Code::InvalidParameterValue,
                    Some("OperationNotSupported") => Code::OperationNotSupported,
                    _ => Code::None,
                };
                if said.status.is_client_error() || kind == ErrorKind::Unsupported {
                    exception(version, code, None, &error.to_string())
                } else {
                    let text = if kind == ErrorKind::Timeout {
                        "the map took longer to draw than the server allows".to_owned()
                    } else {
                        "the map could not be drawn; see the server log".to_owned()
                    };
                    failure(version, said.status, &text)
                }
            }
            Failed::Panicked => failure(
                version,
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error; see the server log",
            ),
            Failed::Overloaded => failure(
                version,
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is busy; retry in a second",
            )
            .header(RETRY_AFTER, HeaderValue::from_static("1")),
        }
    }
}

/// `report` as EXCEPTIONS asks: as it is (XML), or as an image of the
/// map's frame, empty (BLANK) or with its message written (INIMAGE).
async fn in_image(
    state: &AppState,
    exceptions: Exceptions,
    frame: Frame,
    mime: &'static str,
    report: Reply,
) -> Reply {
    if exceptions == Exceptions::Xml {
        return report;
    }
    let text = report.message.clone().unwrap_or_default();
    let job = move || match exceptions {
        Exceptions::InImage => map::message_map(&frame, &text),
        _ => map::blank_map(&frame),
    };
    match state.cpu.run(None, job).await {
        Ok(Some(Ok(bytes))) => Reply::new(StatusCode::OK, mime, bytes),
        _ => report,
    }
}

/// Runs an engine job for the layers `names` on the CPU pool, logging
/// server-side failures (once each) and counting abandoned renders.
pub(crate) async fn run<T: Send + 'static>(
    state: &AppState,
    names: &[String],
    job: impl FnOnce() -> tuilerie_engine::Result<T> + Send + 'static,
) -> Result<T, Failed> {
    let layers = names.join(",");
    match state.cpu.run(None, job).await {
        Ok(Some(Ok(value))) => Ok(value),
        Ok(Some(Err(error))) => {
            if error.kind() == ErrorKind::Timeout {
                let count = state.abandoned_renders.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(layers, abandoned = count, "{error}");
            } else if said(error.kind()).status.is_server_error() {
                log_failure(&error, &layers);
            }
            Err(Failed::Engine(error))
        }
        Ok(None) => {
            tracing::error!(layers, "WMS job panicked");
            Err(Failed::Panicked)
        }
        Err(Overloaded) => Err(Failed::Overloaded),
    }
}
