//! `cargo xtask iso`: hybrid BIOS + UEFI ISO images booted through Limine (design §3).
//!
//! Each image holds `boot/kernel.elf`, `boot/initramfs.tar` (the normal system's or Vulcan's),
//! `boot/limine/` (configuration and BIOS files) and `EFI/BOOT/BOOTX64.EFI`. xorriso builds it,
//! then `limine bios-install` makes it bootable from BIOS. Every date xorriso records is the
//! source date (see [`crate::workspace::source_date_epoch`]) and the volume id is fixed, so the
//! same inputs give the same image.

use std::fs;
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, anyhow};

use crate::build::{self, Output};
use crate::limine::Limine;
use crate::workspace::{self, Workspace};

/// `boot/limine/limine.conf`, with the kernel command line `cmdline` (none if empty). Limine 8.x
/// reads the kernel from `kernel_path:` and ignores `path:`; 9.x and later read `path:` (12.x
/// keeps `kernel_path:` as an alias it looks at only when `path:` is absent), so both are
/// written, with the same value. `timeout: 0`, `serial: yes`, `protocol: limine`,
/// `module_path:` and `cmdline:` mean the same from 8.x to 12.x; `serial: yes` sends Limine's
/// own output to COM1 too. `docs/nix.md` says how each Limine version was checked.
pub fn limine_conf(cmdline: &str) -> String {
    let mut conf = "\
timeout: 0
serial: yes

/Perihelion
    protocol: limine
    path: boot():/boot/kernel.elf
    kernel_path: boot():/boot/kernel.elf
    module_path: boot():/boot/initramfs.tar
"
    .to_string();
    if !cmdline.is_empty() {
        conf.push_str(&format!("    cmdline: {cmdline}\n"));
    }
    conf
}

/// The ISO 9660 volume id.
const VOLUME_ID: &str = "PERIHELION";

/// Builds `perihelion.iso` (normal initramfs) and `vulcan.iso` (Vulcan) from the outputs of
/// [`crate::build::build`]. xorriso and `limine` are chatty: their output is shown only if they
/// fail.
pub fn build_isos(ws: &Workspace, limine: &Limine) -> Result<()> {
    let xorriso = workspace::find_on_path("xorriso")
        .ok_or_else(|| anyhow!("xorriso not found: install it (apt-get install xorriso)"))?;
    // xorriso reads a time of 0 as "no time given" and stamps the image with the current time,
    // so the ISO dates start at 1 s past the epoch at the earliest.
    let epoch = ws.source_date_epoch()?.max(1);
    let vulcan_cmdline = crate::qemu::vulcan_cmdline("limine");
    for (name, initramfs, cmdline) in
        [("perihelion", ws.initramfs_tar(), ""), ("vulcan", ws.vulcan_tar(), vulcan_cmdline.as_str())]
    {
        let tree = ws.out_dir().join("iso-root").join(name);
        stage(ws, limine, &initramfs, &tree, cmdline)?;
        let iso = ws.iso(name);
        make_iso(&xorriso, limine, &tree, &iso, epoch).with_context(|| format!("building {}", iso.display()))?;
    }
    Ok(())
}

/// Lays out the ISO's file tree in `tree`, replacing whatever was there.
fn stage(ws: &Workspace, limine: &Limine, initramfs: &Path, tree: &Path, cmdline: &str) -> Result<()> {
    if tree.exists() {
        fs::remove_dir_all(tree).with_context(|| format!("removing {}", tree.display()))?;
    }
    let boot = tree.join("boot");
    let limine_dir = boot.join("limine");
    let efi = tree.join("EFI").join("BOOT");
    for dir in [&limine_dir, &efi] {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let copies = [
        (ws.kernel_elf(), boot.join("kernel.elf")),
        (initramfs.to_path_buf(), boot.join("initramfs.tar")),
        (limine.dir.join("limine-bios.sys"), limine_dir.join("limine-bios.sys")),
        (limine.dir.join("limine-bios-cd.bin"), limine_dir.join("limine-bios-cd.bin")),
        (limine.dir.join("limine-uefi-cd.bin"), limine_dir.join("limine-uefi-cd.bin")),
        (limine.dir.join("BOOTX64.EFI"), efi.join("BOOTX64.EFI")),
    ];
    for (from, to) in copies {
        fs::copy(&from, &to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    }
    let conf = limine_dir.join("limine.conf");
    fs::write(&conf, limine_conf(cmdline)).with_context(|| format!("writing {}", conf.display()))
}

/// xorriso, then `limine bios-install`.
fn make_iso(xorriso: &Path, limine: &Limine, tree: &Path, iso: &Path, epoch: u64) -> Result<()> {
    if iso.exists() {
        fs::remove_file(iso).with_context(|| format!("removing {}", iso.display()))?;
    }
    build::run(xorriso_command(xorriso, tree, iso, epoch), Output::OnFailure)?;
    let mut install = Command::new(&limine.tool);
    install.arg("bios-install").arg(iso);
    build::run(install, Output::OnFailure)
}

/// The xorriso command line: the layout Limine documents for a hybrid ISO, plus fixed dates.
fn xorriso_command(xorriso: &Path, tree: &Path, iso: &Path, epoch: u64) -> Command {
    let date = iso_timestamp(epoch);
    let mut cmd = Command::new(xorriso);
    // With SOURCE_DATE_EPOCH set, xorriso also derives the GPT disk GUID from the date and
    // stamps nodes it makes itself (directories, the boot catalog) with it.
    cmd.env("SOURCE_DATE_EPOCH", epoch.to_string());
    cmd.args(["-as", "mkisofs", "-R", "-r", "-J"]);
    cmd.args(["-b", "boot/limine/limine-bios-cd.bin"]);
    cmd.args(["-no-emul-boot", "-boot-load-size", "4", "-boot-info-table"]);
    cmd.args(["-hfsplus", "-apm-block-size", "2048"]);
    cmd.args(["--efi-boot", "boot/limine/limine-uefi-cd.bin"]);
    cmd.args(["-efi-boot-part", "--efi-boot-image", "--protective-msdos-label"]);
    cmd.args(["-volid", VOLUME_ID]);
    cmd.arg(format!("--modification-date={date}"));
    cmd.args(["--set_all_file_dates", &date]);
    cmd.arg(tree).arg("-o").arg(iso);
    cmd
}

/// `YYYYMMDDhhmmss00` (UTC) for a Unix time, the form of `--modification-date=`.
fn iso_timestamp(epoch: u64) -> String {
    let days = epoch / 86_400;
    let secs = epoch % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}{month:02}{day:02}{:02}{:02}{:02}00", secs / 3600, secs / 60 % 60, secs % 60)
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(iso_timestamp(0), "1970010100000000");
        assert_eq!(iso_timestamp(951_782_400), "2000022900000000");
        assert_eq!(iso_timestamp(1_700_000_000), "2023111422132000");
        assert_eq!(iso_timestamp(1_709_251_199), "2024022923595900");
    }

    #[test]
    fn conf_has_both_generations_of_keys() {
        for key in [
            "timeout: 0",
            "protocol: limine",
            "path: boot():/boot/kernel.elf",
            "kernel_path: boot():/boot/kernel.elf",
            "module_path: boot():/boot/initramfs.tar",
        ] {
            assert!(limine_conf("").lines().any(|l| l.trim() == key), "{key}");
        }
        assert!(!limine_conf("").contains("cmdline"));
        assert!(limine_conf("a=b c").lines().any(|l| l.trim() == "cmdline: a=b c"));
    }
}
