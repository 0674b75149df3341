# The `.deb` files of a lock as `vmTools.fillDiskWithDebs` takes them
# (`debs`): a list with one inner list of `fetchurl` derivations per install
# group, in the lock's group order. Every URL prefix of a file's archive is
# given to `fetchurl`, in order, and the store name is the one
# `debclosure nix` writes.
#
#   debsFromLock { lock = ./debclosure.lock; }
#
# `lock` may also be the already parsed JSON. No import-from-derivation: the
# lock is read at evaluation time.
{ fetchurl, fetchSpecsFromLock }:
{ lock }:
map (map fetchurl) (fetchSpecsFromLock { inherit lock; })
