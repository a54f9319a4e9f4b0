//! Tests of the `debug_write` syscall: what it returns for good buffers, that every kind of bad
//! range is refused with the right error, and that the console capability is checked.
//!
//! The ABI (`abi::syscall::Sysno::DebugWrite`): `debug_write(console, ptr, len)`. Errors, in the
//! order checked: `InvalidCapability`, `WrongKind`, `InsufficientRights` (WRITE needed) for
//! `console`; `InvalidArgument` if `len > DEBUG_WRITE_MAX`; `BadAddress` if any byte of
//! `[ptr, ptr + len)` is not mapped readable in the caller's user address space. So a call that
//! breaks several rules gets the first of these. A zero-length range names no byte, so it is
//! never a bad address. The range tests write through the root task's console
//! (`abi::bootcaps::ROOT_DEBUG_CONSOLE`, what `sys::debug_write` uses).
//!
//! Every buffer that can reach the console ends in a newline, so the log stays line-clean even
//! when the kernel wrongly accepts a write that should fail.

use sys::abi::Error::{BadAddress, InsufficientRights, InvalidArgument, InvalidCapability, WrongKind};
use sys::abi::bootcaps::{FIRST_FREE, ROOT_CSPACE, ROOT_DEBUG_CONSOLE, ROOT_MEMORY};
use sys::abi::layout::{PAGE_SIZE, ROOT_STACK_SIZE, ROOT_STACK_TOP, START_INFO_ADDR, USER_BASE, USER_END};
use sys::abi::syscall::{DEBUG_WRITE_MAX, SLOT_AUTO};
use sys::{Boot, DebugConsole, Slot, debug_write, debug_write_console_raw, debug_write_raw, rights, root};

use super::support::{SLOTS, console_copy, delete, isolated};
use crate::harness::{Test, TestResult, ensure_eq, ok};

pub const TESTS: &[Test] = &[
    Test::new("debug_write_returns_length", returns_length),
    Test::new("debug_write_from_stack", from_stack),
    Test::new("debug_write_empty", empty),
    Test::new("debug_write_empty_any_address", empty_any_address),
    Test::new("debug_write_max_length", max_length),
    Test::new("debug_write_too_long", too_long),
    Test::new("debug_write_length_checked_first", length_checked_first),
    Test::new("debug_write_null", null),
    Test::new("debug_write_page_zero", page_zero),
    Test::new("debug_write_kernel_image", kernel_image),
    Test::new("debug_write_direct_map", direct_map),
    Test::new("debug_write_non_canonical", non_canonical),
    Test::new("debug_write_unmapped_user", unmapped_user),
    Test::new("debug_write_wrapping_range", wrapping_range),
    Test::new("debug_write_runs_off_stack_top", runs_off_stack_top),
    Test::new("debug_write_touches_stack_guard", touches_stack_guard),
    Test::new("debug_write_runs_off_root_info", runs_off_root_info),
    Test::new("debug_write_past_user_end", past_user_end),
    Test::new("debug_write_console_empty_slot", |b| isolated(b, console_empty_slot)),
    Test::new("debug_write_console_out_of_range", |b| isolated(b, console_out_of_range)),
    Test::new("debug_write_console_wrong_kind", |b| isolated(b, console_wrong_kind)),
    Test::new("debug_write_console_without_write", |b| isolated(b, console_without_write)),
    Test::new("debug_write_console_copies_write", |b| isolated(b, console_copies_write)),
    Test::new("debug_write_console_checked_first", |b| isolated(b, console_checked_first)),
    Test::new("debug_write_console_checks_in_order", |b| isolated(b, console_checks_in_order)),
];

/// Expects `BadAddress` for each `(ptr, len)`.
fn expect_bad_address(cases: &[(usize, usize)]) -> TestResult {
    for &(ptr, len) in cases {
        ensure_eq!(debug_write_raw(ptr, len), Err(BadAddress.into()), "debug_write({ptr:#x}, {len})");
    }
    Ok(())
}

/// A string literal lives in the image's read-only segment: read-only memory is readable.
fn returns_length(_: &Boot) -> TestResult {
    let line = b"vulcan: debug-write probe (read-only data)\n";
    ensure_eq!(debug_write(line), Ok(line.len()), "debug_write of {} bytes", line.len());
    Ok(())
}

/// A buffer on the stack (read-write memory).
fn from_stack(_: &Boot) -> TestResult {
    let mut line = [0u8; 64];
    let text = b"vulcan: debug-write probe (stack)\n";
    line[..text.len()].copy_from_slice(text);
    let line = &line[..text.len()];
    ensure_eq!(debug_write(line), Ok(line.len()), "debug_write of {} bytes", line.len());
    Ok(())
}

fn empty(_: &Boot) -> TestResult {
    let buf = [b'\n'; 8];
    let ptr = buf.as_ptr().expose_provenance();
    ensure_eq!(debug_write_raw(ptr, 0), Ok(0), "debug_write({ptr:#x}, 0)");
    Ok(())
}

