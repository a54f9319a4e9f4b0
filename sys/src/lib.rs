//! The Perihelion user-space system library.
//!
//! Every user program (the root task, Vulcan, drivers later) is a `#![no_std] #![no_main]` static
//! executable that links this crate. It owns:
//!
//! - [`syscall`]: the one `syscall` instruction in user space, and a wrapper per syscall;
//! - [`cap`]: typed capability handles ([`Cap`], [`Memory`], [`CSpace`], [`DebugConsole`]) and
//!   their invocations; [`root`]: the root task's initial capabilities as such handles;
//! - [`vspace`], [`task`], [`ipc`], [`notify`], [`ioport`]: the other kinds' calls and handles
//!   ([`VSpace`], [`Page`], [`Task`] and threads, [`Endpoint`], [`Reply`], [`Note`], [`Timer`],
//!   [`IrqHandler`], [`IoPort`], ...);
//! - [`safety`]: what each call can do to the caller's memory, and the contracts of the calls that
//!   are `unsafe` for it;
//! - [`error`]: how a failed syscall is reported ([`Error`]);
//! - [`rt`]: the runtime: `_start`, the [`entry!`] macro that names a program's `main`, the
//!   [`Boot`] value handed to it, and the panic handler;
//! - [`manifest`](mod@manifest): [`manifest!`], which puts a driver's manifest in its ELF section `.manifest`;
//! - [`debug`]: [`print!`] and [`println!`] over the root task's debug console capability, and
//!   [`FixedBuf`](debug::FixedBuf), a fixed-capacity text buffer for formatting without a heap.
//!
//! The kernel/user ABI itself (syscall numbers, error codes, layouts) is defined once in the
//! [`abi`] crate and re-exported here; nothing in it is restated in this crate.
//!
//! Safety in one paragraph ([`safety`] has it all): a call is safe when no use of it can take
//! memory away from under the caller's Rust code, write it behind the compiler's back, or start
//! code in the caller's address space. Making objects, mapping Pages, messages, notifications,
//! I/O ports and most task control are safe. `unsafe` are the calls that can unmap the caller's
//! memory, at once or through the objects they end (`page_unmap`, `page_protect`, `cap_delete`,
//! `cap_revoke`, `task_destroy`, `task_set_space`), that have the kernel write memory the caller
//! names (`task_read_regs`, `task_set_ipc_buffer`), and that decide what code runs in the caller's
//! address space (`task_write_regs`, `task_set_space`, threads); where a check can make one safe,
//! the typed handles offer that form ([`Endpoint::delete`], [`Page::delete`] of an unmapped Page,
//! [`Task::read_regs`], ...).
//!
//! Linking: user programs are linked with `sys/user.ld` by the link arguments each program's
//! `build.rs` prints, and get `memcpy` and friends from the `memfns` crate, which this crate pulls
//! in.
//!
//! Host builds: the pure parts (error decoding, [`FixedBuf`](debug::FixedBuf), handle
//! conversions) are unit-tested on the host with `cargo test -p sys`, which also runs the
//! doctests (the compile-fail tests of [`safety`] among them). Everything that only makes sense
//! in a Perihelion program and would clash with the host's std and C library (`_start`, the panic
//! handler, `rust_eh_personality` and the `memfns` symbols) is compiled only with
//! `panic = "abort"`, as every Perihelion program is built (the workspace profiles); `cargo test`
//! builds this crate with unwinding, for unit tests and doctests alike, and std provides all of
//! that. No test makes a syscall.
//!
//! Examples: every public item's documentation has one, and every example is compiled by
//! `cargo test -p sys`. Those that make a system call are `no_run` (compiled for the host, never
//! run there); the pure ones (decoding, handles, [`FixedBuf`](debug::FixedBuf), the locks
//! uncontended, ...) run and check what they show. `cargo xtask test` keeps it so: its rustdoc
//! step fails on any public item without an example.
#![no_std]
#![deny(missing_docs)]

extern crate alloc;

pub use abi;

// Every user program must link `memcpy`, `memset` and friends; naming the crate here is enough.
// Not in host builds (they unwind), where they would shadow the C library's.
#[cfg(panic = "abort")]
use memfns as _;

pub mod cap;
pub mod clock;
pub mod debug;
pub mod error;
pub mod fault;
pub mod heap;
pub mod io;
pub mod ioport;
pub mod ipc;
pub mod manifest;
pub mod mmap;
pub mod notify;
pub mod proc;
pub mod process;
pub mod root;
pub mod rt;
pub mod safety;
pub mod sync;
pub mod syscall;
pub mod task;
pub mod thread;
pub mod vspace;

pub use cap::{CSpace, Cap, DebugConsole, Identity, Kind, LogRead, Memory, MemoryInfo, Slot, rights};
pub use error::{Error, Result};
pub use ioport::{IoPort, IoPortControl};
pub use ipc::{Endpoint, Extra, IpcBufferPage, Message, Reply};
pub use notify::{IrqControl, IrqHandler, Note, Timer};
pub use process::exit;
pub use rt::Boot;
pub use syscall::{debug_write, debug_write_console_raw, debug_write_raw};
pub use task::{Task, TaskInfo};
pub use vspace::{DeviceControl, Page, PageInfo, VSpace};
