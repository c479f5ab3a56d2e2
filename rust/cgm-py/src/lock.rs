//! Named local locks held by a host thread (`Node.lock`, `Node.try_lock`).

use cgm_runtime::LockGuard;
use pyo3::prelude::*;
use std::sync::Mutex;

/// A host thread's hold on a named local lock; `release()` gives it up.
#[pyclass(frozen, module = "cgm._cgm", name = "LockGuard")]
pub(crate) struct PyLockGuard {
    name: String,
    guard: Mutex<Option<LockGuard>>,
}

impl PyLockGuard {
    /// The hold on lock `name` that `guard` keeps.
    pub(crate) fn new(name: String, guard: LockGuard) -> PyLockGuard {
        PyLockGuard { name, guard: Mutex::new(Some(guard)) }
    }
}

#[pymethods]
impl PyLockGuard {
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// Whether the lock is still held.
    #[getter]
    fn held(&self) -> bool {
        self.guard.lock().map(|g| g.is_some()).unwrap_or(false)
    }

    /// Releases the lock (idempotent).
    fn release(&self) {
        if let Ok(mut g) = self.guard.lock() {
            g.take();
        }
    }
}
