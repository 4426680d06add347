//! A least-recently-used cache bounded in bytes rather than in entries, for
//! parsed directories now and decoded blocks later: memory is what runs out,
//! and entries vary in size by orders of magnitude.

use std::hash::Hash;
use std::sync::{Arc, Mutex};

use lru::LruCache;

/// A value that knows how many bytes of memory it holds.
pub trait Weighed {
    fn weight(&self) -> usize;
}

/// A thread-safe LRU cache holding at most `capacity` bytes of values.
/// Values are shared (`Arc`), so a hit costs a lock and a reference count.
pub struct ByteLru<K: Hash + Eq, V> {
    inner: Mutex<Inner<K, V>>,
    capacity: usize,
}

struct Inner<K: Hash + Eq, V> {
    map: LruCache<K, Arc<V>>,
    bytes: usize,
}

impl<K: Hash + Eq, V: Weighed> ByteLru<K, V> {
    /// An empty cache that holds at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: LruCache::unbounded(),
                bytes: 0,
            }),
            capacity,
        }
    }

    /// The cached value for `key`, marking it most recently used.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.lock().map.get(key).cloned()
    }

    /// Inserts a value and evicts the least recently used ones until the
    /// cache fits its capacity. A value larger than the whole capacity is
    /// returned without being kept.
    pub fn insert(&self, key: K, value: V) -> Arc<V> {
        let value = Arc::new(value);
        let weight = value.weight();
        if weight > self.capacity {
            return value;
        }
        let mut inner = self.lock();
        if let Some(old) = inner.map.put(key, Arc::clone(&value)) {
            inner.bytes -= old.weight();
        }
        inner.bytes += weight;
        while inner.bytes > self.capacity {
            match inner.map.pop_lru() {
                Some((_, evicted)) => inner.bytes -= evicted.weight(),
                None => break,
            }
        }
        value
    }

    /// Bytes currently held.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // A panic while holding the lock leaves the map consistent (every
        // mutation above is a single call), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Weighed for Vec<u8> {
        fn weight(&self) -> usize {
            self.len()
        }
    }

    #[test]
    fn evicts_least_recently_used_until_within_bytes() {
        let cache = ByteLru::new(100);
        cache.insert(1, vec![0u8; 40]);
        cache.insert(2, vec![0u8; 40]);
        assert!(cache.get(&1).is_some()); // 2 is now the least recent
        cache.insert(3, vec![0u8; 40]);
        assert!(cache.get(&2).is_none());
        assert!(cache.get(&1).is_some() && cache.get(&3).is_some());
        assert_eq!(cache.bytes(), 80);
    }

    #[test]
    fn a_value_larger_than_the_cache_is_not_kept() {
        let cache = ByteLru::new(10);
        assert_eq!(cache.insert(1, vec![0u8; 11]).len(), 11);
        assert!(cache.get(&1).is_none());
        assert_eq!(cache.bytes(), 0);
    }

    #[test]
    fn replacing_a_key_keeps_the_byte_count_right() {
        let cache = ByteLru::new(100);
        cache.insert(1, vec![0u8; 60]);
        cache.insert(1, vec![0u8; 30]);
        assert_eq!(cache.bytes(), 30);
    }
}
