{
  description = "Perihelion: a capability-based microkernel for x86_64, in Rust";

  # Pinned in flake.lock (docs/nix.md says which revision, why, and how to move it). Its rustc
  # (1.95) is the workspace's rust-version, and evaluation checks that the two agree.
  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-26.05";

  # No build logic lives here: every derivation runs `cargo xtask`, as CI and the README do,
  # with the tools and paths it needs.
  outputs =
    { self, nixpkgs }:
    let
      system = "x86_64-linux";
      pkgs = nixpkgs.legacyPackages.${system};
      inherit (pkgs) lib;

      # The MSRV is the rustc of the pinned nixpkgs: a re-pin that brings another rustc has to
      # move `rust-version` in Cargo.toml with it (and the docs), or evaluation stops here.
      msrv = (builtins.fromTOML (builtins.readFile ./Cargo.toml)).workspace.package.rust-version;
      rustc =
        assert lib.assertMsg (
          lib.versions.majorMinor pkgs.rustc.version == lib.versions.majorMinor msrv
          && lib.versionAtLeast pkgs.rustc.version msrv
        ) "rustc ${pkgs.rustc.version} is not Cargo.toml's rust-version ${msrv} (docs/nix.md)";
        pkgs.rustc;

      # nixpkgs' Limine (12.x) builds its CD boot files only when asked (BIOS support is on by
      # default, and with it the BIOS CD files).
      limine = pkgs.limine.override { buildCDs = true; };
      qemu = pkgs.qemu_kvm;

      # Where xtask looks for Limine's boot files and for UEFI firmware.
      paths = {
        LIMINE_DIR = "${limine}/share/limine";
        OVMF_FD = "${pkgs.OVMF.fd}/FV/OVMF.fd";
      };

      # Everything `cargo xtask` runs (the `limine` tool is found on PATH).
      tools = [
        pkgs.cargo
        rustc
        pkgs.rustfmt
        pkgs.clippy
        qemu
        pkgs.xorriso
        limine
      ];

      src = lib.cleanSourceWith {
        src = lib.cleanSource ./.;
        filter = path: type: !(type == "directory" && baseNameOf path == "target");
      };

      # One derivation: `cargo xtask <command>` on the sources, the crates vendored from
      # Cargo.lock (no network), then `install` (a shell snippet) fills $out.
      xtask =
        name: command: install:
        pkgs.stdenv.mkDerivation (
          paths
          // {
            inherit name src;
            cargoDeps = pkgs.rustPlatform.importCargoLock { lockFile = ./Cargo.lock; };
            nativeBuildInputs = tools ++ [ pkgs.rustPlatform.cargoSetupHook ];
            # The kernel and the user programs are static -nostdlib links: none of the C
            # compiler wrapper's hardening flags (PIE, stack protector, ...) may reach them.
            hardeningDisable = [ "all" ];
            buildPhase = ''
              runHook preBuild
              export HOME=$TMPDIR
              cargo xtask ${command}
              runHook postBuild
            '';
            installPhase = ''
              runHook preInstall
              mkdir -p $out
              ${install}
              runHook postInstall
            '';
            # The images are exactly what xtask made: nothing to strip or patch.
            dontFixup = true;
          }
        );

      # `cargo xtask test` on some parts, under TCG: it fails on a failed test, a failed boot
      # or a boot without its summary line.
      check = parts: xtask "perihelion-check-${parts}" "test --only ${parts} --timeout 600" "";

      # Everything `cargo xtask iso` makes, and the xtask binary that boots it for the apps.
      images = xtask "perihelion-images" "iso" ''
        cp -r target/perihelion/{kernel.elf,initramfs.tar,vulcan.tar,fixtures,perihelion.iso,vulcan.iso} $out/
        install -Dm755 target/debug/xtask $out/bin/xtask
      '';

      # A package holding some of the images.
      pick =
        name: files:
        pkgs.runCommand name { } ''
          mkdir -p $out
          ${lib.concatMapStringsSep "\n" (file: "cp ${images}/${file} $out/") files}
        '';

      # `xtask run` on the images: serial on this terminal, KVM only if xtask's probe boot
      # shows that it works here, else TCG. Arguments are passed on (e.g. `-- --vulcan`).
      app = name: flags: description: {
        type = "app";
        program = lib.getExe (
          pkgs.writeShellApplication {
            name = "perihelion-${name}";
            runtimeInputs = [ qemu ];
            text = ''
              export OVMF_FD=${paths.OVMF_FD}
              exec ${images}/bin/xtask run --images ${images} --kvm ${flags} "$@"
            '';
          }
        );
        meta.description = description;
      };
    in
    {
      packages.${system} = rec {
        iso = pick "perihelion-iso" [ "perihelion.iso" ];
        default = iso;
        vulcan-iso = pick "perihelion-vulcan-iso" [ "vulcan.iso" ];
        kernel = pick "perihelion-kernel" [
          "kernel.elf"
          "initramfs.tar"
          "vulcan.tar"
        ];
      };

      checks.${system} = {
        host-tests = check "host-tests";
        boots = check "boots";
        clippy = check "clippy";
        rustfmt = check "rustfmt";
      };

      apps.${system} = {
        default = app "run" "--iso" "Boot perihelion.iso in QEMU under SeaBIOS";
        uefi = app "run-uefi" "--uefi" "Boot perihelion.iso in QEMU under OVMF";
      };

      devShells.${system}.default = pkgs.mkShell (
        paths
        // {
          packages = tools ++ [ pkgs.gdb ];
          hardeningDisable = [ "all" ];
        }
      );

      formatter.${system} = pkgs.nixfmt-tree;
    };
}
