//! Perihelion: a capability-based microkernel for x86_64.
//!
//! Design principles, in the order they win when they conflict:
//!
//! 1. **The kernel never trusts user input.** Every syscall decodes and checks all of its
//!    arguments before it changes any state, and returns a typed error from `abi` when a check
//!    fails. No user input can panic the kernel, leak a page, or reach memory it was not granted.
//! 2. **The kernel never touches a user address.** User memory is read and written through the
//!    kernel's own direct map after a page-table walk, so a bad pointer is an error, not a fault.
//! 3. **The kernel runs with interrupts off.** It is not preemptible (as seL4): an interrupt never
//!    lands in the middle of a kernel function; it is taken in user mode or in the idle loop.
//! 4. **`unsafe` stays at the bottom.** It lives in `arch` (hardware), `mem` (raw memory) and the
//!    boot entries, each block with the reason it holds; the layers above are safe Rust.
//!
//! Layout: [`arch`] (x86_64 entry, descriptor tables, paging, interrupts, syscalls), [`boot`]
//! (the Limine and PVH entries, one [`boot::BootInfo`]), [`mem`] (physical pages, the kernel
//! heap, address spaces), [`object`] (capabilities and kernel objects, a library that knows
//! nothing of syscalls), [`sched`] (the scheduler), [`uapi`] (the only module that talks to user
//! space), [`init`] (boot after the entries converge) and [`end`] (the one place a run ends).
//! Pure logic (the page allocator, the capability and object library, the run queues, the
//! initramfs reader, ACPI table parsing, the choice of clock frequencies) is also compiled for
//! the host, where `cargo test` exercises it; the hardware-facing parts exist only in the kernel
//! image.
#![cfg_attr(not(test), no_std)]

extern crate alloc;

#[macro_use]
pub mod log;

pub mod acpi;
#[cfg(not(test))]
pub mod arch;
pub mod boot;
pub mod calibrate;
#[cfg(not(test))]
pub mod console;
#[cfg(not(test))]
pub mod end;
pub mod initramfs;
pub mod logring;
pub mod mem;
pub mod object;
pub mod sync;

#[cfg(not(test))]
pub mod init;
#[cfg(not(test))]
pub mod panic;
#[cfg(not(test))]
pub mod power;
#[cfg(not(test))]
pub mod root;
pub mod sched;
#[cfg(not(test))]
pub mod uapi;

/// The kernel's version, as printed in the boot banner.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
