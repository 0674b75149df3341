# A drop-in for nixpkgs' `vmTools.debClosureGenerator`, for those who keep
# computing the closure at build time (import-from-derivation): the same
# arguments, and a derivation `${name}.nix` holding
# `{ fetchurl }: [ [ (fetchurl { url; sha256; name; }) ... ] ... ]`, written by
# `debclosure resolve --format nix` from the given Packages files.
#
#   import (closureGenerator {
#     name = "debian-12-bookworm-i386";
#     packagesLists = [ bookwormMainI386PackagesXz ];
#     urlPrefix = "mirror://debian";
#     packages = [ "bash" "dpkg" ];
#   }) { inherit fetchurl; }
#
# Index files may be plain, .xz, .gz or .bz2 (told apart by their content, not
# their names). Only the first URL prefix is written, as deb-closure.pl did.
# The architecture is read from the lists, as deb-closure.pl used whatever
# stanzas they held: the one their `Architecture:` fields name besides `all`,
# never the build machine's, so i386 lists give i386 packages on an x86_64
# builder. Lists of several architectures (or only of `all`) fail the build
# with the files named; give `arch` (e.g. "i386") then.
#
# A lock and `debsFromLock` avoid the import-from-derivation altogether.
{ pkgs, debclosure }:
{ name
, packagesLists
, urlPrefix ? null
, urlPrefixes ? [ urlPrefix ]
, packages
, arch ? null
}:
let
  inherit (pkgs.lib) escapeShellArg escapeShellArgs;
  lists = if builtins.isList packagesLists then packagesLists else [ packagesLists ];
  prefix =
    if urlPrefixes == [ ] || builtins.head urlPrefixes == null
    then throw "closureGenerator ${name}: give urlPrefix (e.g. \"mirror://debian\") or urlPrefixes"
    else builtins.head urlPrefixes;
  archArgs = if arch == null then [ ] else [ "--arch" arch ];
in
pkgs.runCommand "${name}.nix" { } ''
  ${debclosure}/bin/debclosure resolve \
    ${builtins.concatStringsSep " " (map (file: "--packages-file ${escapeShellArg "${file}"}") lists)} \
    ${escapeShellArgs archArgs} --url-prefix ${escapeShellArg prefix} --format nix \
    -- ${escapeShellArgs packages} > "$out"
''
