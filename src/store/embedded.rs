//! The embedded backend: one SQLite file (WAL, synchronous=FULL), one transaction per operation.
//! SKELETON: to be written.

use std::path::Path;

use super::StoreResult;

/// Store in `<dir>/flowbot.sqlite`, for one process.
#[derive(Clone)]
pub struct EmbeddedStore {}

impl EmbeddedStore {
    pub fn open(dir: &Path) -> StoreResult<Self> {
        let _ = dir;
        unimplemented!()
    }
}
