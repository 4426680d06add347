//! One layer of a vector tile (MVT 2.1 §4.1): features encoded as they are
//! added, with the layer's keys and values deduplicated (§4.2, §4.4).

use std::collections::HashMap;

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rustc_hash::FxBuildHasher;

use super::pbf::{write_bytes, write_double, write_packed, write_sint, write_uint, write_with_len};
use super::tile_geometry::{TileFrame, TileGeometry};
use super::TileParams;
use crate::feature::{Feature, Field, Value};

/// Field numbers of `Tile.Layer` in `vector_tile.proto` (MVT 2.1).
mod layer_field {
    pub const NAME: u32 = 1;
    pub const FEATURES: u32 = 2;
    pub const KEYS: u32 = 3;
    pub const VALUES: u32 = 4;
    pub const EXTENT: u32 = 5;
    pub const VERSION: u32 = 15;
}

/// Field numbers of `Tile.Feature`.
mod feature_field {
    pub const ID: u32 = 1;
    pub const TAGS: u32 = 2;
    pub const TYPE: u32 = 3;
    pub const GEOMETRY: u32 = 4;
}

/// Field numbers of `Tile.Value`, one per type (§4.1: exactly one is set).
mod value_field {
    pub const STRING: u32 = 1;
    pub const DOUBLE: u32 = 3;
    pub const UINT: u32 = 5;
    pub const SINT: u32 = 6;
    pub const BOOL: u32 = 7;
}

/// `Tile.GeomType` (§4.3.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GeomType {
    Point = 1,
    LineString = 2,
    Polygon = 3,
}

/// A layer value as it is deduplicated and written: by protobuf type and
/// exact bits, so `1`, `1.0` and `true` stay three values, and `0.0` and
/// `-0.0` two. `S` is a [`Span`] of the layer's text as stored, and `&str`
/// to look one up or write it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum LayerValue<S> {
    String(S),
    Double(u64),
    Uint(u64),
    Sint(i64),
    Bool(bool),
}

impl<'a> LayerValue<&'a str> {
    /// The layer value for `value`; `None` for `Null`, which is left out.
    /// Integers use `uint_value` when not negative and `sint_value`
    /// otherwise, the two most compact encodings (§4.2 leaves the choice).
    fn new(value: &'a Value) -> Option<Self> {
        Some(match value {
            Value::Null => return None,
            Value::Bool(b) => LayerValue::Bool(*b),
            Value::Int(i) => match u64::try_from(*i) {
                Ok(u) => LayerValue::Uint(u),
                Err(_) => LayerValue::Sint(*i),
            },
            Value::Float(f) => LayerValue::Double(f.to_bits()),
            Value::String(s) => LayerValue::String(s),
        })
    }

    /// The value to store, its text appended to `strings`.
    fn store(&self, strings: &mut String) -> LayerValue<Span> {
        self.map_string(|s| {
            let start = strings.len();
            strings.push_str(s);
            (start, strings.len())
        })
    }

    /// Writes the `Tile.Value` message into `out`.
    fn encode(&self, out: &mut Vec<u8>) {
        match self {
            LayerValue::String(s) => write_bytes(out, value_field::STRING, s.as_bytes()),
            LayerValue::Double(bits) => {
                write_double(out, value_field::DOUBLE, f64::from_bits(*bits))
            }
            LayerValue::Uint(u) => write_uint(out, value_field::UINT, *u),
            LayerValue::Sint(i) => write_sint(out, value_field::SINT, *i),
            LayerValue::Bool(b) => write_uint(out, value_field::BOOL, u64::from(*b)),
        }
    }
}

/// Where a stored value's text lies in the layer's `strings`: one buffer
/// for all of them rather than an allocation per value.
type Span = (usize, usize);