/// No byte of an empty range is unmapped, wherever it starts.
fn empty_any_address(_: &Boot) -> TestResult {
    for ptr in [0, 1, 0xfff, 0x0000_8000_0000_0000, 0xffff_ffff_8000_0000, usize::MAX] {
        ensure_eq!(debug_write_raw(ptr, 0), Ok(0), "debug_write({ptr:#x}, 0)");
    }
    Ok(())
}

/// Exactly `DEBUG_WRITE_MAX` bytes are accepted (printed as one long line).
fn max_length(_: &Boot) -> TestResult {
    let mut buf = [b'.'; DEBUG_WRITE_MAX];
    let head = b"vulcan: debug-write probe of DEBUG_WRITE_MAX bytes ";
    buf[..head.len()].copy_from_slice(head);
    buf[DEBUG_WRITE_MAX - 1] = b'\n';
    ensure_eq!(debug_write(&buf), Ok(DEBUG_WRITE_MAX), "debug_write of DEBUG_WRITE_MAX bytes");
    Ok(())
}

/// One byte more than the maximum, from a buffer that is all mapped.
fn too_long(_: &Boot) -> TestResult {
    let buf = [b'\n'; DEBUG_WRITE_MAX + 1];
    ensure_eq!(debug_write(&buf), Err(InvalidArgument.into()), "debug_write of DEBUG_WRITE_MAX + 1 mapped bytes");
    Ok(())
}

/// Calls that break both rules get `InvalidArgument`.
fn length_checked_first(_: &Boot) -> TestResult {
    let buf = [b'\n'; 8];
    let mapped = buf.as_ptr().expose_provenance();
    for (ptr, len) in [
        (0, DEBUG_WRITE_MAX + 1),
        (0xffff_ffff_8000_0000, DEBUG_WRITE_MAX + 1),
        (mapped, usize::MAX),
        (usize::MAX - 10, usize::MAX),
    ] {
        ensure_eq!(debug_write_raw(ptr, len), Err(InvalidArgument.into()), "debug_write({ptr:#x}, {len:#x})");
    }
    Ok(())
}

fn null(_: &Boot) -> TestResult {
    expect_bad_address(&[(0, 1), (0, 8)])
}

/// Page 0 is never mapped; the last case runs from page 0 into page 1.
fn page_zero(_: &Boot) -> TestResult {
    expect_bad_address(&[(0x10, 4), (0xfff, 1), (PAGE_SIZE - 8, 16)])
}

/// The kernel image is mapped, but not for user access.
fn kernel_image(_: &Boot) -> TestResult {
    expect_bad_address(&[(0xffff_ffff_8000_0000, 8), (0xffff_ffff_8010_0000, 8), (usize::MAX - 15, 8)])
}

/// The start of the higher half, where the direct map of physical memory usually lives.
fn direct_map(_: &Boot) -> TestResult {
    expect_bad_address(&[(0xffff_8000_0000_0000, 8), (0xffff_8000_0010_0000, 64)])
}

/// Addresses in the canonical hole, and a range that runs from the user half into it.
fn non_canonical(_: &Boot) -> TestResult {
    expect_bad_address(&[
        (0x0000_8000_0000_0000, 8),
        (0x8000_0000_0000_0000, 8),
        (0x0000_7fff_ffff_fff8, 16),
        (0xffff_7fff_ffff_fff8, 8),
    ])
}

/// Canonical user addresses nothing maps: `USER_BASE` (the image starts at 0x400000) and an
/// address far from the image, the stack, the root info page and the initramfs.
fn unmapped_user(_: &Boot) -> TestResult {
    expect_bad_address(&[(USER_BASE, 8), (0x0000_5000_0000_0000, 8)])
}

/// `ptr + len` overflows (the last case to exactly 2^64): with `len <= DEBUG_WRITE_MAX`, this is
/// a bad address, not a bad length.
fn wrapping_range(_: &Boot) -> TestResult {
    expect_bad_address(&[(usize::MAX - 10, 100), (usize::MAX, 2), (usize::MAX - 7, 8)])
}

/// Starts in the mapped top of the root stack, ends above `ROOT_STACK_TOP`, where nothing is
/// mapped (the root info page lies 512 KiB higher).
fn runs_off_stack_top(_: &Boot) -> TestResult {
    expect_bad_address(&[(ROOT_STACK_TOP - 16, 64), (ROOT_STACK_TOP, 8)])
}

/// The page below the root stack is an unmapped guard page; the first range runs from it into
/// the stack.
fn touches_stack_guard(_: &Boot) -> TestResult {
    let bottom = ROOT_STACK_TOP - ROOT_STACK_SIZE;
    expect_bad_address(&[(bottom - 8, 16), (bottom - PAGE_SIZE, 8)])
}

/// Starts at the end of the one read-only root info page and runs into the page after it.
fn runs_off_root_info(_: &Boot) -> TestResult {
    expect_bad_address(&[(START_INFO_ADDR + PAGE_SIZE - 8, 16)])
}

/// Nothing at or past `USER_END` is user memory; nothing the ABI lays out lies just below it.
fn past_user_end(_: &Boot) -> TestResult {
    expect_bad_address(&[(USER_END - 8, 16), (USER_END - 8, 8), (USER_END, 1)])
}

