//! Tests of the root task's start page ([`abi::start`]), its boot information ([`abi::RootInfo`])
//! and the initramfs it describes.
//!
//! The ABI (`abi::start`, `abi::rootinfo`, `abi::layout`): the root task starts with `rdi` =
//! `START_INFO_ADDR`, a read-only start page naming its capabilities (each slot and kind as
//! `abi::bootcaps` lays them out), its arguments (`init`), no environment, its stack, and carrying
//! a `RootInfo` with the right magic and version; the initramfs, a ustar archive whose first
//! member is `init` (the root task's own ELF file), is mapped read-only at `ROOT_INITRAMFS_ADDR`.
//!
//! `cargo xtask` boots Vulcan with `vulcan.boot=pvh` or `vulcan.boot=limine` on the kernel
//! command line, saying which entry it booted, so the protocol and the command line are checked
//! against what really happened. A boot by hand (the bare PVH command, no command line) cannot
//! know that: those two tests check what they can and end `skipped:`, saying so.

use sys::abi::RootInfo;
use sys::abi::bootcaps::{
    FIRST_FREE, ROOT_CSPACE, ROOT_CSPACE_RADIX, ROOT_DEBUG_CONSOLE, ROOT_DEVICE_CONTROL, ROOT_IOPORT_CONTROL,
    ROOT_IRQ_CONTROL, ROOT_MEMORY, ROOT_TASK, ROOT_VSPACE,
};
use sys::abi::layout::{
    PAGE_SIZE, ROOT_INITRAMFS_ADDR, ROOT_STACK_SIZE, ROOT_STACK_TOP, START_INFO_ADDR, is_user_range,
};
use sys::abi::rootinfo::{CMDLINE_MAX, Framebuffer, protocol};
use sys::abi::start::Reader;
use sys::{Boot, Cap, Kind};

use crate::harness::{Test, TestResult, ensure, ensure_eq, fail, ok, skip};

/// The command-line key through which xtask says which boot entry it used.
const BOOT_KEY: &str = "vulcan.boot";

pub const TESTS: &[Test] = &[
    Test::new("start_page_address", address),
    Test::new("start_page_valid", start_valid),
    Test::new("start_page_capabilities", start_capabilities),
    Test::new("start_page_args_env_stack", start_args_env_stack),
    Test::new("root_info_valid", valid),
    Test::new("root_info_boot_protocol", boot_protocol),
    Test::new("root_info_memory", memory),
    Test::new("root_info_tsc", tsc),
    Test::new("root_info_cmdline", cmdline),
    Test::new("root_info_cspace_radix", cspace_radix),
    Test::new("root_info_memory_quota", memory_quota),
    Test::new("root_info_framebuffer", framebuffer),
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
    ensure!(arg == START_INFO_ADDR, "start argument (rdi) is {arg:#x}, not START_INFO_ADDR {START_INFO_ADDR:#x}");
    Ok(())
}

fn valid(boot: &Boot) -> TestResult {
    info(boot)?;
    Ok(())
}

/// The start page, or the failure saying why there is none.
fn start(boot: &Boot) -> Result<Reader<'static>, crate::harness::Reason> {
    match boot.check_start() {
        Ok(r) => Ok(r),
        Err(why) => Err(crate::harness::reason(format_args!("no start page: {why}"))),
    }
}

/// The page parses, is marked the root task's, and its `RootInfo` lies inside it.
fn start_valid(boot: &Boot) -> TestResult {
    let r = start(boot)?;
    ensure!(r.is_root(), "the root task's start page is not marked as the root task's");
    let (offset, len) = r.root_info_range().unwrap_or((0, 0));
    ensure!(offset >= 72 && offset + len <= PAGE_SIZE, "RootInfo at {offset}+{len} is not inside the page");
    ensure_eq!(r.header().cspace_radix, ROOT_CSPACE_RADIX as u32, "start page's CSpace radix");
    ensure_eq!(r.header().first_free, FIRST_FREE as u32, "start page's first free slot");
    Ok(())
}

