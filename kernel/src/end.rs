//! The end of a run: the one place that stops the machine for good, through QEMU's
//! `isa-debug-exit` device (`arch::qemu`), or by halting the CPU where there is none.
//!
//! Who ends the run decides why: `uapi` when the root task stops (`object::stop::RunEnd`) or no
//! task is left, `init` when boot fails, `panic` on a kernel panic or a kernel-mode exception.
//! The object library and the scheduler never do; they report upward.
#![forbid(unsafe_code)]

use abi::testexit;

/// Ends the run with `code`, one of [`abi::testexit`]'s values. Never returns.
pub fn end_run(code: u8) -> ! {
    crate::arch::qemu::exit(code)
}

/// Ends the run as failed by a kernel bug or an unusable boot ([`testexit::PANIC`]).
pub fn end_run_panicked() -> ! {
    end_run(testexit::PANIC)
}
