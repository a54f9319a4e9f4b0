//! Tests of the kernel log: `log_read` reads back, in order, the bytes the console was given;
//! `log_set_note` signals a Note when the log grows; `console_release` is refused without its
//! authority. (Releasing COM1 for real would take this run's output away: the
//! `fixture-console-release` boot does that, and drains the log to COM1 itself.)
//!
//! The ABI: `abi::syscall::Sysno::{LogRead, LogSetNote, ConsoleRelease}`, `docs/abi.md` ("The
//! kernel log and COM1"). Every test runs [`isolated`].

use alloc::vec::Vec;

use sys::abi::Error::{BadAddress, InsufficientRights, InvalidArgument, InvalidCapability, WrongKind};
use sys::abi::bootcaps::{ROOT_DEBUG_CONSOLE, ROOT_MEMORY};
use sys::abi::syscall::{LOG_READ_MAX, LOG_RING_BYTES};
use sys::ioport::IoPortControl;
use sys::notify::Note;
use sys::{Boot, DebugConsole, Slot, rights, root};

use super::support::{SPARE, console_copy, delete, isolated, root_usage};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, ok};
use crate::marker::marker;
use crate::space::image_segments;

pub const TESTS: &[Test] = &[
    Test::new("log_read_returns_what_was_written", |b| isolated(b, returns_what_was_written)),
    Test::new("log_read_bounds_and_errors", |b| isolated(b, bounds_and_errors)),
    Test::new("log_note_signalled_when_the_log_grows", |b| isolated(b, note_signalled)),
    Test::new("console_release_needs_the_ioport_control", |b| isolated(b, release_refused)),
];

/// The log's end now: reads until nothing is left, and returns the sequence number after.
fn log_end(console: DebugConsole) -> Result<u64, Reason> {
    let mut buf = [0u8; LOG_READ_MAX];
    let mut seq = 0;
    loop {
        let got = ok!(console.read_log(seq, &mut buf), "log_read({seq})");
        if got.len == 0 {
            return Ok(got.next);
        }
        seq = got.next;
    }
}

/// Everything from `seq` to the end.
fn read_from(console: DebugConsole, mut seq: u64) -> Result<Vec<u8>, Reason> {
    let mut all = Vec::new();
    let mut buf = [0u8; 700];
    loop {
        let got = ok!(console.read_log(seq, &mut buf), "log_read({seq})");
        ensure_eq!(got.lost, 0, "bytes lost reading from {seq}");
        if got.len == 0 {
            return Ok(all);
        }
        all.extend_from_slice(&buf[..got.len]);
        seq = got.next;
    }
}

/// A debug write lands in the log as it was written, right at its end: reading from the end seen
/// before the write gives exactly its bytes, and the end moves by their length.
fn returns_what_was_written(_: &Boot) -> TestResult {
    let console = root::console();
    let line = marker("log-read", "read back from the kernel log by log_read");
    let end = log_end(console)?;
    ok!(console.write(line.as_bytes()), "debug_write");
    let after = log_end(console)?;
    ensure_eq!(after - end, line.as_bytes().len() as u64, "bytes the log grew by");
    let back = read_from(console, end)?;
    ensure!(back == line.as_bytes(), "the log from before the write: {:?}", core::str::from_utf8(&back));
    // Read back in pieces of every small size: the same bytes, in order.
    for piece in 1..8 {
        let mut got = Vec::new();
        let mut seq = end;
        let mut buf = [0u8; 8];
        while seq < after {
            let r = ok!(console.read_log(seq, &mut buf[..piece]), "log_read in pieces of {piece}");
            ensure!(r.len > 0 && r.len <= piece && r.next == seq + r.len as u64, "piece {r:?} at {seq}");
            got.extend_from_slice(&buf[..r.len]);
            seq = r.next;
        }
        ensure!(got == line.as_bytes(), "the line read in pieces of {piece}");
    }
    // The kernel's own lines are in the log too: the boot banner, long before this test.
    let first = ok!(console.read_log(0, &mut [0u8; 16]), "log_read(0)");
    ensure!(after <= LOG_RING_BYTES as u64 || first.lost > 0, "nothing lost from a log of {after} bytes: {first:?}");
    ensure_eq!(first.lost, after.saturating_sub(LOG_RING_BYTES as u64), "bytes lost reading from 0");
    Ok(())
}

/// `len` above `LOG_READ_MAX` and `seq` beyond the end are `InvalidArgument`; a buffer that is not
/// writable is `BadAddress` and consumes nothing; `len` 0 reads nothing anywhere up to the end;
/// capability errors come first.
fn bounds_and_errors(_: &Boot) -> TestResult {
    let console = root::console();
    let end = log_end(console)?;
    let mut big = alloc::vec![0u8; LOG_READ_MAX + 1];
    ensure_eq!(console.read_log(0, &mut big), Err(InvalidArgument.into()), "log_read of LOG_READ_MAX + 1 bytes");
    ensure_eq!(console.read_log(end + 1, &mut [0u8; 4]), Err(InvalidArgument.into()), "log_read past the end");
    ensure_eq!(console.read_log(u64::MAX, &mut [0u8; 4]), Err(InvalidArgument.into()), "log_read at u64::MAX");
    let empty = ok!(console.read_log(end, &mut []), "log_read of 0 bytes at the end");
    ensure_eq!((empty.len, empty.next, empty.lost), (0, end, 0), "log_read of 0 bytes at the end");
    // Through the raw call: unwritable buffers. The log is only read, so nothing is consumed.
    let text = image_segments()[0].start;
    for (buf, what) in
        [(0usize, "a null buffer"), (text, "the read-only image"), (0xffff_8000_0000_0000, "kernel memory")]
    {
        // SAFETY: the kernel must refuse each (nothing of ours is writable there); had it not,
        // it could only have written log bytes where this program has nothing it relies on
        // (page 0 and kernel memory are never ours, and the image's text is read-only).
        let r = unsafe { sys::syscall::log_read(console.slot(), 0, buf, 16) };
        ensure_eq!(r, Err(BadAddress.into()), "log_read into {what}");
    }
    ensure_eq!(log_end(console)?, end, "the log's end after the refused reads (nothing was written)");
    // Capabilities: a console without READ, the wrong kind, an empty slot.
    let write_only = DebugConsole::new(console_copy(rights::WRITE)?);
    ensure_eq!(write_only.read_log(0, &mut [0u8; 4]), Err(InsufficientRights.into()), "log_read without READ");
    ensure_eq!(DebugConsole::at(ROOT_MEMORY).read_log(0, &mut [0u8; 4]), Err(WrongKind.into()), "log_read on a Memory");
    ensure_eq!(
        DebugConsole::at(SPARE).read_log(0, &mut [0u8; 4]),
        Err(InvalidCapability.into()),
        "log_read on an empty slot"
    );
    // The capability is checked before the length and the sequence number.
    ensure_eq!(DebugConsole::at(SPARE).read_log(u64::MAX, &mut big), Err(InvalidCapability.into()), "everything wrong");
    delete(write_only.cap())
}

