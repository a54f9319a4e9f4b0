//! Test fixture: prints one line and exits with status 3.
//!
//! For tests that start a task and check the status it ends with.
#![no_std]
#![no_main]

sys::entry!(main);

/// The status this fixture exits with.
const STATUS: usize = 3;

fn main(_boot: sys::Boot) -> usize {
    sys::println!("fixture-exit3: exiting with status {STATUS}");
    STATUS
}
