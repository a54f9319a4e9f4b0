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
//! What a write puts on the console is checked on the serial log, by `cargo xtask test`: every
//! write that must succeed writes a [marker](crate::marker) (its tag listed in
//! `vulcan/inventory.txt` after the test), which must appear once, whole, among its test's lines;
//! every write that must be refused and reads mapped memory of this program reads a refused text,
//! which must not appear at all. Both end in a newline, so the log stays line-clean even when the
//! kernel wrongly accepts a write that should fail.

use core::hint::black_box;

use sys::abi::Error::{BadAddress, InsufficientRights, InvalidArgument, InvalidCapability, WrongKind};
use sys::abi::bootcaps::{FIRST_FREE, ROOT_CSPACE, ROOT_DEBUG_CONSOLE, ROOT_MEMORY};
use sys::abi::layout::{PAGE_SIZE, ROOT_STACK_SIZE, ROOT_STACK_TOP, START_INFO_ADDR, USER_BASE, USER_END};
use sys::abi::syscall::{DEBUG_WRITE_MAX, SLOT_AUTO};
use sys::vspace::{Page, VSpace, access};
use sys::{Boot, DebugConsole, Slot, debug_write, debug_write_console_raw, debug_write_raw, rights, root};

use super::support::{LAST_FREE, SLOTS, console_copy, delete, isolated};
use crate::harness::{Test, TestResult, ensure, ensure_eq, ok};
use crate::marker::{Line, fill_marker, fill_refused, marker, refused};
use crate::space::{TEST_AREA, image_segments, prime_window};

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
    Test::new("debug_write_runs_off_own_page", |b| {
        prime_window()?;
        isolated(b, runs_off_own_page)
    }),
    Test::new("debug_write_console_empty_slot", |b| isolated(b, console_empty_slot)),
    Test::new("debug_write_console_out_of_range", |b| isolated(b, console_out_of_range)),
    Test::new("debug_write_console_wrong_kind", |b| isolated(b, console_wrong_kind)),
    Test::new("debug_write_console_without_write", |b| isolated(b, console_without_write)),
    Test::new("debug_write_console_copies_write", |b| isolated(b, console_copies_write)),
    Test::new("debug_write_console_checked_first", |b| isolated(b, console_checked_first)),
    Test::new("debug_write_console_checks_in_order", |b| isolated(b, console_checks_in_order)),
];

/// Writes `line` through `console` (the root console if `None`) and expects its whole length.
fn write_marker(console: Option<DebugConsole>, line: &Line) -> TestResult {
    let bytes = line.as_bytes();
    let r = match console {
        Some(console) => console.write(bytes),
        None => debug_write(bytes),
    };
    ensure_eq!(r, Ok(bytes.len()), "debug_write of a {}-byte marker", bytes.len());
    Ok(())
}

/// Expects `BadAddress` for each `(ptr, len)`.
fn expect_bad_address(cases: &[(usize, usize)]) -> TestResult {
    for &(ptr, len) in cases {
        ensure_eq!(debug_write_raw(ptr, len), Err(BadAddress.into()), "debug_write({ptr:#x}, {len})");
    }
    Ok(())
}

/// A marker built at compile time, in the image's read-only segment.
static READ_ONLY: Line = marker("read-only", "a static in the image's read-only segment");

/// Read-only memory is readable.
fn returns_length(_: &Boot) -> TestResult {
    let at = READ_ONLY.as_bytes().as_ptr().addr();
    let rodata = image_segments()[1];
    ensure!(rodata.start <= at && at < rodata.end, "the marker at {at:#x} lies outside the read-only segment");
    write_marker(None, &READ_ONLY)
}

/// A buffer on the stack (read-write memory).
fn from_stack(_: &Boot) -> TestResult {
    let mut line = marker("stack", "a buffer on the root task's stack");
    // Keeps the line in memory on the stack, not folded into a constant in the image.
    black_box(&mut line);
    let at = line.as_bytes().as_ptr().addr();
    let stack = ROOT_STACK_TOP - ROOT_STACK_SIZE..ROOT_STACK_TOP;
    ensure!(stack.contains(&at), "the marker at {at:#x} lies outside the root stack {stack:#x?}");
    write_marker(None, &line)
}

