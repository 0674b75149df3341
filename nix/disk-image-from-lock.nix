# A disk image holding the closure of a lock:
# `vmTools.fillDiskWithDebs` with `debs = debsFromLock { inherit lock; }`.
#
#   diskImageFromLock {
#     lock = ./debclosure.lock;
#     name = "debian-12-bookworm-amd64";
#     fullName = "Debian 12 Bookworm (amd64)";
#     size = 4096;                 # MiB, the default
#     # any other argument (postInstall, memSize, createRootFS, QEMU_OPTS, ...)
#     # is passed to fillDiskWithDebs unchanged
#   }
#
# The lock's architecture must be one the builder's VM can run.
{ vmTools, debsFromLock }:
{ lock, name, fullName, size ? 4096, ... }@args:
if args ? debs then
  throw "diskImageFromLock: give `lock`, not `debs` (the debs come from the lock)"
else
  vmTools.fillDiskWithDebs (
    builtins.removeAttrs args [ "lock" ]
    // {
      inherit name fullName size;
      debs = debsFromLock { inherit lock; };
    }
  )
