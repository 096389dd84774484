//! The one number allocator: case, register and duty numbers are `{prefix}-{year}-{n:04}`,
//! counted per prefix and year in the store, the year being the company's local date's.

use crate::adapters::store::{Store, StoreError};
use crate::base::calendar::Now;

/// The next number of `prefix` in the year of `now`'s local date, e.g. `BA-2026-0001`.
pub async fn next(store: &dyn Store, prefix: &str, now: Now) -> Result<String, StoreError> {
    let series = format!("{prefix}-{}", now.year());
    let n = store.next_number(&series).await?;
    Ok(format!("{series}-{n:04}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapters::store::embedded::EmbeddedStore;
    use crate::base::clock::Clock;

    #[tokio::test]
    async fn numbers_count_per_prefix_in_the_local_year() {
        let dir = tempfile::tempdir().unwrap();
        let store = EmbeddedStore::open(dir.path()).unwrap();
        let clock = Clock::new(chrono_tz::Asia::Shanghai);
        let at = |rfc3339: &str| {
            let instant = chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap();
            clock.at(instant.timestamp_millis())
        };
        let eve = at("2026-12-31T15:30:00Z"); // 23:30 on New Year's Eve in Shanghai
        let new_year = at("2026-12-31T16:30:00Z"); // 00:30 on 1 January, still 2026 in UTC
        assert_eq!(next(&store, "BA", eve).await.unwrap(), "BA-2026-0001");
        assert_eq!(next(&store, "BA", eve).await.unwrap(), "BA-2026-0002");
        assert_eq!(next(&store, "DJ", eve).await.unwrap(), "DJ-2026-0001");
        assert_eq!(next(&store, "BA", new_year).await.unwrap(), "BA-2027-0001");
        assert_eq!(next(&store, "RW", new_year).await.unwrap(), "RW-2027-0001");
    }
}
