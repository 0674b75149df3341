# A valid Nix store name for a file of an archive: the same name
# `debclosure::nix::store_name` gives, so that a lock rendered by the Nix
# library and by `debclosure nix` name the same store paths.
#
# The base name (after the last `/`) is kept, each character outside
# [A-Za-z0-9+-._?=] becomes `_` (Debian file names hold `~`, which Nix refuses),
# names longer than 211 characters keep their end, so that they still end in
# `.deb`, and then a leading `.` becomes `_`.
#
# Nix strings are bytes while the Rust side counts characters: the
# continuation bytes of a UTF-8 sequence are dropped, so that one non-ASCII
# character gives one `_` on both sides.
let
  inherit (builtins)
    elemAt
    genList
    length
    listToAttrs
    split
    stringLength
    substring
    ;

  maxLength = 211;

  bytesOf = s: genList (i: substring i 1 s) (stringLength s);

  setOf = chars: listToAttrs (map (c: { name = c; value = null; }) chars);

  allowed = setOf (bytesOf "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+-._?=");

  # The bytes 0x80-0xBF, taken from the UTF-8 encodings of U+0080-U+00BF
  # (0xC2 followed by the byte itself): Nix has no byte literals.
  hexDigits = bytesOf "0123456789abcdef";
  continuation = setOf (
    builtins.concatMap (
      high: map (low: substring 1 1 (builtins.fromJSON "\"\\u00${high}${low}\"")) hexDigits
    ) [ "8" "9" "a" "b" ]
  );

  mapByte = c:
    if allowed ? ${c} then c
    else if continuation ? ${c} then ""
    else "_";

  lastComponent = path: let parts = split "/" path; in elemAt parts (length parts - 1);
in
filename:
let
  mapped = builtins.concatStringsSep "" (map mapByte (bytesOf (lastComponent filename)));
  nonEmpty = if mapped == "" then "deb" else mapped;
  len = stringLength nonEmpty;
  # Cut first, then fix a leading `.`: the end that is kept may start with one.
  cut = if len > maxLength then substring (len - maxLength) maxLength nonEmpty else nonEmpty;
in
if substring 0 1 cut == "." then "_" + substring 1 (-1) cut else cut