/// Nothing is written, though the buffer is mapped and holds a line.
fn empty(_: &Boot) -> TestResult {
    let line = refused("empty", "a zero-length write from a mapped buffer");
    let ptr = line.as_bytes().as_ptr().expose_provenance();
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

/// Exactly `DEBUG_WRITE_MAX` bytes are accepted: one marker line with a ruler for its body, from
/// the stack, where it spans two pages (the kernel reads them through two mappings; the ruler
/// shows on the log if it puts them together in the wrong order).
fn max_length(_: &Boot) -> TestResult {
    let mut buf = [0u8; DEBUG_WRITE_MAX + 1];
    // A page-aligned start would keep the write in one page: start one byte later then.
    let skip = usize::from(buf.as_ptr().addr().is_multiple_of(PAGE_SIZE));
    let buf = &mut buf[skip..skip + DEBUG_WRITE_MAX];
    fill_marker("max-length", buf);
    ensure_eq!(debug_write(buf), Ok(DEBUG_WRITE_MAX), "debug_write of a DEBUG_WRITE_MAX-byte marker");
    Ok(())
}

/// One byte more than the maximum, from a buffer that is all mapped.
fn too_long(_: &Boot) -> TestResult {
    let mut buf = [0u8; DEBUG_WRITE_MAX + 1];
    fill_refused("too-long", "DEBUG_WRITE_MAX + 1 mapped bytes", &mut buf);
    ensure_eq!(debug_write(&buf), Err(InvalidArgument.into()), "debug_write of DEBUG_WRITE_MAX + 1 mapped bytes");
    Ok(())
}

/// Calls that break both rules get `InvalidArgument`.
fn length_checked_first(_: &Boot) -> TestResult {
    let line = refused("length-first", "a length past DEBUG_WRITE_MAX from a mapped buffer");
    let mapped = line.as_bytes().as_ptr().expose_provenance();
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

/// A Page of this test's own, mapped read-write at the start of the test area with nothing mapped
/// after it, holds a marker at its start and refused text after that: the marker is written,
/// and every range that runs off the Page's end is refused without leaving any of the refused
/// text (the ranges from the stack and the root info page above hold bytes this program cannot
/// choose). A failure leaves the Page mapped; [`isolated`] deletes it, which unmaps it.
fn runs_off_own_page(_: &Boot) -> TestResult {
    let at = TEST_AREA;
    let end = at + PAGE_SIZE;
    ensure_eq!(debug_write_raw(end, 1), Err(BadAddress.into()), "debug_write({end:#x}, 1) before the test maps");
    let page = ok!(Page::create(root::memory(), 1, Slot::Auto), "page_create(1)");
    ok!(page.map(VSpace::root(), at, access::RW, root::memory()), "page_map(RW) at {at:#x}");
    let line = marker("own-page", "the start of a page mapped in the test area");
    let head = line.as_bytes().len();
    // SAFETY: the Page was just mapped read-write at `at`, one page long, and nothing else
    // refers to it; the slice is gone before the Page is unmapped.
    let bytes = unsafe { core::slice::from_raw_parts_mut(core::ptr::with_exposed_provenance_mut::<u8>(at), PAGE_SIZE) };
    bytes[..head].copy_from_slice(line.as_bytes());
    fill_refused("own-page", "runs off the end of its page", &mut bytes[head..]);
    ensure_eq!(debug_write_raw(at, head), Ok(head), "debug_write of the {head}-byte marker at {at:#x}");
    for (ptr, len) in [(end - 128, 256), (end - 8, 16), (end - 1, 2), (at + head, PAGE_SIZE), (at + 1, PAGE_SIZE)] {
        ensure_eq!(debug_write_raw(ptr, len), Err(BadAddress.into()), "debug_write({ptr:#x}, {len})");
    }
    // SAFETY: the slice into the Page is not used any more.
    ok!(unsafe { page.unmap() }, "page_unmap");
    delete(page.cap())
}

/// What a write through a console under test that must be refused would have printed.
static CONSOLE_REFUSED: Line = refused("console", "through a console that must not write");

/// Expects `err` for a write of [`CONSOLE_REFUSED`] through each console.
fn expect_console_error(consoles: &[usize], err: sys::abi::Error) -> TestResult {
    let line = CONSOLE_REFUSED.as_bytes();
    for &console in consoles {
        let r = debug_write_console_raw(console, line.as_ptr().expose_provenance(), line.len());
        ensure_eq!(r, Err(err.into()), "debug_write(console {console:#x}, {} mapped bytes)", line.len());
    }
    Ok(())
}

/// Slot 0 and the first free slots hold nothing.
fn console_empty_slot(_: &Boot) -> TestResult {
    expect_console_error(&[0, FIRST_FREE, FIRST_FREE + 1, LAST_FREE], InvalidCapability)
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
        let r = DebugConsole::new(copy).write(CONSOLE_REFUSED.as_bytes());
        ensure_eq!(r, Err(InsufficientRights.into()), "debug_write through a console copy with rights mask {mask:#x}");
        delete(copy)?;
    }
    Ok(())
}

/// A copy with WRITE, a copy of that copy, and a zero-length write through a copy all work.
fn console_copies_write(_: &Boot) -> TestResult {
    let copy = DebugConsole::new(console_copy(rights::WRITE)?);
    write_marker(Some(copy), &marker("console-copy", "through a copy of the root console with WRITE"))?;
    let grandchild = ok!(copy.copy(root::cspace(), Slot::Auto, rights::ALL), "cap_copy(console copy)");
    let grandchild = DebugConsole::new(grandchild);
    write_marker(Some(grandchild), &marker("console-copy-of-copy", "through a copy of that copy"))?;
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
    write_marker(None, &marker("root-console", "through the root console after the refused writes"))
}
