# The debclosure Nix library: one function per file, wired to a package set.
#
#   debclosureLib = import ./nix { inherit pkgs; };
#   debclosureLib.debsFromLock { lock = ./debclosure.lock; }
#
# `debclosure` is the command the derivations run (closureGenerator,
# checkLock, and diskImageFromLock inside its VM); by default it is built
# from this repository with `pkgs`. Functions that only read a lock
# (debsFromLock, fetchSpecsFromLock) never build it.
{ pkgs
, debclosure ? pkgs.callPackage ./package.nix { }
}:
let
  self = {
    inherit debclosure;

    # string -> string: the store name `debclosure nix` gives a file.
    storeName = import ./store-name.nix;

    # lock -> attrs: the parsed, checked lock.
    readLock = import ./read-lock.nix;

    # parsed lock -> archive -> [ path ] -> [ url ]
    archiveUrls = import ./archive-urls.nix;

    # { lock } -> [ [ { urls; sha256; name; } ] ]
    fetchSpecsFromLock = import ./fetch-specs-from-lock.nix {
      inherit (self) readLock archiveUrls storeName;
    };

    # { lock } -> [ [ fetchurl derivation ] ], fillDiskWithDebs' `debs`
    debsFromLock = import ./debs-from-lock.nix {
      inherit (pkgs) fetchurl;
      inherit (self) fetchSpecsFromLock;
    };

    # { lock, name, fullName, size ? 4096, installer ? "debclosure", ... } -> disk image
    diskImageFromLock = import ./disk-image-from-lock.nix {
      inherit (pkgs) lib stdenv vmTools writeText util-linux dpkg gnutar;
      inherit debclosure;
      inherit (self) debsFromLock;
    };

    # { name, packagesLists, urlPrefix, packages, ... } -> derivation of a .nix file
    closureGenerator = import ./closure-generator.nix {
      inherit pkgs debclosure;
    };

    # { image, timeout ? 300, expect ? null, command ? null, ... } -> derivation
    # that fails unless the image boots and shows the marker
    bootTest = import ./boot-test.nix {
      inherit (pkgs) runCommand qemu e2fsprogs;
      inherit debclosure;
    };

    # { lock, spec ? null } -> derivation that fails when the lock is stale
    checkLock = import ./check-lock.nix {
      inherit pkgs debclosure;
      inherit (self) readLock archiveUrls storeName;
    };
  };
in
self
