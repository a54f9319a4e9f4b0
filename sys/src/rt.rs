//! The runtime: how a user program starts, what it is handed, and how it ends or panics.
//!
//! The kernel starts a task at its ELF entry, `_start`, with `rsp` 16-byte aligned and `rdi` as
//! the one start argument. For the root task `rdi` is [`ROOT_INFO_ADDR`], the read-only page
//! holding an [`abi::RootInfo`]. `_start` clears `rbp` (ending the frame-pointer chain), aligns
//! the stack (again) and calls into Rust, which checks the start argument, calls the program's
//! `main` with a [`Boot`], and passes what `main` returns to [`exit`](crate::exit).
//!
//! The check: only the address the ABI documents is ever read, and the page is used only if its
//! magic and layout version match this library's [`abi`]; any other start argument is kept as a
//! plain number (for tasks other than the root task, whose start argument is their starter's
//! business).
//!
//! A program names its `main` with [`entry!`](crate::entry):
//!
//! ```ignore
//! #![no_std]
//! #![no_main]
//!
//! sys::entry!(main);
//!
//! fn main(boot: sys::Boot) -> usize {
//!     sys::println!("hello");
//!     0
//! }
//! ```
//!
//! A panic prints `panic: MESSAGE at FILE:LINE` as one debug-console line and exits with
//! [`PANIC_STATUS`]. There is no unwinding (`panic = "abort"`).
//!
//! [`Boot`] hands out `'static` references into the root task's boot mappings (the RootInfo page,
//! the initramfs). They stay valid because those mappings belong to the kernel, which never
//! unmaps or changes them, and because the root task can leave the VSpace holding them only
//! through `task_set_space`, which is `unsafe` and forbids it while its memory may be used (see
//! [`safety`](crate::safety)).

#[cfg(panic = "abort")]
use core::panic::PanicInfo;
#[cfg(panic = "abort")]
use core::sync::atomic::{AtomicBool, Ordering};

use abi::RootInfo;
use abi::layout::{ROOT_INFO_ADDR, is_user_range};
use abi::rootinfo::{ROOT_INFO_MAGIC, ROOT_INFO_VERSION};

#[cfg(panic = "abort")]
use crate::syscall::exit;

/// Exit status of a task that panicked.
pub const PANIC_STATUS: usize = 101;

// The runtime entry points exist only in programs built with `panic = "abort"`, as every
// Perihelion program is; host builds, which unwind (unit tests and doctests), get their own from
// std and the C runtime (see the crate docs).
#[cfg(panic = "abort")]
core::arch::global_asm!(
    ".pushsection .text._start, \"ax\", @progbits",
    ".global _start",
    ".type _start, @function",
    "_start:",
    "    xor ebp, ebp",
    "    and rsp, -16",
    "    call {start}",
    "    ud2",
    ".size _start, . - _start",
    ".popsection",
    start = sym sys_start,
);

#[cfg(panic = "abort")]
// SAFETY: `entry!` is the only way to define `__sys_main`, and it defines it with exactly this
// signature (a mismatch would be a type error there, since the macro coerces `main` to this
// function type). A program without `entry!` fails to link rather than calling garbage.
unsafe extern "Rust" {
    safe fn __sys_main(boot: Boot) -> usize;
}

/// Called by `_start` with the kernel's `rdi`, on an aligned stack with `rbp` cleared.
#[cfg(panic = "abort")]
extern "C" fn sys_start(arg: usize) -> ! {
    exit(__sys_main(Boot::from_arg(arg)))
}

/// Declares a program's `main`: a `fn(sys::Boot) -> usize` whose result is the exit status.
///
/// Use it once, at the top level of a binary crate.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[doc(hidden)]
        #[unsafe(export_name = "__sys_main")]
        pub fn __sys_main(boot: $crate::Boot) -> usize {
            let main: fn($crate::Boot) -> usize = $main;
            main(boot)
        }
    };
}

/// What a program is handed at start: the raw start argument and, for the root task, the
/// checked [`RootInfo`] page.
#[derive(Copy, Clone, Debug)]
pub struct Boot {
    arg: usize,
    root_info: Result<&'static RootInfo, RootInfoError>,
}

/// Why [`Boot::root_info`] is `None`.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum RootInfoError {
    /// The start argument is not [`ROOT_INFO_ADDR`]: this task was not started as the root task
    /// (or the kernel broke the ABI). Carries the argument. Nothing was read.
    NotRootInfoAddr(usize),
    /// The page does not start with [`ROOT_INFO_MAGIC`]; carries the magic found.
    BadMagic(u64),
    /// The layout version is not [`ROOT_INFO_VERSION`]; carries the version found.
    BadVersion(u32),
}

impl core::fmt::Display for RootInfoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            RootInfoError::NotRootInfoAddr(arg) => {
                write!(f, "start argument {arg:#x} is not ROOT_INFO_ADDR {ROOT_INFO_ADDR:#x}")
            }
            RootInfoError::BadMagic(m) => {
                write!(f, "root info magic {m:#018x}, expected {ROOT_INFO_MAGIC:#018x}")
            }
            RootInfoError::BadVersion(v) => {
                write!(f, "root info version {v}, expected {ROOT_INFO_VERSION}")
            }
        }
    }
}

impl Boot {
    /// Checks the start argument the kernel passed in `rdi`.
    ///
    /// Only the address the ABI documents, [`ROOT_INFO_ADDR`], is ever read: any other value is
    /// kept as a plain number and never dereferenced.
    fn from_arg(arg: usize) -> Boot {
        Boot { arg, root_info: check_root_info(arg) }
    }

    /// The start argument exactly as the kernel passed it in `rdi`.
    pub fn arg(&self) -> usize {
        self.arg
    }

