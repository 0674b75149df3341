# A derivation that succeeds only when a lock is current: it fetches the
# Packages indices the lock pins (by their SHA256, so exactly the files the
# lock was made from), then runs
# `debclosure check --offline --lock LOCK [--spec SPEC] --index-dir DIR`,
# which resolves the request again from them and compares with the lock.
#
#   checks.lock = checkLock { lock = ./debclosure.lock; spec = ./debclosure.toml; };
#
# Each index is fetched from `<prefix>/<dir>/by-hash/SHA256/<sha256>` first
# (archives keep superseded indices there for a while), then from its
# canonical path, for each URL prefix of its archive in turn.
#
# The build fails with the diff when the lock is stale (exit 1: the lock no
# longer matches its spec or the pinned indices), and with the error when the
# lock or spec cannot be read (exit 2).
{ pkgs, debclosure, readLock, archiveUrls, storeName }:
{ lock, spec ? null }:
let
  lockFile = lock;
  parsed = readLock lockFile;

  fetchIndex = index: pkgs.fetchurl {
    urls = archiveUrls parsed index.archive [
      "${builtins.dirOf index.path}/by-hash/SHA256/${index.sha256}"
      index.path
    ];
    inherit (index) sha256;
    name = storeName (builtins.replaceStrings [ "/" ] [ "_" ] "${index.archive}/${index.path}");
  };
in
if builtins.isAttrs lock && !(lock ? outPath) then
  throw "checkLock: `lock` must be the lock file itself (a path), not its parsed contents"
else if parsed.indices == [ ] then
  throw "checkLock: ${toString lockFile} pins no Packages index (it was resolved from local files), so there is nothing to check it against"
else
pkgs.runCommand "debclosure-check-lock"
  {
    # Lock data reaches the script through the environment only: the hashes
    # are checked to be hex by readLock, the files are store paths.
    indexFiles = map fetchIndex parsed.indices;
    indexHashes = map (index: index.sha256) parsed.indices;
    inherit lockFile;
    specFile = if spec == null then "" else spec;
  }
  ''
    export HOME="$TMPDIR" XDG_CACHE_HOME="$TMPDIR/cache"
    mkdir indices
    set -- $indexHashes
    for file in $indexFiles; do
      ln -s "$file" "indices/$1"
      shift
    done
    if [ -n "$specFile" ]; then
      set -- --spec "$specFile"
    else
      set --
    fi
    status=0
    ${debclosure}/bin/debclosure check --offline --lock "$lockFile" "$@" --index-dir indices || status=$?
    case $status in
      0) touch "$out" ;;
      1)
        echo "debclosure.lock is stale: it no longer matches its request or the indices it pins (see above); write it again with \`debclosure lock\`" >&2
        exit 1
        ;;
      *)
        echo "debclosure check failed with exit code $status (see above)" >&2
        exit "$status"
        ;;
    esac
  ''
