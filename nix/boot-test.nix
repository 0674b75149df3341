# A check that an image boots: `debclosure boot-test` in a derivation, for a
# flake's `checks`. The image's own kernel and initrd boot under QEMU (KVM
# when the builder offers a working /dev/kvm, else TCG), with a watchdog;
# the build fails with the end of the console log when the marker does not
# appear, the guest panics or QEMU dies. The console log is the output.
#
#   checks.boots = bootTest { image = diskImageFromLock { ... }; };
#
# `image` is a disk image file, or a directory holding disk-image.qcow2 (as
# diskImageFromLock and vmTools' images are laid out). The lock must hold a
# kernel (e.g. linux-image-cloud-amd64) and an init.
{ runCommand, qemu, e2fsprogs, debclosure }:
{ image
, name ? "boot-test"
, timeout ? 300        # seconds
, expect ? null        # the console text to wait for; default debclosure's marker
, command ? null       # a shell command the booted system runs first
, accel ? "auto"       # "auto", "kvm" or "tcg"
, memSize ? 1024       # MiB
}:
runCommand name
{
  nativeBuildInputs = [ debclosure qemu e2fsprogs ];
  inherit image accel;
  timeoutSeconds = toString timeout;
  memSize = toString memSize;
  expectText = if expect == null then "" else expect;
  commandText = if command == null then "" else command;
}
  ''
    disk=$image
    if [ -d "$disk" ]; then
      disk=$disk/disk-image.qcow2
    fi
    mkdir -p "$out"
    set -- --log "$out/console.log" --timeout "$timeoutSeconds" --accel "$accel" --memory "$memSize"
    if [ -n "$expectText" ]; then set -- "$@" --expect "$expectText"; fi
    if [ -n "$commandText" ]; then set -- "$@" --command "$commandText"; fi
    debclosure boot-test "$disk" "$@"
  ''
