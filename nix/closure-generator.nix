# A drop-in for nixpkgs' `vmTools.debClosureGenerator`, for those who keep
# computing the closure at build time (import-from-derivation): a derivation
# `${name}.nix` holding `{ fetchurl }: [ [ (fetchurl { url; sha256; name; }) ... ] ... ]`,
# written by `debclosure resolve --format nix` from the given Packages files.
#
#   import (closureGenerator {
#     name = "debian-12-bookworm-amd64";
#     packagesLists = [ bookwormMainPackagesXz ];
#     urlPrefix = "mirror://debian";
#     packages = [ "bash" "dpkg" ];
#   }) { inherit fetchurl; }
#
# Index files may be plain, .xz or .gz (not .bz2). Only the first URL prefix
# is written, as deb-closure.pl did. `arch` (e.g. "arm64") defaults to the
# architecture of the machine that runs the build.
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
