//! x86_64: instructions wrapped as functions, and the modules that drive the CPU and the PC
//! platform. This is the layer that holds the `unsafe` needed to talk to hardware; it exposes safe
//! functions wherever the hardware contract allows.

pub mod apic;
pub mod backtrace;
pub mod clock;
pub mod context;
pub mod cpu;
pub mod entry;
pub mod gdt;
pub mod hpet;
pub mod idt;
pub mod ioapic;
pub mod paging;
pub mod pic;
pub mod pit;
pub mod pmtimer;
pub mod qemu;
pub mod serial;
pub mod syscall;
pub mod trap;

use core::arch::asm;

/// Reads a model-specific register.
///
/// # Safety
/// `msr` must exist on this CPU, or the read faults.
#[inline]
pub unsafe fn rdmsr(msr: u32) -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: the caller guarantees the MSR exists.
    unsafe { asm!("rdmsr", in("ecx") msr, out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Writes a model-specific register.
///
/// # Safety
/// `msr` must exist and `value` be valid for it; MSRs change how the CPU behaves.
#[inline]
pub unsafe fn wrmsr(msr: u32, value: u64) {
    // SAFETY: the caller guarantees the MSR and value are valid.
    unsafe {
        asm!("wrmsr", in("ecx") msr, in("eax") value as u32, in("edx") (value >> 32) as u32,
             options(nostack, preserves_flags))
    }
}

/// The result of one `cpuid` query.
#[derive(Copy, Clone, Debug, Default)]
pub struct Cpuid {
    /// `eax`.
    pub eax: u32,
    /// `ebx`.
    pub ebx: u32,
    /// `ecx`.
    pub ecx: u32,
    /// `edx`.
    pub edx: u32,
}

/// Runs `cpuid` with `leaf` and `subleaf`.
#[inline]
pub fn cpuid(leaf: u32, subleaf: u32) -> Cpuid {
    let (eax, ecx, edx): (u32, u32, u32);
    let rbx: u64;
    // SAFETY: `cpuid` exists on every x86_64 CPU and has no side effects; rbx, which LLVM
    // reserves, is saved and restored around it.
    unsafe {
        asm!(
            "mov {tmp:r}, rbx",
            "cpuid",
            "xchg {tmp:r}, rbx",
            tmp = out(reg) rbx,
            inout("eax") leaf => eax,
            inout("ecx") subleaf => ecx,
            out("edx") edx,
            options(nomem, nostack, preserves_flags),
        )
    }
    Cpuid { eax, ebx: rbx as u32, ecx, edx }
}

/// Reads the time-stamp counter.
#[inline]
pub fn rdtsc() -> u64 {
    let (lo, hi): (u32, u32);
    // SAFETY: `rdtsc` has no side effects; CR4.TSD is never set, so it cannot fault.
    unsafe { asm!("rdtsc", out("eax") lo, out("edx") hi, options(nomem, nostack, preserves_flags)) }
    (u64::from(hi) << 32) | u64::from(lo)
}

/// Reads CR2, the faulting address of the last page fault.
#[inline]
pub fn cr2() -> u64 {
    let v: u64;
    // SAFETY: reading CR2 has no side effects.
    unsafe { asm!("mov {}, cr2", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Reads CR3, the physical address of the active top-level page table.
#[inline]
pub fn cr3() -> u64 {
    let v: u64;
    // SAFETY: reading CR3 has no side effects.
    unsafe { asm!("mov {}, cr3", out(reg) v, options(nomem, nostack, preserves_flags)) }
    v
}

/// Halts the CPU for good: interrupts off, `hlt` forever.
pub fn halt_forever() -> ! {
    loop {
        // SAFETY: `cli; hlt` only stops this CPU; nothing is left half done.
        unsafe { asm!("cli", "hlt", options(nomem, nostack)) }
    }
}

/// Enables interrupts, waits for one, and disables them again. The idle loop's only step.
#[inline]
pub fn wait_for_interrupt() {
    // SAFETY: `sti; hlt` takes one interrupt in kernel mode; the trap path handles interrupts
    // from the idle loop and returns here, and `cli` restores the kernel's interrupts-off rule.
    unsafe { asm!("sti", "hlt", "cli", options(nomem, nostack)) }
}
