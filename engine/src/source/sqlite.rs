//! Read-only SQLite files (MBTiles, GeoPackage) through a small pool of
//! connections: a `rusqlite::Connection` is not `Sync`, and one per
//! concurrent reader avoids serialising every request on one lock. Pages are
//! memory-mapped by SQLite itself (`PRAGMA mmap_size`).

use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};

/// Idle connections kept per file: one per core of a small server is enough
/// for lookups that take microseconds; extra concurrent readers open a
/// connection and close it afterwards.
const POOL_SIZE: usize = 4;

/// SQLite's memory map for each connection (256 MiB of address space, not
/// memory): reads become page-cache lookups, as for PMTiles.
const MMAP_SIZE: i64 = 256 << 20;

/// Prepared statements kept per connection: a GeoPackage prepares one tile
/// query per pyramid and one feature query per table and field list.
const STATEMENT_CACHE: usize = 64;

/// A pool of read-only connections to one SQLite file.
pub(crate) struct SqlitePool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

/// A connection taken from a [`SqlitePool`], given back when dropped.
pub(crate) struct Pooled<'a> {
    pool: &'a SqlitePool,
    conn: Option<Connection>,
}

impl Deref for Pooled<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Only `drop` takes the connection out.
        self.conn
            .as_ref()
            .expect("pooled connection present until drop")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < POOL_SIZE {
                idle.push(conn);
            }
        }
    }
}

impl SqlitePool {
    /// A pool for `path`; no connection is opened until [`SqlitePool::get`].
    pub(crate) fn new(path: &Path) -> Self {
        SqlitePool {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The file this pool reads.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// A SQLite failure on this file as an engine error.
    pub(crate) fn error(&self, source: rusqlite::Error) -> Error {
        Error::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// An idle connection, or a new one when all are busy.
    pub(crate) fn get(&self) -> Result<Pooled<'_>> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
        })
    }

    fn connect(&self) -> Result<Connection> {
        if !self.path.is_file() {
            return Err(Error::Io {
                path: self.path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
            });
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags).map_err(|e| self.error(e))?;
        conn.pragma_update(None, "mmap_size", MMAP_SIZE)
            .map_err(|e| self.error(e))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Ok(conn)
    }
}
