//! debclosure computes the dependency closure of a list of Debian or Ubuntu
//! packages, deterministically and by Debian's rules, pins it in a lock file,
//! and turns it into input for Nix.
//!
//! The pipeline runs one way: parse, verify, index, resolve, lock, generate.
//! [`fetch`] downloads archive files into a cache (the only module that
//! touches the network), [`signature`] verifies a suite's `InRelease` against
//! a keyring and [`release`] parses it, and [`archive`] ties them into the
//! chain of trust, checking each `Packages` file against the verified Release
//! before [`decompress`] and [`deb822`] parse it; [`index`] merges the files
//! into one view for one architecture; [`resolve`] walks Pre-Depends and
//! Depends from the request ([`spec`], or the flags) and groups the closure
//! in install order; [`lock`] pins request, indices and closure in
//! `debclosure.lock` and checks a lock against the indices it pins; and
//! [`nix`] and [`output`] write a closure as a Nix expression, text or JSON.
//! From a lock, [`rootfs`] installs the closure into a directory with dpkg,
//! [`image`] makes a bootable disk image of it, and [`boot`] boots an image
//! under QEMU. Underneath are values checked once where they enter:
//! [`hash::Sha256`], the names of [`name`] and the URLs of [`url`]; and
//! [`atomic`] replaces files in one step.
// `unsafe` is denied everywhere but in `mapped`, which maps cache entries.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod archive;
pub mod atomic;
pub mod boot;
pub mod changes;
mod checked;
pub mod command;
pub mod deb822;
pub mod debs;
pub mod diff;
pub mod decompress;
pub mod fetch;
pub mod hash;
pub mod image;
pub mod index;
pub mod lock;
pub mod mapped;
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
