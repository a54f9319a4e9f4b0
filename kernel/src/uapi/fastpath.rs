//! The fast paths' switch and their counters.
//!
//! The fast paths (IPC `call` and `reply_recv` to a waiting partner, and the others this module
//! counts) are shortcuts through the general paths for the cases that move nothing but
//! registers and hand the CPU straight to the partner. The general path stays the
//! specification: every case a fast path takes, the general path handles the same way, and every
//! case a fast path does not take falls to it with nothing changed. `perihelion.fastpath=off`
//! on the kernel command line turns them all off, so that Vulcan can run every test both ways
//! (`cargo xtask test` boots it once more like that) and get the same results.
//!
//! Each fast path counts the times it was taken; the counts are logged when the run ends
//! (`fastpath: call N, reply_recv N, ...`), which is how a test run shows that its tests (the
//! fuzzer's among them) went through the fast paths at all.
#![forbid(unsafe_code)]

use core::cell::Cell;

use crate::sync::Global;

/// The kernel command-line word that turns the fast paths off.
pub const OFF: &str = "perihelion.fastpath=off";

/// Whether the fast paths are on.
static ON: Global<Cell<bool>> = Global::new(Cell::new(true));

/// The fast paths, as counted.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Path {
    /// `call` to a waiting receiver.
    Call,
    /// `reply_recv` to a waiting caller (or a faulted task: a plain reply to a fault).
    ReplyRecv,
    /// `send` to a waiting receiver above the sender.
    Send,
    /// `note_signal` to a waiter above the signaller.
    Signal,
    /// `task_yield`.
    Yield,
    /// A fault message to a supervisor waiting on the fault endpoint.
    Fault,
    /// `fault_reply_recv` to a faulted task.
    FaultReply,
}

impl Path {
    /// Every path, in the order the log lists them.
    const ALL: [Path; 7] =
        [Path::Call, Path::ReplyRecv, Path::Send, Path::Signal, Path::Yield, Path::Fault, Path::FaultReply];

    fn name(self) -> &'static str {
        match self {
            Path::Call => "call",
            Path::ReplyRecv => "reply_recv",
            Path::Send => "send",
            Path::Signal => "signal",
            Path::Yield => "yield",
            Path::Fault => "fault",
            Path::FaultReply => "fault_reply_recv",
        }
    }
}

/// Times each path was taken.
static COUNTS: Global<[Cell<u64>; Path::ALL.len()]> = Global::new([const { Cell::new(0) }; Path::ALL.len()]);

/// Reads the switch from the kernel command line (before the first task runs).
pub fn configure(cmdline: &[u8]) {
    let off = cmdline.split(|b| b.is_ascii_whitespace()).any(|word| word == OFF.as_bytes());
    ON.set(!off);
    crate::info!("fastpath: {}", if off { "off (perihelion.fastpath=off)" } else { "on" });
}

/// Whether the fast paths are on.
#[inline]
pub fn on() -> bool {
    ON.get()
}

/// Counts one pass through `path`.
#[inline]
pub fn taken(path: Path) {
    let c = &COUNTS[path as usize];
    c.set(c.get().wrapping_add(1));
}

/// The counts as `call N, reply_recv N, ...`.
struct Counts;

impl core::fmt::Display for Counts {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, p) in Path::ALL.into_iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{} {}", p.name(), COUNTS[p as usize].get())?;
        }
        Ok(())
    }
}

/// Logs how often each path was taken: `fastpath: call N, reply_recv N, ...`.
pub fn log_counts() {
    crate::info!("fastpath: {Counts}");
}
