//! The Perihelion kernel/user ABI, defined once.
//!
//! Everything that crosses the boundary between the kernel and a user program is defined here and
//! nowhere else: syscall numbers, the register convention, error codes, the address-space layout
//! the kernel sets up for the root task, and the root task's boot information page. The kernel
//! imports this crate; `sys` re-exports it. `docs/abi.md` is the prose reference for it.
//!
//! This crate holds data and conversions only: no syscall is made from here. So every example in
//! its documentation (each public item has one) runs as a host doctest, `cargo test -p
//! perihelion-abi`.
#![no_std]
#![deny(missing_docs)]

pub mod bootcaps;
pub mod error;
pub mod ioport;
pub mod ipc;
pub mod layout;
pub mod object;
pub mod rootinfo;
pub mod start;
pub mod syscall;
pub mod task;
pub mod testexit;

pub use error::Error;
pub use rootinfo::RootInfo;
pub use syscall::Sysno;
