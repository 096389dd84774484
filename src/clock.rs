//! The only place that reads the wall clock. Everything else takes `now` as an input.
//!
//! The simulator can move this clock ahead ([`set_offset_ms`]) so that reminders and deadlines
//! can be watched without waiting; the offset is 0 unless the simulator sets it.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds added to the wall clock (the simulator's "jump ahead"); 0 by default.
static OFFSET_MS: AtomicI64 = AtomicI64::new(0);

/// Milliseconds since the Unix epoch, now (plus the simulated offset, normally 0).
pub fn now_ms() -> i64 {
    let wall = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    wall + OFFSET_MS.load(Ordering::Relaxed)
}

/// Sets the simulated offset added to [`now_ms`] for the whole process.
pub fn set_offset_ms(offset_ms: i64) {
    OFFSET_MS.store(offset_ms, Ordering::Relaxed);
}

/// The current simulated offset.
pub fn offset_ms() -> i64 {
    OFFSET_MS.load(Ordering::Relaxed)
}
