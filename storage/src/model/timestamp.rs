//! Timestamps as Vigil keeps them: milliseconds since the Unix epoch.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch of a system time (0 before the epoch).
pub fn from_system_time(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// The current time in milliseconds since the epoch.
pub fn now_ms() -> i64 {
    from_system_time(SystemTime::now())
}