impl<S> LayerValue<S> {
    /// The same value with its text, if it is one, through `f`.
    fn map_string<'s, T>(&'s self, f: impl FnOnce(&'s S) -> T) -> LayerValue<T> {
        match self {
            LayerValue::String(s) => LayerValue::String(f(s)),
            LayerValue::Double(bits) => LayerValue::Double(*bits),
            LayerValue::Uint(u) => LayerValue::Uint(*u),
            LayerValue::Sint(i) => LayerValue::Sint(*i),
            LayerValue::Bool(b) => LayerValue::Bool(*b),
        }
    }
}

impl LayerValue<Span> {
    /// The stored value with its text from `strings`.
    fn text<'s>(&self, strings: &'s str) -> LayerValue<&'s str> {
        self.map_string(|&(start, end)| &strings[start..end])
    }
}

/// Values a layer makes room for at once: ids, names and measures are
/// unique per feature, so a tile of a few hundred features has a thousand
/// values, and growing the table from nothing rehashed it six times.
const VALUES_RESERVED: usize = 1024;

/// Builds one tile layer: give it features in the source's CRS, then pass
/// it to [`super::encode_tile`].
///
/// Features are encoded as they are added, so memory holds the compact
/// encoding rather than the geometries; keys are written only for fields
/// some feature has a non-null value for.
#[derive(Debug, Clone)]
pub struct LayerEncoder {
    name: String,
    extent: u32,
    frame: Option<TileFrame>,
    fields: Vec<String>,
    /// The key index of each field, once some feature used it.
    field_keys: Vec<Option<u32>>,
    keys: Vec<String>,
    key_indices: HashMap<String, u32>,
    values: Vec<LayerValue<Span>>,
    /// The text of every string value, end to end.
    strings: String,
    /// Indices into `values` with their value's hash, found by the value
    /// itself (a `&str` for a string: nothing is copied for a value seen
    /// before). FxHash: this lookup runs per attribute of every feature,
    /// and SipHash's flood resistance buys nothing on a tile's own values.
    /// The hash is kept so that growing the table (a dense tile has a
    /// hundred thousand values) does not hash every value again, and is
    /// compared first: a lookup then reads a stored value (a random access
    /// into `values` and `strings`) only when it is almost surely a match.
    value_indices: HashTable<(u64, u32)>,
    /// Encoded `features` fields, concatenated.
    features: Vec<u8>,
    feature_count: usize,
    /// Buffers reused from feature to feature.
    geometry: TileGeometry,
    tags: Vec<u32>,
}

impl LayerEncoder {
    /// An empty layer called `name` whose features have values for
    /// `fields`, in the tile described by `params`. With unusable params
    /// (see [`TileParams::is_usable`]) every feature is dropped.
    pub fn new(name: &str, fields: &[Field], params: &TileParams) -> Self {
        LayerEncoder {
            name: name.to_owned(),
            extent: params.extent,
            frame: TileFrame::new(params),
            fields: fields.iter().map(|f| f.name.clone()).collect(),
            field_keys: vec![None; fields.len()],
            keys: Vec::new(),
            key_indices: HashMap::new(),
            values: Vec::new(),
            strings: String::new(),
            value_indices: HashTable::with_capacity(VALUES_RESERVED),
            features: Vec::new(),
            feature_count: 0,
            geometry: TileGeometry::default(),
            tags: Vec::new(),
        }
    }

    /// Transforms, clips, simplifies, quantises and encodes one feature;
    /// returns whether anything was left.
    ///
    /// A geometry collection becomes one feature per geometry type present
    /// (points, then lines, then polygons; MVT has no collections), with
    /// the same tags and the id only on the first, since §4.2 asks ids to
    /// be unique within the layer. Values beyond the layer's fields are
    /// ignored and missing ones count as null.
    pub fn add(&mut self, feature: &Feature) -> bool {
        let Some(frame) = self.frame else {
            return false;
        };
        let mut geometry = std::mem::take(&mut self.geometry);
        geometry.encode(&feature.geometry, &frame);
        let added = !geometry.is_empty();
        if added {
            let tags = self.tags(&feature.values);
            let parts = [
                (GeomType::Point, geometry.points()),
                (GeomType::LineString, geometry.lines()),
                (GeomType::Polygon, geometry.polygons()),
            ];
            let mut id = feature.id;
            for (geom_type, commands) in parts {
                if !commands.is_empty() {
                    self.write_feature(id.take(), &tags, geom_type, commands);
                }
            }
            self.tags = tags;
        }
        self.geometry = geometry;
        added
    }