/// A line to write through a console under test; it ends in a newline so that the log stays
/// line-clean if the kernel wrongly accepts the write.
const PROBE: &[u8] = b"vulcan: debug-write probe (console capability)\n";

/// Expects `err` for `debug_write(console, PROBE)`, for each console.
fn expect_console_error(consoles: &[usize], err: sys::abi::Error) -> TestResult {
    for &console in consoles {
        let r = debug_write_console_raw(console, PROBE.as_ptr().expose_provenance(), PROBE.len());
        ensure_eq!(r, Err(err.into()), "debug_write(console {console:#x}, {} mapped bytes)", PROBE.len());
    }
    Ok(())
}

/// Slot 0 and the first free slots hold nothing.
fn console_empty_slot(_: &Boot) -> TestResult {
    expect_console_error(&[0, FIRST_FREE, FIRST_FREE + 1, SLOTS - 1], InvalidCapability)
}

/// Past the end of the root CSpace, up to `SLOT_AUTO` (which means nothing as a source).
fn console_out_of_range(_: &Boot) -> TestResult {
    expect_console_error(&[SLOTS, SLOTS + 1, 1 << 32, SLOT_AUTO - 1, SLOT_AUTO], InvalidCapability)
}

/// The root CSpace and Memory, and a copy of the Memory, are not consoles.
fn console_wrong_kind(_: &Boot) -> TestResult {
    expect_console_error(&[ROOT_MEMORY, ROOT_CSPACE], WrongKind)?;
    let memory = ok!(root::memory().copy(root::cspace(), Slot::Auto, rights::ALL), "cap_copy(root Memory)");
    expect_console_error(&[memory.slot()], WrongKind)?;
    delete(memory)
}

/// Copies of the console with every right but WRITE, and with none.
fn console_without_write(_: &Boot) -> TestResult {
    for mask in [rights::ALL & !rights::WRITE, rights::READ, 0] {
        let copy = console_copy(mask)?;
        let r = DebugConsole::new(copy).write(PROBE);
        ensure_eq!(r, Err(InsufficientRights.into()), "debug_write through a console copy with rights mask {mask:#x}");
        delete(copy)?;
    }
    Ok(())
}

/// A copy with WRITE, a copy of that copy, and a zero-length write through a copy all work.
fn console_copies_write(_: &Boot) -> TestResult {
    let copy = DebugConsole::new(console_copy(rights::WRITE)?);
    ensure_eq!(copy.write(PROBE), Ok(PROBE.len()), "debug_write through a copy with WRITE");
    let grandchild = ok!(copy.copy(root::cspace(), Slot::Auto, rights::ALL), "cap_copy(console copy)");
    let grandchild = DebugConsole::new(grandchild);
    ensure_eq!(grandchild.write(PROBE), Ok(PROBE.len()), "debug_write through a copy of a copy");
    ensure_eq!(grandchild.write_raw(0, 0), Ok(0), "debug_write(copy, 0, 0)");
    delete(grandchild.cap())?;
    delete(copy.cap())
}

/// The capability is checked before the length and the range: a bad console with a bad length
/// and a bad address gets the capability's error; so does a zero-length write, which succeeds
/// for any pointer only through a usable console.
fn console_checked_first(_: &Boot) -> TestResult {
    let no_write = console_copy(rights::READ)?;
    for (console, err) in [(FIRST_FREE + 7, InvalidCapability), (SLOTS, InvalidCapability), (ROOT_MEMORY, WrongKind)]
        .into_iter()
        .chain([(no_write.slot(), InsufficientRights)])
    {
        for (ptr, len) in [(0, DEBUG_WRITE_MAX + 1), (0, 8), (0xffff_8000_0000_0000, usize::MAX), (0, 0)] {
            let r = debug_write_console_raw(console, ptr, len);
            ensure_eq!(r, Err(err.into()), "debug_write(console {console:#x}, {ptr:#x}, {len:#x})");
        }
    }
    delete(no_write)
}

/// Among the console's own errors, `InvalidCapability` comes before `WrongKind` before
/// `InsufficientRights`: a copy of the root Memory without WRITE is the wrong kind (checked
/// before the rights), and an empty slot is invalid whatever else is wrong.
fn console_checks_in_order(_: &Boot) -> TestResult {
    let memory = ok!(root::memory().copy(root::cspace(), Slot::Auto, 0), "cap_copy(root Memory, no rights)");
    expect_console_error(&[memory.slot()], WrongKind)?;
    delete(memory)?;
    // The slot the copy was in is empty again.
    expect_console_error(&[memory.slot()], InvalidCapability)?;
    // And the root console still works, through `sys::debug_write`'s default.
    ensure_eq!(debug_write_console_raw(ROOT_DEBUG_CONSOLE, 0, 0), Ok(0), "debug_write(root console, 0, 0)");
    ensure_eq!(debug_write(PROBE), Ok(PROBE.len()), "debug_write through the root console");
    Ok(())
}