/// The capabilities the start page names are exactly the boot capabilities, by name, slot and
/// kind, and each slot holds what the page says; `Boot`'s typed accessors find them.
fn start_capabilities(boot: &Boot) -> TestResult {
    let r = start(boot)?;
    let expected: [(&str, usize, Kind); 8] = [
        ("cspace", ROOT_CSPACE, Kind::CSpace),
        ("memory", ROOT_MEMORY, Kind::Memory),
        ("console", ROOT_DEBUG_CONSOLE, Kind::DebugConsole),
        ("irq-control", ROOT_IRQ_CONTROL, Kind::IrqControl),
        ("ioport-control", ROOT_IOPORT_CONTROL, Kind::IoPortControl),
        ("device-control", ROOT_DEVICE_CONTROL, Kind::DeviceControl),
        ("task", ROOT_TASK, Kind::Task),
        ("vspace", ROOT_VSPACE, Kind::VSpace),
    ];
    ensure_eq!(r.caps().count(), expected.len(), "capabilities named in the start page");
    for ((name, slot, kind), got) in expected.into_iter().zip(r.caps()) {
        ensure_eq!(got.name(), name, "name of the capability in slot {slot}");
        ensure_eq!((got.slot as usize, got.kind), (slot, kind as u32), "{name}: (slot, kind)");
        let id = ok!(Cap::new(slot).identify(), "cap_identify({slot}) ({name})");
        ensure_eq!(id.kind, Ok(kind), "what slot {slot} ({name}) holds");
    }
    ensure_eq!(boot.memory().map(|m| m.slot()), Some(ROOT_MEMORY), "Boot::memory");
    ensure_eq!(boot.cspace().map(|c| c.slot()), Some(ROOT_CSPACE), "Boot::cspace");
    ensure_eq!(boot.vspace().map(|v| v.slot()), Some(ROOT_VSPACE), "Boot::vspace");
    ensure_eq!(boot.task().map(|t| t.slot()), Some(ROOT_TASK), "Boot::task");
    ensure_eq!(boot.console().map(|c| c.slot()), Some(ROOT_DEBUG_CONSOLE), "Boot::console");
    ensure_eq!(boot.cap("no-such-name"), None, "Boot::cap of a name not on the page");
    Ok(())
}

/// `argv` is `["init"]`, the environment empty, and the stack the page names is the one this
/// test runs on.
fn start_args_env_stack(boot: &Boot) -> TestResult {
    let r = start(boot)?;
    let mut args = boot.args();
    ensure_eq!((args.next(), args.next()), (Some("init"), None), "arguments");
    ensure_eq!(r.env().count(), 0, "environment strings");
    ensure_eq!(boot.env_var("PATH"), None, "env_var(PATH)");
    let h = r.header();
    ensure_eq!((h.stack_top, h.stack_size), (ROOT_STACK_TOP as u64, ROOT_STACK_SIZE as u64), "stack (top, size)");
    let here = core::ptr::from_ref(&r).addr() as u64;
    ensure!(
        here < h.stack_top && here >= h.stack_top - h.stack_size,
        "a local at {here:#x} is not inside the stack the page names"
    );
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

/// A PVH boot has no framebuffer (every field 0); a Limine boot on QEMU's VGA has one, and its
/// fields agree with each other: a line holds `width` pixels of `bpp` bits, each colour's mask
/// lies inside the pixel, the colours do not overlap, and it starts on a page boundary.
fn framebuffer(boot: &Boot) -> TestResult {
    let fb = info(boot)?.framebuffer;
    match boot.cmdline_value(BOOT_KEY) {
        Some("pvh") => {
            ensure_eq!(fb, Framebuffer::NONE, "the framebuffer of a PVH boot");
            return Ok(());
        }
        Some("limine") => ensure!(fb.is_present(), "a Limine boot on QEMU's VGA has no framebuffer: {fb:?}"),
        Some(other) => fail!("{BOOT_KEY}={other} on the command line is neither pvh nor limine"),
        None if !fb.is_present() => skip!("no {BOOT_KEY}= on the command line (a boot by hand) and no framebuffer"),
        None => {}
    }
    ensure!(fb.addr.is_multiple_of(4096), "framebuffer address {:#x} is not page-aligned", fb.addr);
    ensure!([16, 24, 32].contains(&fb.bpp), "framebuffer bpp {}", fb.bpp);
    ensure!(fb.width > 0 && fb.height > 0, "framebuffer of {}x{}", fb.width, fb.height);
    ensure!(
        u64::from(fb.pitch) >= u64::from(fb.width) * u64::from(fb.bpp) / 8,
        "pitch {} is shorter than a line of {} pixels of {} bits",
        fb.pitch,
        fb.width,
        fb.bpp
    );
    let mut used = 0u64;
    for (colour, pair) in ["red", "green", "blue"].iter().zip(fb.format.chunks(2)) {
        let (size, shift) = (u32::from(pair[0]), u32::from(pair[1]));
        ensure!(size > 0 && size + shift <= fb.bpp, "{colour} mask {size} bits at {shift} in {} bpp", fb.bpp);
        let mask = ((1u64 << size) - 1) << shift;
        ensure!(used & mask == 0, "{colour} mask overlaps another colour: {:?}", fb.format);
        used |= mask;
    }
    ensure_eq!(&fb.format[6..], &[0, 0], "the unused format bytes");
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
