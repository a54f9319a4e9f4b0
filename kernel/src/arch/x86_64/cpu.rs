//! CPU features and the control-register setup that depends on them.
//!
//! Perihelion runs on QEMU's default `qemu64` CPU (no XSAVE, FSGSBASE, SMEP, SMAP, x2APIC or
//! 1 GiB pages) as well as on modern CPUs, so each feature is probed here once and every user of
//! it asks [`features`].

use core::arch::asm;

use spin::Once;

use super::{cpuid, rdmsr, wrmsr};

/// The CPU features the kernel cares about.
#[derive(Copy, Clone, Debug, Default)]
pub struct Features {
    /// `EFER.NXE` can be set: the no-execute page bit exists.
    pub nx: bool,
    /// 1 GiB pages.
    pub huge_1g: bool,
    /// Global pages (`CR4.PGE`).
    pub pge: bool,
    /// Supervisor-mode execution prevention.
    pub smep: bool,
    /// Supervisor-mode access prevention.
    pub smap: bool,
    /// User-mode instruction prevention.
    pub umip: bool,
    /// `xsave`/`xrstor` (and `CR4.OSXSAVE`).
    pub xsave: bool,
    /// AVX state, saved by `xsave` when present.
    pub avx: bool,
    /// The local APIC runs in x2APIC mode (set by firmware; the kernel never switches).
    pub x2apic_enabled: bool,
    /// Invariant TSC.
    pub invariant_tsc: bool,
}

static FEATURES: Once<Features> = Once::new();

/// The features probed at boot.
pub fn features() -> &'static Features {
    FEATURES.call_once(probe)
}

fn probe() -> Features {
    let max_leaf = cpuid(0, 0).eax;
    let max_ext = cpuid(0x8000_0000, 0).eax;
    let l1 = cpuid(1, 0);
    let l7 = if max_leaf >= 7 { cpuid(7, 0) } else { Default::default() };
    let e1 = if max_ext >= 0x8000_0001 { cpuid(0x8000_0001, 0) } else { Default::default() };
    let e7 = if max_ext >= 0x8000_0007 { cpuid(0x8000_0007, 0) } else { Default::default() };
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    let apic_base = unsafe { rdmsr(IA32_APIC_BASE) };
    Features {
        nx: e1.edx & (1 << 20) != 0,
        huge_1g: e1.edx & (1 << 26) != 0,
        pge: l1.edx & (1 << 13) != 0,
        smep: l7.ebx & (1 << 7) != 0,
        smap: l7.ebx & (1 << 20) != 0,
        umip: l7.ecx & (1 << 2) != 0,
        xsave: l1.ecx & (1 << 26) != 0,
        avx: l1.ecx & (1 << 28) != 0,
        x2apic_enabled: apic_base & (1 << 10) != 0,
        invariant_tsc: e7.edx & (1 << 8) != 0,
    }
}

/// `IA32_APIC_BASE`.
pub const IA32_APIC_BASE: u32 = 0x1b;
/// `IA32_EFER`.
pub const IA32_EFER: u32 = 0xc000_0080;
/// `IA32_STAR`: segment selectors for `syscall`/`sysret`.
pub const IA32_STAR: u32 = 0xc000_0081;
/// `IA32_LSTAR`: the 64-bit `syscall` entry point.
pub const IA32_LSTAR: u32 = 0xc000_0082;
/// `IA32_FMASK`: RFLAGS bits cleared on `syscall`.
pub const IA32_FMASK: u32 = 0xc000_0084;
/// `IA32_FS_BASE`.
pub const IA32_FS_BASE: u32 = 0xc000_0100;
/// `IA32_GS_BASE`.
pub const IA32_GS_BASE: u32 = 0xc000_0101;
/// `IA32_KERNEL_GS_BASE`: swapped with `GS_BASE` by `swapgs`.
pub const IA32_KERNEL_GS_BASE: u32 = 0xc000_0102;

const EFER_SCE: u64 = 1 << 0;
const EFER_NXE: u64 = 1 << 11;

const CR0_MP: u64 = 1 << 1;
const CR0_EM: u64 = 1 << 2;
const CR0_WP: u64 = 1 << 16;

const CR4_PGE: u64 = 1 << 7;
const CR4_OSFXSR: u64 = 1 << 9;
const CR4_OSXMMEXCPT: u64 = 1 << 10;
const CR4_UMIP: u64 = 1 << 11;
const CR4_OSXSAVE: u64 = 1 << 18;
const CR4_SMEP: u64 = 1 << 20;
const CR4_SMAP: u64 = 1 << 21;

