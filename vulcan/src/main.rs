//! Vulcan, the Perihelion kernel test suite.
//!
//! Runs as the root task of a test boot and exercises the kernel through `sys`, one test after
//! another, printing one line per test and a closing summary; its exit status (0 when every test
//! passed, 1 otherwise) becomes QEMU's exit code. See [`harness`] for the output format and
//! [`tests`] for what is tested.
#![no_std]
#![no_main]
#![expect(
    clippy::result_large_err,
    reason = "with no heap, a failure reason is a fixed buffer carried by value; tests are not a hot path"
)]

extern crate alloc;

mod clock;
mod harness;
mod marker;
mod space;
mod tests;

sys::entry!(main);

fn main(boot: sys::Boot) -> usize {
    harness::run(&boot, tests::ALL)
}