/// With a log Note set, a debug write signals it by the time the call returns; without, it does
/// not. The kernel holds its own reference to the Note: deleting the last capability leaves it
/// alive (its page charged) until the Note is removed.
fn note_signalled(_: &Boot) -> TestResult {
    let control = root::ioport_control();
    let note = ok!(Note::create(root::memory(), Slot::Auto), "note_create");
    let badged = Note::new(ok!(note.mint(root::cspace(), Slot::Auto, rights::ALL, 0x40), "cap_mint(note, badge 0x40)"));
    ok!(control.set_log_note(Some(badged), 0x3), "log_set_note(badged note, 0x3)");
    ok!(note.poll(), "note_poll (clear)");
    ok!(root::console().write(marker("log-note", "a debug write with the log Note set").as_bytes()), "debug_write");
    ensure_eq!(ok!(note.poll(), "note_poll after the write"), 0x43, "bits after a write (0x3 and the badge 0x40)");
    // Held by the kernel: both capabilities gone, the Note's page stays charged.
    let before = root_usage()?.used;
    delete(badged.cap())?;
    delete(note.cap())?;
    ensure_eq!(root_usage()?.used, before, "root Memory used with the Note held only by the kernel");
    ok!(control.set_log_note(None, 0), "log_set_note(None)");
    ensure_eq!(root_usage()?.used, before - 1, "root Memory used once the kernel let the Note go");
    // Refusals, the control first, then the Note, then the bits.
    let other = ok!(Note::create(root::memory(), Slot::Auto), "note_create (second)");
    let read_note = Note::new(ok!(other.copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(note, READ)"));
    let read_control =
        IoPortControl::new(ok!(control.copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(control, READ)"));
    let cases: [(IoPortControl, Option<Note>, usize, sys::abi::Error, &str); 6] = [
        (IoPortControl::at(SPARE), Some(other), 1, InvalidCapability, "an empty control slot"),
        (IoPortControl::at(ROOT_MEMORY), Some(other), 1, WrongKind, "a Memory as the control"),
        (read_control, Some(other), 1, InsufficientRights, "a READ-only control"),
        (control, Some(Note::at(ROOT_MEMORY)), 1, WrongKind, "a Memory as the Note"),
        (control, Some(read_note), 1, InsufficientRights, "a READ-only Note"),
        (control, Some(other), 0, InvalidArgument, "no bits"),
    ];
    for (c, n, bits, err, what) in cases {
        ensure_eq!(c.set_log_note(n, bits), Err(err.into()), "log_set_note({what})");
    }
    ok!(other.poll(), "note_poll (clear)");
    ok!(
        root::console().write(marker("log-no-note", "a debug write after the refused log_set_notes").as_bytes()),
        "debug_write"
    );
    ensure_eq!(ok!(other.poll(), "note_poll"), 0, "bits on a Note whose log_set_note was refused");
    delete(read_control.cap())?;
    delete(read_note.cap())?;
    delete(other.cap())
}

/// `console_release` and `power_off` need WRITE on the IoPortControl; without it nothing changes
/// (COM1 stays the kernel's, `ioport_create` still refuses its ports, the machine stays on).
fn release_refused(_: &Boot) -> TestResult {
    let control = root::ioport_control();
    let read_control =
        IoPortControl::new(ok!(control.copy(root::cspace(), Slot::Auto, rights::READ), "cap_copy(control, READ)"));
    for (c, err, what) in [
        (IoPortControl::at(SPARE), InvalidCapability, "an empty slot"),
        (IoPortControl::at(ROOT_MEMORY), WrongKind, "a Memory"),
        (IoPortControl::at(ROOT_DEBUG_CONSOLE), WrongKind, "the DebugConsole"),
        (read_control, InsufficientRights, "a READ-only control"),
    ] {
        ensure_eq!(c.release_console(), Err(err.into()), "console_release({what})");
        // The same authority powers the machine off: refused just the same (the run goes on).
        ensure_eq!(c.power_off(), Err(err.into()), "power_off({what})");
    }
    let com1 = sys::abi::ioport::CONSOLE_PORTS;
    ensure_eq!(
        control.create(com1.0, com1.1, root::memory(), Slot::Auto).map(|_| ()),
        Err(InvalidArgument.into()),
        "ioport_create on COM1 after the refused releases"
    );
    delete(read_control.cap())
}
