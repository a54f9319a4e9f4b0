//! The `syscall` instruction: MSR setup and the Rust side of the entry.
//!
//! The entry stub (`context::perihelion_syscall_entry`) saves the arguments and callee-saved
//! registers into the current context and calls [`syscall_from_user`] on the kernel stack; the
//! handler in `uapi` decodes the call and leaves through `context::enter_user`.

use super::context::UserContext;
use super::cpu::{IA32_FMASK, IA32_LSTAR, IA32_STAR};
use super::gdt::{KERNEL_CS, KERNEL_DS};
use super::wrmsr;

unsafe extern "C" {
    fn perihelion_syscall_entry();
}

/// RFLAGS bits cleared on entry: IF (the kernel runs with interrupts off), TF, DF, NT, AC.
const FMASK: u64 = (1 << 9) | (1 << 8) | (1 << 10) | (1 << 14) | (1 << 18);

/// Programs STAR, LSTAR and FMASK (EFER.SCE is set by `cpu::early_init`).
pub fn init() {
    // `sysret` loads CS from STAR[63:48] + 16 and SS from STAR[63:48] + 8, both with RPL 3:
    // KERNEL_DS (0x10) gives user code 0x20 and user data 0x18 (see `gdt`).
    let star = (u64::from(KERNEL_DS) << 48) | (u64::from(KERNEL_CS) << 32);
    // SAFETY: the entry stub and the GDT layout match what these MSRs describe.
    unsafe {
        wrmsr(IA32_STAR, star);
        wrmsr(IA32_LSTAR, perihelion_syscall_entry as *const () as u64);
        wrmsr(IA32_FMASK, FMASK);
    }
}

/// Called by the entry stub with the current context; never returns.
pub extern "C" fn syscall_from_user(ctx: &mut UserContext) -> ! {
    crate::uapi::syscall(ctx)
}
