# A Debian 12 disk image from a debclosure lock, with no
# import-from-derivation, and a check that the lock is still current.
#
#   nix build ./examples/flake            # the disk image
#   nix flake check ./examples/flake      # checkLock: fails when the lock is stale
#
# The lock is ../bookworm/debclosure.lock, written by debclosure from
# ../bookworm/debclosure.toml. Outside this repository, point the debclosure
# input at the repository's flake URL and the paths at your own files.
{
  description = "Example: a Debian 12 (bookworm) disk image from a debclosure lock";

  inputs = {
    debclosure.url = "path:../..";
    nixpkgs.follows = "debclosure/nixpkgs";
  };

  outputs = { self, nixpkgs, debclosure }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      debclosureLib = debclosure.lib pkgs;
      lock = ../bookworm/debclosure.lock;
    in
    {
      packages.${system} = rec {
        # In vmTools' VM: `debclosure rootfs --in-place` installs the lock's
        # .debs on the new disk, one dpkg --install per install group, and
        # fails the build if any maintainer script fails.
        bookworm = debclosureLib.diskImageFromLock {
          inherit lock;
          name = "debian-12-bookworm-amd64";
          fullName = "Debian 12 Bookworm (amd64)";
          size = 4096;
        };
        default = bookworm;

        # The image in use: a command run inside it.
        uname = pkgs.vmTools.runInLinuxImage (pkgs.stdenv.mkDerivation {
          name = "bookworm-uname";
          diskImage = bookworm;
          diskImageFormat = "qcow2";
          dontUnpack = true;
          buildPhase = "uname -a > uname.txt; dpkg-query -W > packages.txt";
          installPhase = "mkdir -p $out && cp uname.txt packages.txt $out/";
        });
      };

      checks.${system} = {
        # Re-resolves from the indices the lock pins and fails with a diff
        # when the lock no longer matches the spec.
        lock = debclosureLib.checkLock {
          inherit lock;
          spec = ../bookworm/debclosure.toml;
        };
      };
    };
}
