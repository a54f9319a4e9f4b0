//! Tests of the root task's boot information ([`abi::RootInfo`]) and of the initramfs it
//! describes.
//!
//! The ABI (`abi::rootinfo`, `abi::layout`): the root task starts with `rdi` =
//! `ROOT_INFO_ADDR`, a read-only page holding a `RootInfo` with the right magic and version; the
//! initramfs, a ustar archive whose first member is `init` (the root task's own ELF file), is
//! mapped read-only at `ROOT_INITRAMFS_ADDR`.
//!
//! `cargo xtask` boots Vulcan with `vulcan.boot=pvh` or `vulcan.boot=limine` on the kernel
//! command line, saying which entry it booted, so the protocol and the command line are checked
//! against what really happened. A boot by hand (the bare PVH command, no command line) cannot
//! know that: those two tests check what they can and end `skipped:`, saying so.

use sys::Boot;
use sys::abi::RootInfo;
use sys::abi::bootcaps::ROOT_CSPACE_RADIX;
use sys::abi::layout::{PAGE_SIZE, ROOT_INFO_ADDR, ROOT_INITRAMFS_ADDR, is_user_range};
use sys::abi::rootinfo::{CMDLINE_MAX, protocol};

use crate::harness::{Test, TestResult, ensure, ensure_eq, fail, ok, skip};

/// The command-line key through which xtask says which boot entry it used.
const BOOT_KEY: &str = "vulcan.boot";

pub const TESTS: &[Test] = &[
    Test::new("root_info_address", address),
    Test::new("root_info_valid", valid),
    Test::new("root_info_boot_protocol", boot_protocol),
    Test::new("root_info_memory", memory),
    Test::new("root_info_tsc", tsc),
    Test::new("root_info_cmdline", cmdline),
    Test::new("root_info_cspace_radix", cspace_radix),
    Test::new("root_info_memory_quota", memory_quota),
    Test::new("initramfs_location", initramfs_location),
    Test::new("initramfs_first_member_is_init", first_member_is_init),
    Test::new("initramfs_fully_mapped", initramfs_fully_mapped),
];

/// Size of a ustar header block.
const BLOCK: usize = 512;

/// The checked root info, or the failure saying why there is none.
fn info(boot: &Boot) -> Result<&'static RootInfo, crate::harness::Reason> {
    match boot.check_root_info() {
        Ok(info) => Ok(info),
        Err(why) => Err(crate::harness::reason(format_args!("no root info: {why}"))),
    }
}

/// The mapped initramfs, or the failure saying why there is none.
fn initramfs(boot: &Boot) -> Result<&'static [u8], crate::harness::Reason> {
    let info = info(boot)?;
    match boot.initramfs() {
        Some(archive) => Ok(archive),
        None => Err(crate::harness::reason(format_args!(
            "no usable initramfs: addr {:#x}, len {}",
            info.initramfs_addr, info.initramfs_len
        ))),
    }
}

fn address(boot: &Boot) -> TestResult {
    let arg = boot.arg();
    ensure!(arg == ROOT_INFO_ADDR, "start argument (rdi) is {arg:#x}, not ROOT_INFO_ADDR {ROOT_INFO_ADDR:#x}");
    Ok(())
}

fn valid(boot: &Boot) -> TestResult {
    info(boot)?;
    Ok(())
}

/// The protocol the kernel recorded is the one xtask booted.
fn boot_protocol(boot: &Boot) -> TestResult {
    let p = info(boot)?.boot_protocol;
    ensure!(p == protocol::PVH || p == protocol::LIMINE, "boot_protocol is {p}, not PVH (0) or Limine (1)");
    let expected = match boot.cmdline_value(BOOT_KEY) {
        Some("pvh") => protocol::PVH,
        Some("limine") => protocol::LIMINE,
        Some(other) => fail!("{BOOT_KEY}={other} on the command line is neither pvh nor limine"),
        None => skip!("no {BOOT_KEY}= on the command line (a boot by hand): boot_protocol {p} is only known valid"),
    };
    ensure_eq!(p, expected, "boot_protocol (0 PVH, 1 Limine) against {BOOT_KEY}");
    Ok(())
}

fn memory(boot: &Boot) -> TestResult {
    let info = info(boot)?;
    let (total, free) = (info.mem_total, info.mem_free);
    ensure!(total > 0, "mem_total is 0");
    ensure!(free > 0, "mem_free is 0: nothing left for the root task");
    ensure!(free <= total, "mem_free {free} exceeds mem_total {total}");
    Ok(())
}

/// The kernel measured the TSC (every machine Vulcan boots on has a reference clock) and the
/// value is one a CPU can have: not a timing test, a check that calibration worked.
fn tsc(boot: &Boot) -> TestResult {
    let hz = info(boot)?.tsc_hz;
    ensure!(
        (100_000_000..=10_000_000_000).contains(&hz),
        "tsc_hz {hz} is not between 100 MHz and 10 GHz (0: the kernel could not calibrate it)"
    );
    Ok(())
}

