# Reads a lock file (`debclosure.lock`) at evaluation time, without
# import-from-derivation, and checks what the Nix library relies on.
#
# `lock` is a path (or a string naming one) or an attribute set that is
# already the parsed JSON. Every string of the lock stays data: it is compared,
# concatenated and passed on, never evaluated.
#
# Throws, naming the lock and what is wrong, when the format version is not
# one this library reads or when a package or index entry is malformed
# (`debclosure` validates the locks it writes; this catches hand edits).
let
  inherit (builtins)
    all
    elem
    filter
    foldl'
    isAttrs
    isInt
    isList
    isString
    length
    match
    replaceStrings
    split
    substring
    toJSON
    ;

  # The lock format versions this library reads, as `debclosure` writes
  # them (the oldest that holds the lock). Version 2 adds
  # `request.snapshot_base`, which this library does not use: URLs come from
  # `request.url_prefixes` alone. Version 3 adds `releases[].signed_by`, the
  # keys that signed each Release file, which it does not use either.
  supportedVersions = [ 1 2 3 ];
  newestVersion = 3;

  isHex64 = s: isString s && match "[0-9a-f]{64}" s != null;

  # Mirrors the Rust side's rule for archive-relative file names: relative, no
  # empty, `.` or `..` component, no control character or backslash.
  badFilename = s:
    if !isString s then "is not a string"
    else if s == "" then "is empty"
    else if substring 0 1 s == "/" then "is absolute"
    else if match "[^[:cntrl:]]*" s == null then "contains a control character"
    else if replaceStrings [ "\\" ] [ "" ] s != s then "contains a backslash"
    else if !all (c: c != "" && c != "." && c != "..") (filter isString (split "/" s))
    then "has an empty, '.' or '..' component"
    else null;
in
lock:
let
  isParsed = isAttrs lock && !(lock ? outPath);
  where = if isParsed then "debclosure lock (given as an attribute set)" else "debclosure lock ${toString lock}";
  fail = message: throw "${where}: ${message}";

  parsed = if isParsed then lock else builtins.fromJSON (builtins.readFile lock);
  version = parsed.version or null;

  checkVersion =
    if !isAttrs parsed then fail "not a JSON object"
    else if isInt version && elem version supportedVersions then null
    else if isInt version && version > newestVersion then
      fail "lock format version ${toString version} is newer than this nix/ library reads (${toString newestVersion}); update the debclosure flake input (or nix/ copy) to one that matches the debclosure that wrote the lock"
    else
      fail "unsupported lock format version ${toJSON version} (this nix/ library reads versions ${builtins.concatStringsSep " and " (map toString supportedVersions)}); write the lock again with `debclosure lock`";

  request = parsed.request or { };
  distributions = [ "debian" "ubuntu" ];

  checkRequest =
    if !elem (request.distribution or null) distributions then
      fail "request.distribution is ${toJSON (request.distribution or null)}, expected one of ${toJSON distributions}"
    else if !isAttrs (request.url_prefixes or { }) then fail "request.url_prefixes is not an object"
    else null;

  packages = parsed.packages or (fail "no \"packages\" list");
  indices = parsed.indices or [ ];

  checkPackage = previousGroup: p:
    let
      at = "package ${toJSON (p.name or null)}";
      filenameProblem = badFilename (p.filename or null);
      group = p.group or null;
    in
    if !isAttrs p then fail "an entry of \"packages\" is not an object"
    else if filenameProblem != null then fail "${at}: filename ${toJSON (p.filename or null)} ${filenameProblem}"
    else if !isHex64 (p.sha256 or null) then fail "${at}: sha256 ${toJSON (p.sha256 or null)} is not 64 lower-case hex digits"
    else if !(isInt group && group >= 0) then fail "${at}: group ${toJSON group} is not a non-negative integer"
    else if group < previousGroup then fail "${at}: packages are not sorted by group"
    else if group > previousGroup + 1 then fail "${at}: group ${toString group} follows group ${toString previousGroup}; groups must be numbered without gaps"
    else if p ? archive && !isString p.archive then fail "${at}: archive is not a string"
    else group;

  checkIndex = i:
    let
      at = "index ${toJSON (i.path or null)}";
      pathProblem = badFilename (i.path or null);
    in
    if !isAttrs i then fail "an entry of \"indices\" is not an object"
    else if pathProblem != null then fail "${at}: path ${pathProblem}"
    else if !isHex64 (i.sha256 or null) then fail "${at}: sha256 ${toJSON (i.sha256 or null)} is not 64 lower-case hex digits"
    else if !isString (i.archive or null) then fail "${at}: archive is not a string"
    else null;

  checkPackages =
    if !isList packages then fail "\"packages\" is not a list"
    else if packages != [ ] && (builtins.head packages).group or null != 0 then
      fail "the first package is not in group 0"
    else foldl' checkPackage 0 packages;

  checkIndices =
    if !isList indices then fail "\"indices\" is not a list"
    else map checkIndex indices;
in
builtins.seq checkVersion (
  builtins.seq checkRequest (
    builtins.seq checkPackages (builtins.deepSeq checkIndices parsed)
  )
)
