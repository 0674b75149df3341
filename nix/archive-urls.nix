# The URLs of files of an archive, as a lock names them: for each URL prefix
# of the archive, in the lock's order, `<prefix>/<path>` for each of `paths`.
#
# `lock` is a parsed lock (see read-lock.nix), `archive` an archive name
# (`debian`, `debian-security`, `ubuntu`), `paths` archive-relative paths.
# Prefixes come from `request.url_prefixes`; the distribution's main archive
# defaults to nixpkgs' mirror scheme (`mirror://debian`, `mirror://ubuntu`).
let
  trimTrailingSlashes = s:
    let len = builtins.stringLength s; in
    if len > 0 && builtins.substring (len - 1) 1 s == "/"
    then trimTrailingSlashes (builtins.substring 0 (len - 1) s)
    else s;
in
lock: archive: paths:
let
  distribution = lock.request.distribution;
  given = lock.request.url_prefixes or { };
  prefixes =
    if given ? ${archive} then given.${archive}
    else if archive == distribution then [ "mirror://${distribution}" ]
    else throw "debclosure lock: no URL prefix for archive ${builtins.toJSON archive}; add it to the spec's [url-prefixes] table (e.g. ${archive} = [\"https://...\"]) and write the lock again";
in
if !builtins.isList prefixes || prefixes == [ ] || !builtins.all builtins.isString prefixes then
  throw "debclosure lock: request.url_prefixes.${builtins.toJSON archive} must be a non-empty list of strings"
else
  builtins.concatMap (prefix: map (path: trimTrailingSlashes prefix + "/" + path) paths) prefixes