/// The command line arrives whole: xtask's `vulcan.boot=` word is there, with one of its two
/// values, whichever entry the kernel came through.
fn cmdline(boot: &Boot) -> TestResult {
    let info = info(boot)?;
    let len = info.cmdline_len;
    ensure!(len <= CMDLINE_MAX as u64, "cmdline_len {len} exceeds CMDLINE_MAX {CMDLINE_MAX}");
    let line = boot.cmdline();
    ensure_eq!(line.len() as u64, len, "length of the command line as UTF-8 text ({line:?}) against cmdline_len");
    match boot.cmdline_value(BOOT_KEY) {
        Some("pvh" | "limine") => Ok(()),
        Some(other) => fail!("{BOOT_KEY}={other} in the command line {line:?}"),
        None => skip!("no {BOOT_KEY}= on the command line {line:?} (a boot by hand): only its length was checked"),
    }
}

/// Version 2 tells the root task its CSpace's radix, which `abi::bootcaps` fixes.
fn cspace_radix(boot: &Boot) -> TestResult {
    let radix = info(boot)?.cspace_radix;
    ensure_eq!(radix, ROOT_CSPACE_RADIX as u64, "cspace_radix");
    Ok(())
}

/// The quota reported is the root Memory's quota, nonzero, and no more than the RAM there is.
fn memory_quota(boot: &Boot) -> TestResult {
    let info = info(boot)?;
    let quota = info.memory_quota;
    let mem = ok!(sys::root::memory().info(), "memory_info(root Memory)");
    ensure_eq!(mem.quota as u64, quota, "root Memory quota (memory_info) against RootInfo::memory_quota");
    ensure!(quota > 0, "memory_quota is 0");
    let total_pages = info.mem_total / PAGE_SIZE as u64;
    ensure!(quota <= total_pages, "memory_quota {quota} pages exceeds mem_total {total_pages} pages");
    ensure!(mem.used <= mem.quota, "root Memory used {} exceeds its quota {}", mem.used, mem.quota);
    Ok(())
}

fn initramfs_location(boot: &Boot) -> TestResult {
    let info = info(boot)?;
    let addr = info.initramfs_addr;
    ensure!(
        addr == ROOT_INITRAMFS_ADDR as u64,
        "initramfs_addr is {addr:#x}, not ROOT_INITRAMFS_ADDR {ROOT_INITRAMFS_ADDR:#x}"
    );
    let len = info.initramfs_len;
    ensure!(len >= 2 * BLOCK as u64, "initramfs_len {len} is too short for a ustar archive");
    ensure!(len % BLOCK as u64 == 0, "initramfs_len {len} is not a whole number of 512-byte blocks");
    ensure!(
        is_user_range(ROOT_INITRAMFS_ADDR, len as usize),
        "initramfs [{ROOT_INITRAMFS_ADDR:#x}, +{len}) leaves the user half"
    );
    Ok(())
}

/// Parses a NUL- or space-terminated octal field of a ustar header.
fn octal(field: &[u8]) -> Option<u64> {
    let mut value: u64 = 0;
    let mut digits = 0;
    for &b in field.iter().skip_while(|&&b| b == b' ') {
        match b {
            b'0'..=b'7' => {
                value = value.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
                digits += 1;
            }
            b'\0' | b' ' => break,
            _ => return None,
        }
    }
    (digits > 0).then_some(value)
}

/// The first header names `init`, is a valid ustar header (magic and checksum), and its data is
/// an ELF file that fits in the archive.
fn first_member_is_init(boot: &Boot) -> TestResult {
    let archive = initramfs(boot)?;
    ensure!(archive.len() >= BLOCK, "initramfs is {} bytes, shorter than one header", archive.len());
    let header = &archive[..BLOCK];
    ensure_eq!(&header[257..262], b"ustar", "magic at offset 257 of the first header");
    let name_len = header[..100].iter().position(|&b| b == 0).unwrap_or(100);
    ensure_eq!(
        &header[..name_len],
        b"init",
        "name of the first member (as text: {:?})",
        core::str::from_utf8(&header[..name_len]).unwrap_or("<not UTF-8>")
    );
    ensure!(header[345] == 0, "first member has a name prefix; expected plain \"init\"");
    let Some(stored) = octal(&header[148..156]) else {
        fail!("checksum field {:?} is not octal", &header[148..156]);
    };
    let computed: u64 = header
        .iter()
        .enumerate()
        .map(|(i, &b)| if (148..156).contains(&i) { u64::from(b' ') } else { u64::from(b) })
        .sum();
    ensure_eq!(computed, stored, "header checksum (computed, stored)");
    let typeflag = header[156];
    ensure!(typeflag == b'0' || typeflag == 0, "init has typeflag {typeflag:#x}, not a regular file");
    let Some(size) = octal(&header[124..136]) else {
        fail!("size field {:?} is not octal", &header[124..136]);
    };
    ensure!(
        size >= 4 && size <= (archive.len() - BLOCK) as u64,
        "init's size {size} does not fit in the {}-byte archive",
        archive.len()
    );
    ensure_eq!(&archive[BLOCK..BLOCK + 4], b"\x7fELF", "first bytes of init");
    Ok(())
}

/// Reads one byte of every page of the initramfs, first and last byte included. A page that is
/// not mapped faults the root task, which fails the run.
fn initramfs_fully_mapped(boot: &Boot) -> TestResult {
    let archive = initramfs(boot)?;
    let mut sum: u64 = 0;
    for page in archive.chunks(PAGE_SIZE) {
        sum = sum.wrapping_add(u64::from(page[0]));
    }
    if let Some(&last) = archive.last() {
        sum = sum.wrapping_add(u64::from(last));
    }
    core::hint::black_box(sum);
    Ok(())
}
