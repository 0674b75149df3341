# Flake check: render what `debsFromLock` fetches for a fixture lock in the
# text `debclosure nix` writes (`urls` style, no header) and compare it with
# an expected file, so that the Nix library and the Rust generator stay in
# step (tests/nix_lib.rs checks the expected file against the Rust side).
#
# The fetchurl derivations themselves are instantiated too (not built), so
# that the package set's fetchurl accepts every name and hash.
{ pkgs, debclosureLib, lock, expected }:
let
  specs = debclosureLib.fetchSpecsFromLock { inherit lock; };
  debs = debclosureLib.debsFromLock { inherit lock; };

  nixString = s:
    "\"" + builtins.replaceStrings
      [ "\\" "\"" "$" "\n" "\r" "\t" ]
      [ "\\\\" "\\\"" "\\$" "\\n" "\\r" "\\t" ]
      s + "\"";

  renderSpec = spec:
    "    (fetchurl {\n"
    + "      urls = [\n"
    + builtins.concatStringsSep "" (map (url: "        ${nixString url}\n") spec.urls)
    + "      ];\n"
    + "      sha256 = ${nixString spec.sha256};\n"
    + "      name = ${nixString spec.name};\n"
    + "    })\n";

  renderGroup = group: "  [\n" + builtins.concatStringsSep "" (map renderSpec group) + "  ]\n";

  rendered = "{ fetchurl }:\n[\n" + builtins.concatStringsSep "" (map renderGroup specs) + "]\n";

  namesAgree = map (map (d: d.name)) debs == map (map (s: s.name)) specs;
  instantiated = builtins.deepSeq (map (map (d: d.drvPath)) debs) true;
in
assert namesAgree;
assert instantiated;
pkgs.runCommand "debclosure-check-debs-from-lock"
  {
    inherit rendered expected;
    passAsFile = [ "rendered" ];
  }
  ''
    if diff -u "$expected" "$renderedPath"; then
      touch "$out"
    else
      echo "debsFromLock renders differently from $expected (diff above)" >&2
      exit 1
    fi
  ''
