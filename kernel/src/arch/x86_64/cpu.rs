//! CPU features and the control-register setup that depends on them.
//!
//! Perihelion runs on QEMU's default `qemu64` CPU (no XSAVE, FSGSBASE, SMEP, SMAP, x2APIC or
//! 1 GiB pages) as well as on modern CPUs, so each feature is probed here once and every user of
//! it asks [`features`].

use spin::Once;
use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{ApicBase, ApicBaseFlags, Efer, EferFlags};
use x86_64::registers::xcontrol::{XCr0, XCr0Flags};

use super::cpuid;

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
    /// Physical address width in bits (CPUID 0x8000_0008; 36 where the leaf is missing).
    pub phys_bits: u32,
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
    let e8 = if max_ext >= 0x8000_0008 { cpuid(0x8000_0008, 0).eax & 0xff } else { 36 };
    let (_, apic_base) = ApicBase::read();
    Features {
        nx: e1.edx & (1 << 20) != 0,
        huge_1g: e1.edx & (1 << 26) != 0,
        pge: l1.edx & (1 << 13) != 0,
        smep: l7.ebx & (1 << 7) != 0,
        smap: l7.ebx & (1 << 20) != 0,
        umip: l7.ecx & (1 << 2) != 0,
        xsave: l1.ecx & (1 << 26) != 0,
        avx: l1.ecx & (1 << 28) != 0,
        x2apic_enabled: apic_base.contains(ApicBaseFlags::X2APIC_ENABLE),
        invariant_tsc: e7.edx & (1 << 8) != 0,
        phys_bits: e8.clamp(32, 52),
    }
}

/// Turns on what the kernel needs before it builds its page tables: `EFER.NXE` (so the NX bit
/// is legal in page tables), `CR0.WP` (the kernel honours read-only pages too), and the FPU/SSE
/// bits the entry stubs already set.
pub fn early_init() {
    let f = features();
    // SAFETY: EFER exists on every x86_64 CPU; NXE is set only where the CPU has it and SCE
    // enables `syscall`, whose MSRs are programmed before any user task runs.
    unsafe {
        Efer::update(|efer| {
            efer.insert(EferFlags::SYSTEM_CALL_EXTENSIONS);
            if f.nx {
                efer.insert(EferFlags::NO_EXECUTE_ENABLE);
            }
        })
    };
    // SAFETY: WP and MP only add checks; EM is already clear (the entry stubs cleared it).
    unsafe {
        Cr0::update(|cr0| {
            cr0.insert(Cr0Flags::MONITOR_COPROCESSOR | Cr0Flags::WRITE_PROTECT);
            cr0.remove(Cr0Flags::EMULATE_COPROCESSOR);
        })
    };
}

/// Turns on the protections that need the kernel's own page tables active: global pages, SMEP,
/// SMAP, UMIP, and XSAVE with the state components the kernel saves. Returns XCR0 (empty
/// without XSAVE).
pub fn late_init() -> XCr0Flags {
    let f = features();
    let mut cr4 = Cr4::read() | Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE;
    // The kernel never dereferences a user address, so SMEP and SMAP never trip on its own code.
    for (wanted, flag) in [
        (f.pge, Cr4Flags::PAGE_GLOBAL),
        (f.smep, Cr4Flags::SUPERVISOR_MODE_EXECUTION_PROTECTION),
        (f.smap, Cr4Flags::SUPERVISOR_MODE_ACCESS_PREVENTION),
        (f.umip, Cr4Flags::USER_MODE_INSTRUCTION_PREVENTION),
        (f.xsave, Cr4Flags::OSXSAVE),
    ] {
        if wanted {
            cr4.insert(flag);
        }
    }
    // SAFETY: each bit is set only when CPUID reports the feature; the kernel's page tables map
    // no user page that the kernel executes or touches, so SMEP/SMAP cannot fault it.
    unsafe { Cr4::write(cr4) };
    if !f.xsave {
        return XCr0Flags::empty();
    }
    let supported = {
        let d = cpuid(0xd, 0);
        XCr0Flags::from_bits_truncate(u64::from(d.eax) | (u64::from(d.edx) << 32))
    };
    let mut xcr0 = XCr0Flags::X87 | XCr0Flags::SSE;
    if f.avx && supported.contains(XCr0Flags::AVX) {
        xcr0.insert(XCr0Flags::AVX);
    }
    // SAFETY: CR4.OSXSAVE is set; XCR0 holds only components CPUID reports. `write_raw` sets
    // exactly these (`write` would keep components it has no name for from the old value).
    unsafe { XCr0::write_raw(xcr0.bits()) };
    xcr0
}

/// Size in bytes of the XSAVE area for the components enabled in XCR0.
pub fn xsave_size() -> usize {
    cpuid(0xd, 0).ebx as usize
}

/// Where the CPU's local APIC registers are, from `IA32_APIC_BASE`.
pub fn apic_base_phys() -> u64 {
    ApicBase::read().0.start_address().as_u64()
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
