//! Test fixture: the root task takes COM1 from the kernel and drains the kernel log to it
//! itself, as the serial driver will.
//!
//! Before the release, COM1's ports are the kernel's (`ioport_create` refuses them). Then it sets
//! a log Note, releases COM1 (`console_release`; a second release is refused), makes an IoPort
//! for COM1, prints a line, and copies the kernel log from where it stood before the release to
//! COM1 through its own IoPort: its own line, the kernel's "COM1 released" line, and anything
//! else. `cargo xtask test` expects that line on the serial log exactly once and status 0: a
//! kernel that still wrote to COM1 after the release would show it twice, one that lost it from
//! the ring not at all. Any failure is printed through the same drain and exits nonzero.
#![no_std]
#![no_main]

use sys::abi::ioport::CONSOLE_PORTS;
use sys::ioport::IoPort;
use sys::notify::Note;
use sys::{DebugConsole, Slot, root};

sys::entry!(main);

/// COM1's line status register, and its "transmit holding register empty" bit.
const LSR: usize = CONSOLE_PORTS.0 + 5;
const THR_EMPTY: u8 = 1 << 5;

fn main(_boot: sys::Boot) -> usize {
    sys::println!("fixture-console-release: before the release, straight from the kernel");
    let (console, control, memory) = (root::console(), root::ioport_control(), root::memory());
    if control.create(CONSOLE_PORTS.0, CONSOLE_PORTS.1, memory, Slot::Auto).is_ok() {
        sys::println!("fixture-console-release: COM1's ports were granted before the release");
        return 1;
    }
    let Some(from) = log_end(console) else {
        sys::println!("fixture-console-release: log_read failed before the release");
        return 1;
    };
    let Ok(note) = Note::create(memory, Slot::Auto) else { return 1 };
    if control.set_log_note(Some(note), 1).is_err() || control.release_console().is_err() {
        sys::println!("fixture-console-release: log_set_note or console_release failed");
        return 1;
    }
    // From here on only this program's drain puts anything on COM1.
    let Ok(com1) = control.create(CONSOLE_PORTS.0, CONSOLE_PORTS.1, memory, Slot::Auto) else { return 2 };
    let mut status = 0;
    let _ = note.poll();
    sys::println!(
        "fixture-console-release: after the release, through the log ring and this program's own UART driver"
    );
    if note.poll() != Ok(1) {
        sys::println!("fixture-console-release: the log Note was not signalled by a write");
        status = 3;
    }
    if control.release_console() != Err(sys::abi::Error::InvalidState.into()) {
        sys::println!("fixture-console-release: a second console_release was not refused");
        status = 4;
    }
    if drain(console, com1, from).is_none() {
        return 5;
    }
    status
}

/// The log's end: read until nothing is left.
fn log_end(console: DebugConsole) -> Option<u64> {
    let (mut seq, mut buf) = (0, [0u8; 512]);
    loop {
        let got = console.read_log(seq, &mut buf).ok()?;
        if got.len == 0 {
            return Some(got.next);
        }
        seq = got.next;
    }
}

/// Copies the log from `seq` to its end out of COM1, byte by byte, as a 16550 driver does.
fn drain(console: DebugConsole, com1: IoPort, mut seq: u64) -> Option<()> {
    let mut buf = [0u8; 512];
    loop {
        let got = console.read_log(seq, &mut buf).ok()?;
        if got.len == 0 {
            return Some(());
        }
        for &b in &buf[..got.len] {
            while com1.read8(LSR).ok()? & THR_EMPTY == 0 {
                core::hint::spin_loop();
            }
            com1.write8(CONSOLE_PORTS.0, b).ok()?;
        }
        seq = got.next;
    }
}
