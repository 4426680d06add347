//! PMTiles v3 archives, read through a memory map.
//!
//! Written here rather than with the `pmtiles` crate: that crate's readers are
//! async-only and its mmap backend copies every range it returns, while the
//! engine is synchronous and serves tile bytes as zero-copy [`Bytes`] slices
//! of the map. The header and root directory are parsed once at open; leaf
//! directories are parsed on first use into the catalog's byte-bounded LRU.

mod directory;
mod header;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

use crate::compression;
use crate::error::{Error, Result};
use crate::metadata::{valid_bounds, valid_center, TileSetMetadata};
use crate::source::{map_file, SourceContext, TileArchive};
use crate::tile::{Encoding, Tile, TileCoord};

pub use directory::{tile_id, Directory, Entry};
use header::{Header, Section, HEADER_LEN};

/// Largest decoded directory or metadata block, 32 MiB. The spec keeps the
/// root within 16 KiB and writers cap leaves at a few hundred KiB; this bound
/// only stops a hostile archive from claiming gigabytes.
pub const MAX_DIRECTORY_BYTES: usize = 32 << 20;

/// Root → leaf → leaf…: the spec's writers use one leaf level; deeper chains
/// (or cycles) in a hostile file stop here.
const MAX_DIRECTORY_DEPTH: usize = 4;

/// Key of a leaf directory in the shared cache: (archive serial, offset).
pub type DirectoryKey = (u64, u64);

static NEXT_ARCHIVE_SERIAL: AtomicU64 = AtomicU64::new(0);

/// An open PMTiles v3 archive.
pub struct PmTiles {
    path: PathBuf,
    /// The whole file; tile bytes are slices of it.
    data: Bytes,
    header: Header,
    root: Directory,
    metadata: TileSetMetadata,
    /// Hash of what identifies this version of the file (its length,
    /// modification time, header and root directory); tile fingerprints
    /// combine it with the tile's place in the file, so serving a tile
    /// never hashes its bytes.
    version: u64,
    serial: u64,
    ctx: Arc<SourceContext>,
}

impl PmTiles {
    /// Maps and checks the archive at `path`: header, root directory, metadata.
    pub fn open(path: &Path, ctx: Arc<SourceContext>) -> Result<Self> {
        let (data, modified) = map_file(path)?;
        Self::from_bytes(path, data, modified, ctx)
    }

    /// Checks the archive in `data`, whatever holds it (a memory map, or
    /// bytes a fuzzer made); `path` names it in errors, and `modified` (the
    /// file's modification time) goes into the version tiles are fingerprinted by.
    pub fn from_bytes(
        path: &Path,
        data: Bytes,
        modified: Option<std::time::SystemTime>,
        ctx: Arc<SourceContext>,
    ) -> Result<Self> {
        let header = Header::parse(&data[..data.len().min(HEADER_LEN)], data.len() as u64, path)?;
        let mut archive = PmTiles {
            path: path.to_owned(),
            data,
            metadata: TileSetMetadata::new(header.tile_type),
            root: Directory::default(),
            version: 0,
            serial: NEXT_ARCHIVE_SERIAL.fetch_add(1, Ordering::Relaxed),
            header,
            ctx,
        };
        archive.root = archive.read_directory(archive.header.root_directory)?;
        let root = archive.slice(archive.header.root_directory, "root directory")?;
        let mut identity = format!("{}:{modified:?}:", archive.data.len()).into_bytes();
        identity.extend_from_slice(&archive.data[..HEADER_LEN]);
        identity.extend_from_slice(&root);
        archive.version = xxhash_rust::xxh3::xxh3_64(&identity);
        archive.metadata = archive.read_metadata();
        Ok(archive)
    }

    /// The header fields as TileJSON-ready metadata, merged with the JSON
    /// metadata block. The block is advisory: if it is unreadable the
    /// archive still serves its tiles, with a logged warning.
    fn read_metadata(&self) -> TileSetMetadata {
        let h = &self.header;
        let mut meta = TileSetMetadata::new(h.tile_type);
        meta.minzoom = h.min_zoom.min(crate::tile::MAX_ZOOM);
        meta.maxzoom = h.max_zoom.min(crate::tile::MAX_ZOOM);
        meta.bounds = valid_bounds(h.bounds);
        meta.center = valid_center(h.center);
        if h.metadata.length == 0 {
            return meta;
        }
        let json = self
            .decode_internal(h.metadata, "metadata")
            .and_then(|bytes| {
                serde_json::from_slice::<serde_json::Value>(&bytes)
                    .map_err(|e| self.corrupt(format!("metadata JSON: {e}")))
            });
        match json {
            Ok(json) => meta.merge_json(&json),
            Err(e) => tracing::warn!(error = %e, "ignoring unreadable PMTiles metadata"),
        }
        meta
    }

