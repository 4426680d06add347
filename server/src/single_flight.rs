//! One render per tile at a time: requests that miss the rendered-tile
//! cache for a tile another request is already rendering wait for that
//! render and share its result, instead of rendering it again. A burst of
//! clients opening the same map view asks for the same uncached tiles at
//! the same moment; without this, a dense vector tile of 30 ms of CPU was
//! cut once per client.
//!
//! Waiting is asynchronous (a `tokio` once-cell per tile being made), so a
//! waiting request holds no thread. The result is handed to the waiters
//! directly, not through the cache, so it reaches them even when the cache
//! is disabled or has already evicted it. If the request making the tile
//! fails, or goes away (a client that pans aborts its tile requests), the
//! next waiter makes the tile itself: an `Err` is the maker's own (the tile
//! routes return the errors every waiter would get as values, to share
//! them, and keep `Err` for a full CPU pool).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

/// Tiles being made, each with the cell its result will be put in.
pub struct SingleFlight<K, V> {
    pending: Mutex<HashMap<K, Arc<OnceCell<V>>>>,
}

impl<K, V> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight {
            pending: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Hash + Eq + Clone, V: Clone> SingleFlight<K, V> {
    /// The value of `key`: made by `make` unless another call for the same
    /// key is making it, in which case its result is awaited and shared
    /// (and `make` is called only if that call fails or is dropped).
    pub async fn run<E, F, Fut>(&self, key: K, make: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let cell = Arc::clone(self.lock().entry(key.clone()).or_default());
        let flight = Flight {
            owner: self,
            key,
            cell: Some(cell),
        };
        flight.cell().get_or_try_init(make).await.cloned()
    }

    /// How many keys are being made (for tests).
    #[cfg(test)]
    fn pending(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<OnceCell<V>>>> {
        // The map is left consistent at every step: a panic elsewhere while
        // it was locked does not make it unusable.
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One call's hold on a key's cell. When dropped (the call returned, or
/// its future was dropped), the key leaves the pending map once its value
/// is made or nobody else holds its cell, so the map holds only tiles in
/// the making: a later request then finds the tile in the cache, or makes
/// it anew if the cache did not keep it.
struct Flight<'a, K: Hash + Eq, V> {
    owner: &'a SingleFlight<K, V>,
    key: K,
    /// Always `Some` until dropped, under the map's lock.
    cell: Option<Arc<OnceCell<V>>>,
}

impl<K: Hash + Eq, V> Flight<'_, K, V> {
    fn cell(&self) -> &OnceCell<V> {
        self.cell.as_ref().expect("held until dropped")
    }
}

impl<K: Hash + Eq, V> Drop for Flight<'_, K, V> {
    fn drop(&mut self) {
        let mut pending = self.owner.pending.lock().unwrap_or_else(|e| e.into_inner());
        let Some(cell) = self.cell.take() else {
            return;
        };
        let made = cell.initialized();
        let ours = pending
            .get(&self.key)
            .is_some_and(|held| Arc::ptr_eq(held, &cell));
        // Our hold ends under the lock, as every other call takes or ends
        // its own: the count is exact here, and the map's is the last one
        // when nobody else waits.
        drop(cell);
        let unwanted = || {
            pending
                .get(&self.key)
                .is_some_and(|held| Arc::strong_count(held) == 1)
        };
        if ours && (made || unwanted()) {
            pending.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    type Flights = Arc<SingleFlight<u32, u32>>;

    /// A maker that counts its calls and takes a while.
    async fn slow(calls: Arc<AtomicUsize>, value: u32) -> Result<u32, String> {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        Ok(value)
    }

    /// Calls for `keys` at once, each on its own task, offering `value` =
    /// its position; their results in order.
    async fn concurrently(flights: &Flights, calls: &Arc<AtomicUsize>, keys: &[u32]) -> Vec<u32> {
        let tasks: Vec<_> = keys
            .iter()
            .zip(0..)
            .map(|(&key, value)| {
                let (flights, calls) = (Arc::clone(flights), Arc::clone(calls));
                tokio::spawn(async move { flights.run(key, || slow(calls, value)).await })
            })
            .collect();
        let mut out = Vec::new();
        for task in tasks {
            out.push(task.await.unwrap().unwrap());
        }
        out
    }

    #[tokio::test]
    async fn concurrent_calls_for_one_key_make_it_once() {
        let (flights, calls) = (Flights::default(), Arc::default());
        let results = concurrently(&flights, &calls, &[5; 8]).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(results, [0; 8], "all share the first call's value");
        assert_eq!(flights.pending(), 0);
        // Done: a later call makes the value again.
        assert_eq!(concurrently(&flights, &calls, &[5]).await, [0]);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn different_keys_are_made_apart() {
        let (flights, calls) = (Flights::default(), Arc::default());
        let results = concurrently(&flights, &calls, &[1, 2, 1, 3]).await;
        assert_eq!(results, [0, 1, 0, 3]);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failed_maker_lets_the_next_waiter_make_it() {
        let (flights, calls): (Flights, Arc<AtomicUsize>) = Default::default();
        let failing = flights.run(1, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(Duration::from_millis(20)).await;
            Err("pool full".to_string())
        });
        let waiting = flights.run(1, || slow(Arc::clone(&calls), 7));
        let (failed, made) = tokio::join!(failing, waiting);
        assert_eq!(failed, Err("pool full".to_string()));
        assert_eq!(made, Ok(7));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert_eq!(flights.pending(), 0);
    }

    #[tokio::test]
    async fn a_dropped_maker_lets_the_next_waiter_make_it_and_leaves_nothing() {
        let (flights, calls): (Flights, Arc<AtomicUsize>) = Default::default();
        let soon = Duration::from_millis(10);
        // A call abandoned mid-way (its client went away) leaves no key.
        let abandoned = tokio::time::timeout(soon, flights.run(1, || slow(Arc::clone(&calls), 1)));
        assert!(abandoned.await.is_err());
        assert_eq!(flights.pending(), 0);
        // Abandoned while another waits: the waiter makes it.
        let first = tokio::time::timeout(soon, flights.run(1, || slow(Arc::clone(&calls), 2)));
        let second = flights.run(1, || slow(Arc::clone(&calls), 3));
        let (first, second) = tokio::join!(first, second);
        assert!(first.is_err());
        assert_eq!(second, Ok(3));
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert_eq!(flights.pending(), 0);
    }
}
