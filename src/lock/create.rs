//! Locking a request: download and verify its indices, resolve the closure,
//! and pin both in a [`LockFile`].

use crate::archive::{fetch_indices, ArchiveError, ArchiveOptions};
use crate::fetch::{Cache, Fetcher};
use crate::index::{Index, IndexError};
use crate::report::Reporter;
use crate::resolve::{resolve_closure, ResolveError};
use crate::sources::{ArchiveSource, LocateError};

use super::check::PinnedError;
use super::{LockError, LockFile, Request};

/// Why a request could not be locked, or a lock checked.
#[derive(Debug, thiserror::Error)]
pub enum LockingError {
    /// An archive has nowhere to be downloaded from.
    #[error(transparent)]
    Locate(#[from] LocateError),
    /// The indices could not be fetched or trusted.
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A pinned index could not be found or does not match the lock.
    #[error(transparent)]
    Pinned(#[from] PinnedError),
    /// An index does not parse.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// The request cannot be resolved.
    #[error(transparent)]
    Resolve(#[from] ResolveError),
    /// A lock's request is not valid.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// The request to lock names a value a lock cannot hold.
    #[error("the request cannot be locked")]
    Request(#[source] LockError),
    /// The lock that the request resolves to breaks a rule of the format;
    /// it is not written.
    #[error("the new lock would not be valid")]
    Invalid(#[source] LockError),
}

impl LockingError {
    /// What the user can do about it, if there is advice.
    pub fn hint(&self) -> Option<String> {
        match self {
            LockingError::Locate(e) => e.hint(),
            LockingError::Archive(e) => e.hint(),
            LockingError::Pinned(e) => e.hint(),
            LockingError::Index(e) => e.hint(),
            LockingError::Resolve(e) => e.hint(),
            LockingError::Lock(e) | LockingError::Invalid(e) => e.hint(),
            LockingError::Request(_) => Some("fix the value it names, in the spec or the flags".into()),
        }
    }
}

/// Checks `request`, downloads and verifies its indices from `archives` (see
/// [`Request::locate`]), resolves it, and returns the lock, checked as
/// reading it back would check it. `options` say how to download; the
/// architecture is the request's, whatever `options.architecture` says.
pub async fn create(
    request: &Request,
    archives: &[ArchiveSource],
    fetcher: &Fetcher,
    cache: &Cache,
    options: &ArchiveOptions,
    reporter: &dyn Reporter,
) -> Result<LockFile, LockingError> {
    // Before any download: what the request names must be valid in a lock.
    request.validate().map_err(LockingError::Request)?;
    let options = ArchiveOptions { architecture: request.architecture.to_string(), ..options.clone() };
    let fetched = fetch_indices(fetcher, cache, archives, &options, reporter).await?;
    let index = Index::build(&fetched.sources, &request.architecture)?;
    let closure = resolve_closure(&index, &request.requested()?, &request.options())?;
    let mut lock = LockFile {
        version: 1,
        request: request.clone(),
        request_sha256: request.digest(),
        releases: fetched.releases,
        indices: fetched.indices,
        packages: closure.packages,
        choices: closure.choices,
        assumed: closure.assumed,
    };
    lock.version = lock.format_version();
    // Never write a lock that reading it back would refuse.
    lock.validate().map_err(LockingError::Invalid)?;
    Ok(lock)
}
