//! One policy for poisoned locks. A `std::sync::Mutex` is poisoned when a thread panics while
//! holding it; every later `lock().expect(..)` would then panic too, turning one failure into
//! many. The values guarded in this crate (caches, pacing holds, the simulator's world, the
//! store writer's handles) are whole after each statement that changes them, so a panic leaves
//! them usable: [`lock`] takes the inner value as it is. The panic itself is reported where it
//! happened (the worker logs it with the event it was handling).

use std::sync::{Mutex, MutexGuard, PoisonError};

/// Locks `mutex`, recovering the value from a poisoned lock (see the module doc).
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_poisoned_lock_gives_its_value() {
        let mutex = std::sync::Arc::new(Mutex::new(vec![1]));
        let held = mutex.clone();
        let panicked = std::thread::spawn(move || {
            let mut v = held.lock().unwrap();
            v.push(2);
            panic!("while holding the lock");
        })
        .join();
        assert!(panicked.is_err() && mutex.is_poisoned());
        lock(&mutex).push(3);
        assert_eq!(*lock(&mutex), [1, 2, 3]);
    }
}
