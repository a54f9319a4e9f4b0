//! Every Vulcan test, grouped by what it exercises, in the order they run.
//!
//! - [`debug_write`]: the `debug_write` syscall: lengths, every kind of bad pointer, and the
//!   console capability;
//! - [`syscall`]: the syscall entry itself: undefined numbers, and which registers survive;
//! - [`entry`]: entry hygiene: user-set flags (DF, AC), selectors and the FS base never steer the
//!   kernel or reach another task;
//! - [`image`]: what the kernel set up before the first instruction: the loaded image, the stack;
//! - [`rootinfo`]: the root task's boot information page and the initramfs it describes;
//! - [`cap`]: the capability calls (identify, copy, mint, move, delete, revoke);
//! - [`memory`]: Memory quotas and CSpaces made from them (split, info, cspace_create), charges,
//!   refunds and exhaustion;
//! - [`ioport`]: I/O port ranges (ioport_create, ioport_in, ioport_out) and real port I/O.
//!
//! [`support`] holds what the capability tests share, among it the isolation check they run
//! under; [`devices`] probes for the devices some tests need, and skips them where the machine
//! lacks one.
//!
//! `vulcan/inventory.txt` lists every test of every group here, in this order, and the
//! debug-write markers ([`crate::marker`]) each writes; `cargo xtask test` fails a boot that does
//! not run exactly those, and a host test fails while the list and this source disagree.

use crate::harness::Test;

mod cap;
mod debug_write;
mod devices;
mod devmem;
mod entry;
mod exit_note;
mod fault;
mod fuzz;
mod image;
mod io;
mod ioport;
mod ipc;
mod irq;
mod log;
mod memory;
mod mmap;
mod notify;
mod ramfs;
mod rootinfo;
mod runtime;
mod sched;
mod supervise;
mod support;
mod syscall;
mod task;
mod threads;
mod vector;
mod vspace;

/// All groups, in run order.
pub const ALL: &[&[Test]] = &[
    debug_write::TESTS,
    log::TESTS,
    syscall::TESTS,
    entry::TESTS,
    image::TESTS,
    rootinfo::TESTS,
    cap::TESTS,
    memory::TESTS,
    ioport::TESTS,
    task::TESTS,
    exit_note::TESTS,
    sched::TESTS,
    vector::TESTS,
    ipc::TESTS,
    fault::TESTS,
    notify::TESTS,
    irq::TESTS,
    vspace::TESTS,
    devmem::TESTS,
    runtime::TESTS,
    mmap::TESTS,
    supervise::TESTS,
    io::TESTS,
    ramfs::TESTS,
    fuzz::TESTS,
];