    /// The root task's boot information, if this task was started as the root task with a page
    /// whose magic and layout version match this library's [`abi`].
    pub fn root_info(&self) -> Option<&'static RootInfo> {
        self.root_info.ok()
    }

    /// As [`root_info`](Self::root_info), saying why the page was refused.
    pub fn check_root_info(&self) -> Result<&'static RootInfo, RootInfoError> {
        self.root_info
    }

    /// The kernel command line the root task was given (empty without a valid [`RootInfo`], and
    /// cut at the first byte that is not UTF-8).
    pub fn cmdline(&self) -> &'static str {
        let Some(info) = self.root_info() else { return "" };
        let len = usize::try_from(info.cmdline_len).unwrap_or(usize::MAX).min(info.cmdline.len());
        let bytes = &info.cmdline[..len];
        match core::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default(),
        }
    }

    /// The value of `key=value` on the kernel command line ([`cmdline_value`]).
    pub fn cmdline_value(&self, key: &str) -> Option<&'static str> {
        cmdline_value(self.cmdline(), key)
    }

    /// The initramfs (a ustar archive) the kernel mapped for the root task, if there is a valid
    /// [`RootInfo`] and its `initramfs_addr` and `initramfs_len` describe a non-empty range inside
    /// the user half.
    pub fn initramfs(&self) -> Option<&'static [u8]> {
        let info = self.root_info()?;
        let addr = usize::try_from(info.initramfs_addr).ok()?;
        let len = usize::try_from(info.initramfs_len).ok()?;
        if len == 0 || !is_user_range(addr, len) {
            return None;
        }
        let ptr = core::ptr::with_exposed_provenance::<u8>(addr);
        // SAFETY: the ABI has the kernel map the initramfs read-only at `initramfs_addr` for
        // `initramfs_len` bytes before the root task starts and never unmap or change it while
        // the task lives, and the task never leaves that VSpace while it may use this memory
        // (`task_set_space`'s contract); the range is non-empty, does not wrap and lies in the
        // user half (checked above), and `u8` has no alignment or validity requirement.
        Some(unsafe { core::slice::from_raw_parts(ptr, len) })
    }
}

/// The value of the last word `key=value` in `line` (words are separated by spaces), `""` for a
/// bare `key`, or `None` if no word names `key`.
pub fn cmdline_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ').rev().find_map(|word| match word.split_once('=') {
        Some((k, v)) if k == key => Some(v),
        None if word == key && !key.is_empty() => Some(""),
        _ => None,
    })
}

fn check_root_info(arg: usize) -> Result<&'static RootInfo, RootInfoError> {
    if arg != ROOT_INFO_ADDR {
        return Err(RootInfoError::NotRootInfoAddr(arg));
    }
    let ptr = core::ptr::with_exposed_provenance::<RootInfo>(arg);
    // SAFETY: a task started with `rdi == ROOT_INFO_ADDR` is the root task, for which the ABI has
    // the kernel map one read-only page there, holding a `RootInfo`, for the task's whole life
    // (and the task never leaves that VSpace while it may use its memory: `task_set_space`'s
    // contract).
    // The address is page-aligned (so aligned for `RootInfo`), `RootInfo` is smaller than a page,
    // and every field is an integer or a byte array, so any bit pattern is a valid value; nothing
    // writes the page, so a shared `'static` reference is sound.
    let info: &'static RootInfo = unsafe { &*ptr };
    if info.magic != ROOT_INFO_MAGIC {
        return Err(RootInfoError::BadMagic(info.magic));
    }
    if info.version != ROOT_INFO_VERSION {
        return Err(RootInfoError::BadVersion(info.version));
    }
    Ok(info)
}

#[cfg(panic = "abort")]
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    static PANICKING: AtomicBool = AtomicBool::new(false);
    // A panic while printing a panic (a `Display` impl that panics) must not recurse.
    if PANICKING.swap(true, Ordering::Relaxed) {
        exit(PANIC_STATUS);
    }
    match info.location() {
        Some(at) => crate::println!("panic: {} at {}:{}", info.message(), at.file(), at.line()),
        None => crate::println!("panic: {}", info.message()),
    }
    exit(PANIC_STATUS)
}

/// The precompiled `core` refers to this symbol (it is built for unwinding); with
/// `panic = "abort"` it is never called.
#[cfg(panic = "abort")]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_root_info_addr_is_read() {
        for arg in [0, 1, 0x1000, ROOT_INFO_ADDR - 4096, ROOT_INFO_ADDR + 8, usize::MAX] {
            let boot = Boot::from_arg(arg);
            assert_eq!(boot.arg(), arg);
            assert_eq!(boot.check_root_info().err(), Some(RootInfoError::NotRootInfoAddr(arg)));
            assert!(boot.root_info().is_none());
            assert!(boot.initramfs().is_none());
            assert_eq!(boot.cmdline(), "");
        }
    }

    #[test]
    fn cmdline_values() {
        let line = "vulcan.boot=pvh quiet  x=1 x=2 empty= a=b=c";
        assert_eq!(cmdline_value(line, "vulcan.boot"), Some("pvh"));
        assert_eq!(cmdline_value(line, "quiet"), Some(""));
        assert_eq!(cmdline_value(line, "x"), Some("2"), "the last word wins");
        assert_eq!(cmdline_value(line, "empty"), Some(""));
        assert_eq!(cmdline_value(line, "a"), Some("b=c"));
        assert_eq!(cmdline_value(line, "vulcan"), None);
        assert_eq!(cmdline_value(line, "pvh"), None);
        assert_eq!(cmdline_value(line, ""), None);
        assert_eq!(cmdline_value("", "x"), None);
    }
}
