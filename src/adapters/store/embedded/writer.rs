//! Group commit for the embedded store. One writer thread owns the SQLite connection and runs
//! the queued operations in batches: each operation in its own savepoint (so a failing one
//! undoes only itself), the whole batch in one transaction with one fsync. A caller gets its
//! result only after the batch has committed, so an acknowledged write is on disk.
//!
//! Why: with `synchronous=FULL` every commit costs an fsync (~0.1–0.2 ms); at 1,000 callbacks/s
//! each callback causes about six operations (enqueue, claim, complete, outbox claim, rate
//! limit, outbox done), which one-fsync-per-operation cannot sustain. Batching keeps the
//! durability and divides the fsyncs by the batch size under load.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use super::{exec, map_err};
use crate::adapters::store::{StoreError, StoreResult};
use crate::base::locks::lock;

/// At most this many operations share one transaction.
const MAX_BATCH: usize = 256;

/// Called once the batch's commit is known: `Err` carries the commit failure.
type Finish = Box<dyn FnOnce(Result<(), String>) + Send>;
/// One queued operation: runs inside the batch's transaction and returns its finisher.
type Job = Box<dyn FnOnce(&Transaction<'_>) -> Finish + Send>;

/// The writer thread and the queue in front of it. Dropping it stops the thread and closes the
/// connection (releasing the file lock) before returning.
pub(super) struct Writer {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    /// Starts the thread; a `read_only` connection runs its batches in deferred (read)
    /// transactions, which take no write lock.
    pub fn start(conn: Connection, read_only: bool) -> Self {
        let (send, receive) = mpsc::channel::<Job>();
        let behavior = match read_only {
            true => TransactionBehavior::Deferred,
            false => TransactionBehavior::Immediate,
        };
        let thread = std::thread::Builder::new()
            .name("flowbot-sqlite".into())
            .spawn(move || write_batches(conn, behavior, receive))
            .expect("the store's writer thread starts");
        Self {
            jobs: Mutex::new(Some(send)),
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Runs `f` atomically (its own savepoint) in the next batch; resolves after the commit.
    pub async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, result) = tokio::sync::oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |tx| {
            let outcome = in_savepoint(tx, f);
            Box::new(move |committed| {
                let _ = reply.send(committed.map_err(StoreError::Unavailable).and(outcome));
            })
        });
        let sender = lock(&self.jobs)
            .clone()
            .ok_or_else(|| StoreError::Unavailable("embedded store closed".into()))?;
        sender
            .send(job)
            .map_err(|_| StoreError::Unavailable("embedded store writer stopped".into()))?;
        result
            .await
            .map_err(|_| StoreError::Unavailable("embedded store operation was dropped".into()))?
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        lock(&self.jobs).take();
        if let Some(thread) = lock(&self.thread).take() {
            let _ = thread.join();
        }
    }
}

fn write_batches(mut conn: Connection, behavior: TransactionBehavior, jobs: mpsc::Receiver<Job>) {
    while let Ok(first) = jobs.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let tx = match conn.transaction_with_behavior(behavior) {
            Ok(tx) => tx,
            Err(e) => {
                tracing::error!(error = %e, "embedded store: cannot begin a transaction");
                // Dropping the jobs drops their reply channels: each caller sees Unavailable.
                continue;
            }
        };
        let finishers: Vec<Finish> = batch.into_iter().map(|job| job(&tx)).collect();
        let committed = tx.commit().map_err(|e| format!("commit failed: {e}"));
        for finish in finishers {
            finish(committed.clone());
        }
    }
}

/// Runs one operation so that its failure (or panic) leaves the batch's other work intact.
fn in_savepoint<T, F>(tx: &Transaction<'_>, f: F) -> StoreResult<T>
where
    F: FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
{
    exec(tx, "SAVEPOINT op", []).map_err(map_err)?;
    let undo = || {
        let _ = tx.execute_batch("ROLLBACK TO op; RELEASE op");
    };
    match catch_unwind(AssertUnwindSafe(|| f(tx))) {
        Ok(Ok(value)) => {
            exec(tx, "RELEASE op", []).map_err(map_err)?;
            Ok(value)
        }
        Ok(Err(e)) => {
            undo();
            Err(map_err(e))
        }
        Err(_) => {
            undo();
            Err(StoreError::Unavailable(
                "embedded store operation panicked".into(),
            ))
        }
    }
}
