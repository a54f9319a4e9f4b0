//! The Xen PVH entry: `hvm_start_info` (version 1: memory map, modules, command line, RSDP)
//! turned into the [`BootInfo`].
//!
//! The 32-bit stub in `arch::entry` maps the first 4 GiB at the PVH direct-map offset; every
//! structure QEMU passes lies below 4 GiB, and each read is checked to stay there, so a bad
//! start-info block ends boot with a message instead of a fault.

use core::mem::size_of;

use super::{BootInfo, MemKind, PhysRange, Protocol};
use crate::arch::entry::{KERNEL_VMA, PVH_DIRECT_MAP};
use crate::sync::RacyCell;

const START_INFO_MAGIC: u32 = 0x336e_c578;
const MAPPED_LIMIT: u64 = 1 << 32;

#[repr(C)]
#[derive(Copy, Clone)]
struct StartInfo {
    magic: u32,
    version: u32,
    flags: u32,
    nr_modules: u32,
    modlist_paddr: u64,
    cmdline_paddr: u64,
    rsdp_paddr: u64,
    memmap_paddr: u64,
    memmap_entries: u32,
    reserved: u32,
}

#[repr(C)]
#[derive(Copy, Clone)]
struct ModlistEntry {
    paddr: u64,
    size: u64,
    cmdline_paddr: u64,
    reserved: u64,
}

#[repr(C)]
#[derive(Copy, Clone)]
struct MemmapEntry {
    addr: u64,
    size: u64,
    kind: u32,
    reserved: u32,
}

static BOOT: RacyCell<BootInfo> = RacyCell::new(BootInfo::new(Protocol::Pvh));

/// Reads a `T` at physical `phys`, which must lie in the mapped first 4 GiB.
fn read<T: Copy>(phys: u64) -> Result<T, &'static str> {
    match phys.checked_add(size_of::<T>() as u64) {
        Some(end) if end <= MAPPED_LIMIT && phys != 0 => {
            // SAFETY: the boot page tables map [0, 4 GiB) at PVH_DIRECT_MAP; the read is
            // unaligned-safe and of plain data.
            Ok(unsafe { ((PVH_DIRECT_MAP + phys) as *const T).read_unaligned() })
        }
        _ => Err("PVH start info points outside the first 4 GiB"),
    }
}

fn parse(start_info: u64, boot: &mut BootInfo) -> Result<(), &'static str> {
    let info: StartInfo = read(start_info)?;
    if info.magic != START_INFO_MAGIC {
        return Err("PVH start info has a bad magic number");
    }
    if info.version < 1 || info.memmap_entries == 0 {
        return Err("PVH start info carries no memory map (version 1 needed)");
    }
    boot.direct_map = PVH_DIRECT_MAP;
    unsafe extern "C" {
        static __kernel_start: u8;
    }
    boot.kernel_virt = (&raw const __kernel_start) as u64;
    boot.kernel_phys = boot.kernel_virt - KERNEL_VMA;

    for i in 0..u64::from(info.memmap_entries) {
        let e: MemmapEntry = read(info.memmap_paddr + i * size_of::<MemmapEntry>() as u64)?;
        let kind = match e.kind {
            1 => MemKind::Usable,
            3 => MemKind::AcpiReclaimable,
            4 => MemKind::AcpiNvs,
            5 => MemKind::Bad,
            _ => MemKind::Reserved,
        };
        boot.push_region(e.addr, e.size, kind);
    }
    if info.nr_modules > 0 {
        let m: ModlistEntry = read(info.modlist_paddr)?;
        if m.paddr.checked_add(m.size).is_none_or(|end| end > MAPPED_LIMIT) {
            return Err("PVH module lies outside the first 4 GiB");
        }
        boot.initramfs = Some(PhysRange { start: m.paddr, len: m.size });
    }
    if info.cmdline_paddr != 0 {
        let mut buf = [0u8; super::CMDLINE_MAX];
        let mut n = 0;
        while n < buf.len() {
            let b: u8 = read(info.cmdline_paddr + n as u64)?;
            if b == 0 {
                break;
            }
            buf[n] = b;
            n += 1;
        }
        boot.set_cmdline(&buf[..n]);
    }
    boot.rsdp = (info.rsdp_paddr != 0).then_some(info.rsdp_paddr);
    Ok(())
}

/// Called by the PVH stub with the physical address of `hvm_start_info`.
#[unsafe(no_mangle)]
extern "C" fn pvh_main(start_info: u64) -> ! {
    let entry_tsc = crate::arch::rdtsc();
    crate::console::init();
    crate::mem::set_direct_map_offset(PVH_DIRECT_MAP);
    // SAFETY: the only reference to BOOT ever made; boot runs on one CPU.
    let boot = unsafe { &mut *BOOT.get() };
    boot.entry_tsc = entry_tsc;
    if let Err(why) = parse(start_info, boot) {
        crate::init::fatal(format_args!("boot: {why}"));
    }
    crate::init::kernel_main(boot)
}
