//! A least-recently-used cache bounded in bytes rather than in entries, for
//! parsed directories and decoded blocks: memory is what runs out, and
//! entries vary in size by orders of magnitude.

use std::collections::HashMap;
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
    /// Keys being made by [`ByteLru::get_or_insert_with`], each with the
    /// lock its maker holds until the value is in `map`.
    pending: HashMap<K, Arc<Mutex<()>>>,
}

impl<K: Hash + Eq, V: Weighed> ByteLru<K, V> {
    /// An empty cache that holds at most `capacity` bytes.
    pub fn new(capacity: usize) -> Self {
        Self {
            inner: Mutex::new(Inner {
                map: LruCache::unbounded(),
                bytes: 0,
                pending: HashMap::new(),
            }),
            capacity,
        }
    }

    /// The cached value for `key`, marking it most recently used.
    pub fn get(&self, key: &K) -> Option<Arc<V>> {
        self.lock().map.get(key).cloned()
    }

    /// The cached value for `key`, or the one `make` returns, inserted.
    /// A key is made once however many threads miss it at the same time:
    /// the others wait for its maker and take its value (a tile's bands of
    /// rows, rendered in parallel, mostly need the same blocks at once;
    /// without this, a third of the blocks decoded under load were decoded
    /// twice). A waiter makes the value itself when the maker failed, or
    /// the value was too large to keep.
    pub fn get_or_insert_with<E>(
        &self,
        key: K,
        make: impl FnOnce() -> Result<V, E>,
    ) -> Result<Arc<V>, E>
    where
        K: Clone,
    {
        if self.capacity == 0 {
            // Nothing is kept: waiters would each make it again, in turn.
            return make().map(Arc::new);
        }
        loop {
            let turn = {
                let mut inner = self.lock();
                if let Some(value) = inner.map.get(&key) {
                    return Ok(Arc::clone(value));
                }
                match inner.pending.get(&key) {
                    Some(turn) => Arc::clone(turn),
                    None => {
                        let turn = Arc::new(Mutex::new(()));
                        // Held before the key is seen pending; released
                        // last, after the value is in and the key is no
                        // longer pending.
                        let _making = turn.lock().unwrap_or_else(|e| e.into_inner());
                        inner.pending.insert(key.clone(), Arc::clone(&turn));
                        drop(inner);
                        let _pending = Pending {
                            cache: self,
                            key: &key,
                        };
                        return make().map(|value| self.insert(key.clone(), value));
                    }
                }
            };
            // Wait for the maker, then look again.
            drop(turn.lock().unwrap_or_else(|e| e.into_inner()));
        }
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
}

impl<K: Hash + Eq, V> ByteLru<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // A panic while holding the lock leaves the map consistent (every
        // mutation above is a single call), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Takes a key off the pending list when its maker is done, however it
/// ends (a value, an error or a panic), so waiters never wait on a maker
/// that is gone.
struct Pending<'a, K: Hash + Eq, V> {
    cache: &'a ByteLru<K, V>,
    key: &'a K,
}

impl<K: Hash + Eq, V> Drop for Pending<'_, K, V> {
    fn drop(&mut self) {
        self.cache.lock().pending.remove(self.key);
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

    /// How many times `threads` threads, started together, made key 1 of
    /// `cache`, each maker running `inside` before returning its value.
    fn makers(cache: &ByteLru<i32, Vec<u8>>, threads: usize, inside: impl Fn() + Sync) -> usize {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let made = AtomicUsize::new(0);
        let start = std::sync::Barrier::new(threads);
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(|| {
                    start.wait();
                    let value = cache.get_or_insert_with(1, || {
                        made.fetch_add(1, Ordering::SeqCst);
                        inside();
                        Ok::<_, ()>(vec![1u8; 10])
                    });
                    assert_eq!(*value.unwrap(), vec![1u8; 10]);
                });
            }
        });
        made.load(Ordering::SeqCst)
    }

    #[test]
    fn threads_missing_the_same_key_at_once_make_it_once() {
        let cache = ByteLru::new(1000);
        // Long enough for every other thread to miss too.
        let made = makers(&cache, 8, || {
            std::thread::sleep(std::time::Duration::from_millis(50))
        });
        assert_eq!(made, 1);
        assert_eq!(cache.bytes(), 10);
    }

    #[test]
    fn a_failed_or_panicking_maker_leaves_the_key_to_the_next_caller() {
        let cache = ByteLru::new(1000);
        assert_eq!(
            cache.get_or_insert_with(1, || Err("corrupt")),
            Err("corrupt")
        );
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            cache.get_or_insert_with(1, || -> Result<Vec<u8>, ()> { panic!("decoder bug") })
        }));
        assert!(panicked.is_err());
        // Neither left the key pending: this call makes it, without waiting.
        let value = cache.get_or_insert_with(1, || Ok::<_, ()>(vec![2u8; 3]));
        assert_eq!(*value.unwrap(), vec![2u8; 3]);
        assert!(cache.lock().pending.is_empty());
    }

    #[test]
    fn a_cache_of_no_bytes_makes_every_value_without_waiting() {
        let cache = ByteLru::new(0);
        // Both makers are in here at once, or this waits forever (the test
        // would hang).
        let both = std::sync::Barrier::new(2);
        assert_eq!(
            makers(&cache, 2, || {
                both.wait();
            }),
            2
        );
        assert_eq!(cache.bytes(), 0);
    }
}