    fn corrupt(&self, detail: String) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            format: "PMTiles archive",
            detail,
        }
    }

    /// The bytes of a section the header or a directory points to.
    fn slice(&self, section: Section, what: &str) -> Result<Bytes> {
        let start = usize::try_from(section.offset).ok();
        let end = start.and_then(|s| s.checked_add(usize::try_from(section.length).ok()?));
        match (start, end) {
            (Some(start), Some(end)) if end <= self.data.len() => Ok(self.data.slice(start..end)),
            _ => Err(self.corrupt(format!(
                "{what} at offset {} length {} runs past the end of the file",
                section.offset, section.length
            ))),
        }
    }

    fn decode_internal(&self, section: Section, what: &'static str) -> Result<Vec<u8>> {
        let encoding = self
            .header
            .internal_compression
            .ok_or_else(|| Error::Unsupported {
                path: self.path.clone(),
                detail: "internal compression \"unknown\" (0)".into(),
            })?;
        let bytes = self.slice(section, what)?;
        compression::decode(encoding, &bytes, MAX_DIRECTORY_BYTES, &self.path, what)
    }

    fn read_directory(&self, section: Section) -> Result<Directory> {
        let bytes = self.decode_internal(section, "directory")?;
        Directory::parse(&bytes)
            .map_err(|e| self.corrupt(format!("directory at offset {}: {e}", section.offset)))
    }

    /// `entry` as a section of the archive, checked to lie inside `within`.
    fn section_of(&self, entry: &Entry, within: Section, what: &str) -> Result<Section> {
        match entry.offset.checked_add(u64::from(entry.length)) {
            Some(end) if end <= within.length => Ok(Section {
                offset: within.offset + entry.offset,
                length: u64::from(entry.length),
            }),
            _ => Err(self.corrupt(format!(
                "{what} at offset {} (length {}) lies outside its section",
                entry.offset, entry.length
            ))),
        }
    }

    /// A leaf directory, from the shared cache or parsed and cached now.
    fn leaf(&self, entry: &Entry) -> Result<Arc<Directory>> {
        let key = (self.serial, entry.offset);
        self.ctx.pmtiles_directories.get_or_insert_with(key, || {
            let section = self.section_of(entry, self.header.leaf_directories, "leaf directory")?;
            self.read_directory(section)
        })
    }

    /// The tile's entry, following leaf directories from the root.
    fn find_entry(&self, tile_id: u64) -> Result<Option<Entry>> {
        let Some(mut entry) = self.root.find(tile_id).copied() else {
            return Ok(None);
        };
        for _ in 0..MAX_DIRECTORY_DEPTH {
            if entry.run_length > 0 {
                return Ok(Some(entry));
            }
            match self.leaf(&entry)?.find(tile_id) {
                Some(next) => entry = *next,
                None => return Ok(None),
            }
        }
        Err(self.corrupt(format!(
            "directories nest deeper than {MAX_DIRECTORY_DEPTH} levels looking for tile id {tile_id}"
        )))
    }
}

impl TileArchive for PmTiles {
    fn get_tile(&self, coord: TileCoord) -> Result<Option<Tile>> {
        let Some(entry) = self.find_entry(tile_id(coord))? else {
            return Ok(None);
        };
        let section = self.section_of(&entry, self.header.tile_data, "tile")?;
        let data = self.slice(section, "tile")?;
        let encoding = self
            .header
            .tile_compression
            .unwrap_or_else(|| Encoding::sniff_gzip(&data));
        let mut place = [0u8; 24];
        place[..8].copy_from_slice(&self.version.to_le_bytes());
        place[8..16].copy_from_slice(&section.offset.to_le_bytes());
        place[16..].copy_from_slice(&section.length.to_le_bytes());
        Ok(Some(Tile {
            data,
            encoding,
            fingerprint: xxhash_rust::xxh3::xxh3_64(&place),
        }))
    }

    fn metadata(&self) -> &TileSetMetadata {
        &self.metadata
    }
}
