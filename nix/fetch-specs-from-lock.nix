# What to fetch for a lock, as plain data: a list with one inner list per
# install group (group 0 first), each holding `{ urls; sha256; name; }` for
# one `.deb` in the lock's order. `debsFromLock` passes each to `fetchurl`;
# this is the same thing without the derivations, for rendering and tests.
#
# A package without `archive` is in the distribution's main archive.
{ readLock, archiveUrls, storeName }:
{ lock }:
let
  parsed = readLock lock;
  packages = parsed.packages;
  byGroup = builtins.groupBy (p: toString p.group) packages;
  groupCount = if packages == [ ] then 0 else (builtins.elemAt packages (builtins.length packages - 1)).group + 1;
  specOf = p: {
    urls = archiveUrls parsed (p.archive or parsed.request.distribution) [ p.filename ];
    inherit (p) sha256;
    name = storeName p.filename;
  };
in
builtins.genList (group: map specOf byGroup.${toString group}) groupCount
