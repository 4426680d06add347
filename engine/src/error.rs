//! Engine errors: each says what failed and where (file, layer, offset), and
//! has a [`ErrorKind`] the server maps to a status code in one place.

use std::path::PathBuf;

/// Result with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What kind of failure an [`Error`] is; the server's edge maps kinds to
/// HTTP status codes and OGC exception codes through one table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    NotFound,
    InvalidRequest,
    Unsupported,
    Corrupt,
    LimitExceeded,
    /// A render ran past its deadline and was abandoned.
    Timeout,
    Io,
    Internal,
}

/// An engine error. Messages name the file, layer or tile they are about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: corrupt {format}: {detail}")]
    Corrupt {
        path: PathBuf,
        format: &'static str,
        detail: String,
    },
    #[error("{path}: unsupported: {detail}")]
    Unsupported { path: PathBuf, detail: String },
    #[error("{path}: {what} is larger than the limit of {limit} bytes")]
    LimitExceeded {
        path: PathBuf,
        what: &'static str,
        limit: usize,
    },
    /// A feature query matched more features than the caller allows (a
    /// bound on the work and memory of one request).
    #[error("{path}: table {table:?} has more than {limit} features in the requested area")]
    TooManyFeatures {
        path: PathBuf,
        table: String,
        limit: usize,
    },
    /// A render ran past its [`crate::deadline::Deadline`].
    #[error("{what} abandoned after {limit:?} (the render deadline)")]
    DeadlineExceeded {
        what: &'static str,
        limit: std::time::Duration,
    },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("invalid request: {detail}")]
    InvalidRequest { detail: String },
    #[error("{path}: SQLite: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
}

impl Error {
    /// The kind of this error, for mapping to protocol status codes.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::Corrupt { .. } => ErrorKind::Corrupt,
            Error::Unsupported { .. } => ErrorKind::Unsupported,
            Error::LimitExceeded { .. } | Error::TooManyFeatures { .. } => ErrorKind::LimitExceeded,
            Error::DeadlineExceeded { .. } => ErrorKind::Timeout,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::InvalidRequest { .. } => ErrorKind::InvalidRequest,
            // A query that fails on an archive that opened fine means the
            // file changed or is damaged past its header.
            Error::Sqlite { .. } => ErrorKind::Corrupt,
        }
    }

    pub(crate) fn invalid(detail: impl Into<String>) -> Self {
        Error::InvalidRequest {
            detail: detail.into(),
        }
    }
}
