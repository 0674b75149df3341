{
  description = "debclosure: deterministic dependency closures of Debian and Ubuntu package lists, pinned for vmTools.fillDiskWithDebs";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-25.11";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];

      forAllSystems = f:
        builtins.listToAttrs (map
          (system: {
            name = system;
            value = f system nixpkgs.legacyPackages.${system};
          })
          systems);

      # The tool for a package set: the one this flake builds (with its pinned
      # nixpkgs, whose Rust is known to build it) when the system is one of
      # ours, else built with the given package set.
      toolFor = pkgs:
        let system = pkgs.stdenv.hostPlatform.system; in
        if builtins.elem system systems
        then self.packages.${system}.default
        else pkgs.callPackage ./nix/package.nix { };
    in
    {
      packages = forAllSystems (system: pkgs: rec {
        debclosure = pkgs.callPackage ./nix/package.nix { };
        default = debclosure;
      });

      apps = forAllSystems (system: pkgs: {
        default = {
          type = "app";
          program = "${self.packages.${system}.default}/bin/debclosure";
          meta.description = "Resolve, lock and check Debian and Ubuntu package closures";
        };
      });

      # `debclosure` (the tool) and `debclosureLib` (nix/, wired to the
      # overlaid package set and that tool).
      overlays.default = final: prev: {
        debclosure = final.callPackage ./nix/package.nix { };
        debclosureLib = import ./nix {
          pkgs = final;
          inherit (final) debclosure;
        };
      };

      # The nix/ library for any package set: `debclosure.lib pkgs`.
      lib = pkgs: import ./nix {
        inherit pkgs;
        debclosure = toolFor pkgs;
      };

      devShells = forAllSystems (system: pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${system}.default ];
          # What scripts/test uses besides cargo (nix-instantiate comes from
          # the Nix running this shell; dose-distcheck from the host, when
          # present: tests that need it skip without it unless CI is set).
          packages = [
            pkgs.cargo
            pkgs.rustc
            pkgs.clippy
            pkgs.rustfmt
            pkgs.apt
            pkgs.dpkg
            pkgs.xz
          ];
        };
      });

      checks = forAllSystems (system: pkgs: {
        package = self.packages.${system}.default;
        debsFromLock = import ./nix/checks/debs-from-lock.nix {
          inherit pkgs;
          debclosureLib = self.lib pkgs;
          lock = ./tests/fixtures/nix/bookworm.lock;
          expected = ./tests/fixtures/nix/bookworm.expected.nix;
        };
      });
    };
}