/// XCR0 bits: x87, SSE, AVX.
pub const XCR0_X87_SSE: u64 = 0b011;
/// XCR0 bit for AVX state.
pub const XCR0_AVX: u64 = 0b100;

fn read_cr0() -> u64 {
    let v: u64;
    // SAFETY: reading CR0 has no side effects.
    unsafe { asm!("mov {}, cr0", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

fn read_cr4() -> u64 {
    let v: u64;
    // SAFETY: reading CR4 has no side effects.
    unsafe { asm!("mov {}, cr4", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Turns on what the kernel needs before it builds its page tables: `EFER.NXE` (so the NX bit
/// is legal in page tables), `CR0.WP` (the kernel honours read-only pages too), and the FPU/SSE
/// bits the entry stubs already set.
pub fn early_init() {
    let f = features();
    // SAFETY: EFER exists on every x86_64 CPU; NXE is set only where the CPU has it and SCE
    // enables `syscall`, whose MSRs are programmed before any user task runs.
    unsafe {
        let mut efer = rdmsr(IA32_EFER) | EFER_SCE;
        if f.nx {
            efer |= EFER_NXE;
        }
        wrmsr(IA32_EFER, efer);
    }
    let cr0 = (read_cr0() | CR0_MP | CR0_WP) & !CR0_EM;
    // SAFETY: WP and MP only add checks; EM is already clear (the entry stubs cleared it).
    unsafe { asm!("mov cr0, {}", in(reg) cr0, options(nostack, preserves_flags)) }
}

/// Turns on the protections that need the kernel's own page tables active: global pages, SMEP,
/// SMAP, UMIP, and XSAVE with the state components the kernel saves. Returns XCR0 (0 without
/// XSAVE).
pub fn late_init() -> u64 {
    let f = features();
    let mut cr4 = read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT;
    if f.pge {
        cr4 |= CR4_PGE;
    }
    // The kernel never dereferences a user address, so SMEP and SMAP never trip on its own code.
    if f.smep {
        cr4 |= CR4_SMEP;
    }
    if f.smap {
        cr4 |= CR4_SMAP;
    }
    if f.umip {
        cr4 |= CR4_UMIP;
    }
    if f.xsave {
        cr4 |= CR4_OSXSAVE;
    }
    // SAFETY: each bit is set only when CPUID reports the feature; the kernel's page tables map
    // no user page that the kernel executes or touches, so SMEP/SMAP cannot fault it.
    unsafe { asm!("mov cr4, {}", in(reg) cr4, options(nostack, preserves_flags)) }
    if !f.xsave {
        return 0;
    }
    let supported = {
        let d = cpuid(0xd, 0);
        u64::from(d.eax) | (u64::from(d.edx) << 32)
    };
    let mut xcr0 = XCR0_X87_SSE;
    if f.avx && supported & XCR0_AVX != 0 {
        xcr0 |= XCR0_AVX;
    }
    // SAFETY: CR4.OSXSAVE is set; XCR0 holds only components CPUID reports.
    unsafe {
        asm!("xsetbv", in("ecx") 0u32, in("eax") xcr0 as u32, in("edx") (xcr0 >> 32) as u32,
             options(nomem, nostack, preserves_flags))
    }
    xcr0
}

/// Size in bytes of the XSAVE area for the components enabled in XCR0.
pub fn xsave_size() -> usize {
    cpuid(0xd, 0).ebx as usize
}

/// Where the CPU's local APIC registers are, from `IA32_APIC_BASE`.
pub fn apic_base_phys() -> u64 {
    // SAFETY: IA32_APIC_BASE exists on every x86_64 CPU.
    unsafe { rdmsr(IA32_APIC_BASE) & 0x000f_ffff_ffff_f000 }
}

/// The CPU's brand string (CPUID leaves 0x80000002-4), or "unknown".
pub fn brand(buf: &mut [u8; 48]) -> &str {
    if cpuid(0x8000_0000, 0).eax < 0x8000_0004 {
        return "unknown";
    }
    for (i, leaf) in (0x8000_0002u32..=0x8000_0004).enumerate() {
        let r = cpuid(leaf, 0);
        for (j, reg) in [r.eax, r.ebx, r.ecx, r.edx].into_iter().enumerate() {
            let at = i * 16 + j * 4;
            buf[at..at + 4].copy_from_slice(&reg.to_le_bytes());
        }
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    core::str::from_utf8(&buf[..end]).map(str::trim).unwrap_or("unknown")
}
