//! debclosure computes the dependency closure of a list of Debian or Ubuntu
//! packages, deterministically and by Debian's rules, and turns it into input
//! for Nix.
//!
//! The pipeline runs one way: [`deb822`] parses `Packages` stanzas, [`index`]
//! merges several files into one view for one architecture, [`resolve`] walks
//! Pre-Depends and Depends from the requested packages and groups the result in
//! install order, and [`output`] writes it as text, JSON or a Nix expression.
//! [`rootfs`] installs a pinned closure into a directory with dpkg, to prove
//! that it installs.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod archive;
pub mod atomic;
pub mod boot;
pub mod deb822;
pub mod debs;
pub mod diff;
pub mod decompress;
pub mod fetch;
pub mod hash;
pub mod image;
pub mod index;
pub mod lock;
pub mod name;
pub mod nix;
pub mod output;
pub mod relation;
pub mod release;
pub mod report;
pub mod resolve;
pub mod rootfs;
pub mod signature;
pub mod sources;
pub mod spec;
pub mod url;
pub mod version;
