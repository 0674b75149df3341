//! The lock as read, before its names are checked: the same shape as
//! [`super::LockFile`], with plain strings where the API holds checked
//! names, so that [`super::LockFile::parse`] can say which field of the
//! request a bad name is in (serde's own errors know only a line and a
//! column).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::archive::{IndexRecord, ReleaseRecord};
use crate::hash::Sha256;
use crate::resolve::{Assumed, Base, Choice, ClosurePackage, Preferences};

use super::{Distribution, SourceOptions};

/// [`super::Request`] as read.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Request {
    pub distribution: Distribution,
    pub architecture: String,
    pub sources: Vec<SourceOptions>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_base: Option<String>,
    pub packages: Vec<String>,
    pub preferences: Preferences,
    pub exclude: Vec<String>,
    pub recommends: bool,
    pub strict: bool,
    pub base: Base,
    pub url_prefixes: BTreeMap<String, Vec<String>>,
}

/// [`super::LockFile`] as read.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct LockFile {
    pub version: u32,
    pub request: Request,
    pub request_sha256: Sha256,
    pub releases: Vec<ReleaseRecord>,
    pub indices: Vec<IndexRecord>,
    pub packages: Vec<ClosurePackage>,
    pub choices: Vec<Choice>,
    pub assumed: Vec<Assumed>,
}
