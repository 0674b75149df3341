# A disk image holding exactly the closure of a lock.
#
#   diskImageFromLock {
#     lock = ./debclosure.lock;
#     name = "debian-12-bookworm-amd64";
#     fullName = "Debian 12 Bookworm (amd64)";
#     size = 4096;                  # MiB, the default
#     # postInstall, memSize, QEMU_OPTS, createRootFS and any other
#     # argument pass through, as with vmTools.fillDiskWithDebs
#   }
#
# installer = "debclosure" (the default): in vmTools' VM, on the file system
# `createRootFS` made and mounted on /mnt, `debclosure rootfs --in-place`
# installs the lock the way `debclosure rootfs` does on a host: merged /usr,
# every .deb unpacked with `tar --keep-directory-symlink`, then one
# `dpkg --install` per install group in the lock's order, without
# `--force-all`, `dpkg --audit` clean, and the installed packages compared
# with the lock. The .debs are the lock's fetchurls (each matched to its
# package by SHA256 again). Any failure fails the build, naming the group,
# the package and the end of dpkg's output. The image's manifest
# (`dpkg-query -W`) is `$out/manifest`. `postInstall` runs afterwards with
# /proc and /dev mounted in /mnt.
#
# installer = "vmtools": nixpkgs' own vmTools.fillDiskWithDebs (dpkg-deb
# --extract, `dpkg --install --force-all ... || true` per group: failures are
# ignored), with the install groups passed the way its build script reads
# them (nixpkgs' `// args` would otherwise replace the `|`-separated list
# with the plain groups and install everything in one run).
#
# The lock's architecture must be one the builder's VM can run.
{ lib, stdenv, vmTools, writeText, util-linux, dpkg, gnutar, debclosure, debsFromLock }:
{ lock
, name
, fullName
, size ? 4096
, installer ? "debclosure"
, createRootFS ? vmTools.defaultCreateRootFS
, postInstall ? ""
, memSize ? 512
, QEMU_OPTS ? ""
, ...
}@args:
let
  groups = debsFromLock { inherit lock; };

  # The lock file itself for the command: a path as given, or the parsed
  # JSON written back (debclosure reads any valid JSON layout).
  lockFile =
    if builtins.isAttrs lock && !(lock ? outPath)
    then writeText "debclosure.lock" (builtins.toJSON lock)
    else lock;

  ours = [ "lock" "installer" "size" "fullName" "createRootFS" ];

  withDebclosure = vmTools.runInLinuxVM (stdenv.mkDerivation (builtins.removeAttrs args ours // {
    inherit name postInstall memSize QEMU_OPTS lockFile;
    debs = builtins.concatLists groups;
    # rootfs runs dpkg-deb, dpkg-query, tar, mount and umount on the VM side
    # (chroot and mknod come with stdenv).
    nativeBuildInputs = [ debclosure dpkg gnutar util-linux ];
    preVM = vmTools.createEmptyImage { inherit size fullName; };
    buildCommand = ''
      ${createRootFS}

      printf '%s\n' $debs > debs.list
      debclosure rootfs --in-place --lock "$lockFile" --debs-from debs.list \
        --manifest "$out/manifest" /mnt

      if [ -n "$postInstall" ]; then
        echo "running post-install script..."
        mount --bind /proc /mnt/proc
        mount --bind /dev /mnt/dev
        eval "$postInstall"
        umount /mnt/dev /mnt/proc
      fi

      rm -f /mnt/.debug
      umount /mnt
    '';
    passthru = { inherit fullName lockFile; };
  }));

  withVmTools = lib.overrideDerivation
    (vmTools.fillDiskWithDebs (builtins.removeAttrs args [ "lock" "installer" ] // {
      inherit name fullName size;
      debs = groups;
    }))
    (_: { debs = lib.intersperse "|" groups; });
in
if args ? debs then
  throw "diskImageFromLock: give `lock`, not `debs` (the debs come from the lock)"
else if installer == "debclosure" then
  withDebclosure
else if installer == "vmtools" then
  withVmTools
else
  throw "diskImageFromLock: installer must be \"debclosure\" or \"vmtools\", not ${builtins.toJSON installer}"
