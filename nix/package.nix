# The debclosure command, built from this repository.
{ lib, rustPlatform }:
let
  root = ../.;
  rootString = toString root;
  cargoToml = builtins.fromTOML (builtins.readFile ../Cargo.toml);

  # Only what `cargo build` reads, so that editing tests, examples or nix/
  # does not rebuild the tool.
  keep = path: _type:
    let rel = builtins.substring (builtins.stringLength rootString + 1) (-1) (toString path); in
    rel == "Cargo.toml" || rel == "Cargo.lock" || rel == "src" || builtins.substring 0 4 rel == "src/";
in
rustPlatform.buildRustPackage {
  pname = "debclosure";
  inherit (cargoToml.package) version;

  src = builtins.path {
    path = root;
    name = "debclosure-source";
    filter = keep;
  };

  cargoLock.lockFile = ../Cargo.lock;

  # The test suite needs what a Nix build does not have: it runs apt-get,
  # dpkg, dose-distcheck and nix itself, and serves archives on 127.0.0.1.
  # Run it with `scripts/test` (or `nix develop -c scripts/test`) instead.
  doCheck = false;

  meta = {
    description = "Deterministic dependency closures of Debian and Ubuntu package lists, pinned for Nix-built VM images";
    license = [ lib.licenses.mit lib.licenses.asl20 ];
    mainProgram = "debclosure";
    platforms = lib.platforms.linux;
  };
}
