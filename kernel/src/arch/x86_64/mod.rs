//! x86_64: instructions wrapped as functions, and the modules that drive the CPU and the PC
//! platform. This is the layer that holds the `unsafe` needed to talk to hardware; it exposes safe
//! functions wherever the hardware contract allows.

pub mod acpipm;
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

use x86_64::instructions::interrupts;

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

/// Halts the CPU for good: interrupts off, `hlt` forever.
pub fn halt_forever() -> ! {
    loop {
        interrupts::disable();
        x86_64::instructions::hlt();
    }
}

/// Enables interrupts, waits for one, and disables them again. The idle loop's only step:
/// `sti; hlt` (the `sti` shadow keeps an interrupt from slipping in before the `hlt`), then
/// `cli`. The trap path handles interrupts from the idle loop and returns here, and `cli`
/// restores the kernel's interrupts-off rule.
#[inline]
pub fn wait_for_interrupt() {
    interrupts::enable_and_hlt();
    interrupts::disable();
}