    /// Whether no feature has been encoded (such a layer is not written).
    pub fn is_empty(&self) -> bool {
        self.feature_count == 0
    }

    /// How many MVT features have been encoded (a collection can give up
    /// to three).
    pub fn len(&self) -> usize {
        self.feature_count
    }

    /// The layer's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The feature's tags (§4.4): key index, value index pairs for its
    /// non-null values, in the reused buffer (taken; give it back with
    /// the feature written).
    fn tags(&mut self, values: &[Value]) -> Vec<u32> {
        let mut tags = std::mem::take(&mut self.tags);
        tags.clear();
        for (field, value) in values.iter().enumerate().take(self.fields.len()) {
            let Some(value) = LayerValue::new(value) else {
                continue;
            };
            let index = self.value_index(value);
            tags.extend([self.key_index(field), index]);
        }
        tags
    }

    /// The index of `value` in the layer's values, adding it on first use.
    fn value_index(&mut self, value: LayerValue<&str>) -> u32 {
        let hash = FxBuildHasher.hash_one(&value);
        let (values, strings) = (&mut self.values, &mut self.strings);
        let found = self.value_indices.find(hash, |&(h, i)| {
            h == hash && values[i as usize].text(strings) == value
        });
        if let Some(&(_, index)) = found {
            return index;
        }
        let index = values.len() as u32;
        values.push(value.store(strings));
        self.value_indices
            .insert_unique(hash, (hash, index), |&(hash, _)| hash);
        index
    }

    /// The key index of `fields[field]`, adding the key on first use.
    /// Fields with the same name share a key.
    fn key_index(&mut self, field: usize) -> u32 {
        if let Some(index) = self.field_keys[field] {
            return index;
        }
        let name = &self.fields[field];
        let index = match self.key_indices.get(name) {
            Some(&index) => index,
            None => {
                let index = self.keys.len() as u32;
                self.keys.push(name.clone());
                self.key_indices.insert(name.clone(), index);
                index
            }
        };
        self.field_keys[field] = Some(index);
        index
    }

    fn write_feature(&mut self, id: Option<u64>, tags: &[u32], kind: GeomType, geometry: &[u32]) {
        // Tags and commands take a byte or two each.
        let len_hint = 16 + tags.len() + 2 * geometry.len();
        write_with_len(&mut self.features, layer_field::FEATURES, len_hint, |out| {
            if let Some(id) = id {
                write_uint(out, feature_field::ID, id);
            }
            write_packed(out, feature_field::TAGS, tags);
            write_uint(out, feature_field::TYPE, kind as u64);
            write_packed(out, feature_field::GEOMETRY, geometry);
        });
        self.feature_count += 1;
    }

    /// Appends the layer as field `field` (`Tile.layers`) of `out`.
    pub(super) fn encode(&self, out: &mut Vec<u8>, field: u32) {
        // The values first: they are short, and then the length of the
        // whole layer is known and its features are copied once.
        let mut values = Vec::new();
        for value in &self.values {
            write_with_len(&mut values, layer_field::VALUES, 1, |out| {
                value.text(&self.strings).encode(out)
            });
        }
        let len_hint = 32 + self.name.len() + self.features.len() + values.len();
        write_with_len(out, field, len_hint, |out| {
            write_uint(out, layer_field::VERSION, 2);
            write_bytes(out, layer_field::NAME, self.name.as_bytes());
            out.extend_from_slice(&self.features);
            for key in &self.keys {
                write_bytes(out, layer_field::KEYS, key.as_bytes());
            }
            out.extend_from_slice(&values);
            write_uint(out, layer_field::EXTENT, u64::from(self.extent));
        });
    }
}
