//! The runtime: how a user program starts, what it is handed, and how it ends or panics.
//!
//! A program starts at its ELF entry, `_start`, with `rsp` 16-byte aligned and `rdi` as the one
//! start argument: [`START_INFO_ADDR`], the read-only start page ([`abi::start`]) its starter
//! mapped there, whoever that is (the kernel for the root task, whose page also carries an
//! [`abi::RootInfo`]). `_start` clears `rbp` (ending the frame-pointer chain), aligns
//! the stack (again) and calls into Rust, which checks the start argument, calls the program's
//! `main` with a [`Boot`], and passes what `main` returns to [`exit`](crate::exit).
//!
//! The check: only the address the ABI documents is ever read, and the page is used only if it
//! parses ([`abi::start::Reader`] checks magic, version and every offset and length); any other
//! start argument is kept as a plain number. [`Boot`] then hands out what the page says: the
//! capabilities by name ([`Boot::cap`], and [`Boot::memory`] and the like for the runtime's own),
//! the arguments, the environment, and the root task's boot information.
//!
//! A program names its `main` with [`entry!`](crate::entry):
//!
//! ```no_run
//! // src/main.rs: the crate is `#![no_std]` too (this example, built as a host doctest, links
//! // std instead).
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
//! A panic, in any thread, prints `panic: MESSAGE at FILE:LINE` as one line on the standard
//! error stream (if the program has one, [`crate::io::stderr`]) or the debug console, and
//! ends the whole program with [`PANIC_STATUS`] ([`process::exit`](crate::process::exit)), as
//! `panic = "abort"` means: there is no unwinding, and a thread that stopped half-way through
//! changing shared state (holding a lock, say) would leave the program's other threads to block
//! or see broken data. When `main` returns, the program ends the same way with its result.
//!
//! [`Boot`] hands out `'static` references into the program's start mappings (the start page, the
//! root task's initramfs). They stay valid because those mappings belong to the starter, which
//! never unmaps or changes them while the program lives, and because a program can leave the
//! VSpace holding them only through `task_set_space`, which is `unsafe` and forbids it while its
//! memory may be used (see [`safety`](crate::safety)).

#[cfg(panic = "abort")]
use core::panic::PanicInfo;
#[cfg(panic = "abort")]
use core::sync::atomic::{AtomicBool, Ordering};

use abi::RootInfo;
use abi::layout::{PAGE_SIZE, START_INFO_ADDR, is_user_range};
use abi::object::Kind;
use abi::rootinfo::{ROOT_INFO_MAGIC, ROOT_INFO_VERSION};
use abi::start::{Reader, StartCap, StartError, names};

use crate::cap::{CSpace, Cap, DebugConsole, Memory};
use crate::task::Task;
use crate::vspace::VSpace;

#[cfg(panic = "abort")]
use crate::process::exit;

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
    let boot = Boot::from_arg(arg);
    crate::process::init(&boot);
    crate::thread::block::init_main(crate::process::task(), crate::process::main_park_note().map_or(0, |n| n.slot()));
    exit(__sys_main(boot))
}

/// Declares a program's `main`: a `fn(sys::Boot) -> usize` whose result is the exit status.
///
/// Use it once, at the top level of a binary crate.
///
/// ```no_run
/// // src/main.rs of a program, which is also `#![no_std]` (this example, built as a host
/// // doctest, links std instead).
/// #![no_main]
///
/// sys::entry!(main);
///
/// fn main(boot: sys::Boot) -> usize {
///     let name = boot.args().next().unwrap_or("?");
///     sys::println!("{name}: hello");
///     0 // the exit status
/// }
/// ```
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

/// What a program is handed at start: the raw start argument and the checked start page.
///
/// ```no_run
/// #![no_main]
///
/// sys::entry!(main);
///
/// fn main(boot: sys::Boot) -> usize {
///     let Some(start) = boot.start() else {
///         return 1; // no start page: nothing to go on
///     };
///     sys::println!("{} capabilities, {} arguments", start.caps().count(), boot.args().count());
///     match boot.env_var("LOG") {
///         Some("quiet") => {}
///         _ => sys::println!("started"),
///     }
///     0
/// }
/// ```
#[derive(Copy, Clone, Debug)]
pub struct Boot {
    arg: usize,
    start: Result<Reader<'static>, BootError>,
}

/// Why [`Boot`] has no start page, or no root information.
///
/// ```no_run
/// # fn demo(boot: &sys::Boot) -> usize {
/// let info = match boot.check_root_info() {
///     Ok(info) => info,
///     Err(why) => {
///         // Say why, in words: `BootError` is `Display`.
///         sys::println!("init: no boot information: {why}");
///         return 1;
///     }
/// };
/// # 0
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum BootError {
    /// The start argument is not [`START_INFO_ADDR`] (a thread, or a starter that broke the ABI).
    /// Carries the argument. Nothing was read.
    NotStartInfoAddr(usize),
    /// The page at [`START_INFO_ADDR`] is not a valid start page.
    Page(StartError),
    /// The page is not the root task's: it carries no [`RootInfo`].
    NotRoot,
    /// The [`RootInfo`] does not start with [`ROOT_INFO_MAGIC`]; carries the magic found.
    BadRootMagic(u64),
    /// The [`RootInfo`] layout version is not [`ROOT_INFO_VERSION`]; carries the version found.
    BadRootVersion(u32),
}

impl core::fmt::Display for BootError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match *self {
            BootError::NotStartInfoAddr(arg) => {
                write!(f, "start argument {arg:#x} is not START_INFO_ADDR {START_INFO_ADDR:#x}")
            }
            BootError::Page(e) => write!(f, "the start page is not valid: {e:?}"),
            BootError::NotRoot => f.write_str("the start page carries no root information"),
            BootError::BadRootMagic(m) => write!(f, "root info magic {m:#018x}, expected {ROOT_INFO_MAGIC:#018x}"),
            BootError::BadRootVersion(v) => write!(f, "root info version {v}, expected {ROOT_INFO_VERSION}"),
        }
    }
}

impl Boot {
    /// Checks the start argument in `rdi`.
    ///
    /// Only the address the ABI documents, [`START_INFO_ADDR`], is ever read: any other value is
    /// kept as a plain number and never dereferenced.
    #[cfg_attr(
        not(any(panic = "abort", test)),
        allow(dead_code, reason = "called only from `_start`, which host builds leave out")
    )]
    fn from_arg(arg: usize) -> Boot {
        Boot { arg, start: start_page(arg).and_then(|page| Reader::new(page).map_err(BootError::Page)) }
    }

    /// The start argument exactly as it came in `rdi`.
    ///
    /// ```no_run
    /// use sys::abi::layout::START_INFO_ADDR;
    ///
    /// # fn demo(boot: &sys::Boot) {
    /// if boot.arg() != START_INFO_ADDR {
    ///     sys::println!("started with {:#x} in rdi, not a start page", boot.arg());
    /// }
    /// # }
    /// ```
    pub fn arg(&self) -> usize {
        self.arg
    }

    /// The start page, if there is a valid one.
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) {
    /// if let Some(start) = boot.start() {
    ///     for cap in start.caps() {
    ///         sys::println!("{}: slot {}, kind {}", cap.name(), cap.slot, cap.kind);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn start(&self) -> Option<Reader<'static>> {
        self.start.ok()
    }

    /// As [`start`](Self::start), saying why there is none.
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> usize {
    /// let start = match boot.check_start() {
    ///     Ok(start) => start,
    ///     Err(why) => {
    ///         sys::println!("bad start: {why}");
    ///         return 1;
    ///     }
    /// };
    /// sys::println!("CSpace of {} slots", 1usize << start.header().cspace_radix);
    /// # 0
    /// # }
    /// ```
    pub fn check_start(&self) -> Result<Reader<'static>, BootError> {
        self.start
    }

    /// The capability the start page names `name`, if any.
    ///
    /// ```no_run
    /// use sys::abi::object::Kind;
    ///
    /// # fn demo(boot: &sys::Boot) {
    /// // What the starter says it put there (the kernel has the last word: `Cap::identify`).
    /// if let Some(entry) = boot.cap_entry("uart") {
    ///     if entry.kind != Kind::IoPort as u32 {
    ///         sys::println!("uart: slot {} is not an IoPort", entry.slot);
    ///     }
    /// }
    /// # }
    /// ```
    pub fn cap_entry(&self, name: &str) -> Option<StartCap> {
        self.start()?.cap(name)
    }

    /// The slot of the capability the start page names `name`, if any.
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// // A driver's manifest grants its ports under a name of the manifest's choosing.
    /// let Some(cap) = boot.cap("uart") else {
    ///     sys::println!("no `uart` capability");
    ///     sys::exit(1);
    /// };
    /// let uart = sys::IoPort::new(cap);
    /// uart.write8(0x2f8, b'>')?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn cap(&self, name: &str) -> Option<Cap> {
        self.cap_entry(name).map(|c| Cap::new(c.slot as usize))
    }

    /// The capability named `name` if the start page says it is of `kind`.
    fn typed(&self, name: &str, kind: Kind) -> Option<Cap> {
        self.cap_entry(name).filter(|c| c.kind == kind as u32).map(|c| Cap::new(c.slot as usize))
    }

    /// The Memory the runtime makes things from ([`names::MEMORY`]), if the program has one.
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// match boot.memory() {
    ///     Some(memory) => sys::println!("{} pages of quota", memory.info()?.quota),
    ///     None => sys::println!("no Memory: no threads, no heap beyond the first"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn memory(&self) -> Option<Memory> {
        self.typed(names::MEMORY, Kind::Memory).map(Memory::new)
    }

    /// The program's own CSpace ([`names::CSPACE`]).
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// let own = boot.cspace().expect("the program has its CSpace");
    /// let spare = boot.console().expect("a console").copy(own, sys::Slot::Auto, sys::rights::WRITE)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn cspace(&self) -> Option<CSpace> {
        self.typed(names::CSPACE, Kind::CSpace).map(CSpace::new)
    }

    /// The program's own VSpace ([`names::VSPACE`]).
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot, page: sys::Page) -> sys::Result<()> {
    /// let here = boot.vspace().expect("the program has its VSpace");
    /// let memory = boot.memory().expect("the program has a Memory");
    /// page.map(here, 0x0000_4000_0000_0000, sys::vspace::access::R, memory)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn vspace(&self) -> Option<VSpace> {
        self.typed(names::VSPACE, Kind::VSpace).map(VSpace::new)
    }

    /// The program's own Task, its main thread ([`names::TASK`]).
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// let me = boot.task().expect("the program has its Task");
    /// let info = me.info()?;
    /// sys::println!("priority {}, may give up to {}", info.priority, info.max_priority);
    /// # Ok(())
    /// # }
    /// ```
    pub fn task(&self) -> Option<Task> {
        self.typed(names::TASK, Kind::Task).map(Task::new)
    }

    /// The debug console ([`names::CONSOLE`]).
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// if let Some(console) = boot.console() {
    ///     console.write(b"hello\n")?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn console(&self) -> Option<DebugConsole> {
        self.typed(names::CONSOLE, Kind::DebugConsole).map(DebugConsole::new)
    }

    /// The arguments, `argv[0]` (the program's name) first; none without a start page.
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> usize {
    /// let mut args = boot.args();
    /// let name = args.next().unwrap_or("?");
    /// let verbose = args.any(|a| a == "-v");
    /// sys::println!("{name}: verbose {verbose}");
    /// # 0
    /// # }
    /// ```
    pub fn args(&self) -> impl Iterator<Item = &'static str> {
        self.start().into_iter().flat_map(|r| r.args())
    }

    /// The value of `key` in the environment.
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) {
    /// let level = boot.env_var("LOG").unwrap_or("info");
    /// # }
    /// ```
    pub fn env_var(&self, key: &str) -> Option<&'static str> {
        self.start()?.env_var(key)
    }

    /// The root task's boot information, if this is the root task and the [`RootInfo`]'s magic
    /// and layout version match this library's [`abi`].
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) {
    /// if let Some(info) = boot.root_info() {
    ///     sys::println!("{} MiB of RAM, {} MiB free", info.mem_total >> 20, info.mem_free >> 20);
    /// }
    /// # }
    /// ```
    pub fn root_info(&self) -> Option<&'static RootInfo> {
        self.check_root_info().ok()
    }

    /// As [`root_info`](Self::root_info), saying why there is none.
    ///
    /// ```no_run
    /// use sys::rt::BootError;
    ///
    /// # fn demo(boot: &sys::Boot) -> usize {
    /// match boot.check_root_info() {
    ///     Ok(info) => sys::println!("TSC at {} MHz", info.tsc_hz / 1_000_000),
    ///     Err(BootError::NotRoot) => sys::println!("not the root task"),
    ///     Err(why) => {
    ///         sys::println!("boot information unusable: {why}");
    ///         return 1;
    ///     }
    /// }
    /// # 0
    /// # }
    /// ```
    pub fn check_root_info(&self) -> Result<&'static RootInfo, BootError> {
        let (offset, len) = self.start?.root_info_range().ok_or(BootError::NotRoot)?;
        debug_assert!(len == core::mem::size_of::<RootInfo>() && offset % 8 == 0);
        let addr = START_INFO_ADDR + offset;
        if offset % core::mem::align_of::<RootInfo>() != 0 {
            return Err(BootError::Page(StartError::BadArea));
        }
        let ptr = core::ptr::with_exposed_provenance::<RootInfo>(addr);
        // SAFETY: the start page is mapped read-only at `START_INFO_ADDR` for the program's whole
        // life (see the module docs); the reader checked that the `RootInfo` lies inside it, and
        // its offset is aligned for `RootInfo` (checked above); every field is an integer or a
        // byte array, so any bit pattern is a valid value, and nothing writes the page, so a
        // shared `'static` reference is sound.
        let info: &'static RootInfo = unsafe { &*ptr };
        if info.magic != ROOT_INFO_MAGIC {
            return Err(BootError::BadRootMagic(info.magic));
        }
        if info.version != ROOT_INFO_VERSION {
            return Err(BootError::BadRootVersion(info.version));
        }
        Ok(info)
    }

    /// The kernel command line the root task was given (empty without a valid [`RootInfo`], and
    /// cut at the first byte that is not UTF-8).
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) {
    /// for word in boot.cmdline().split(' ').filter(|w| w.starts_with("init.")) {
    ///     sys::println!("option {word}");
    /// }
    /// # }
    /// ```
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
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) {
    /// // `... init.verbose init.log=debug ...`
    /// let verbose = boot.cmdline_value("init.verbose").is_some();
    /// let log = boot.cmdline_value("init.log").unwrap_or("info");
    /// # }
    /// ```
    pub fn cmdline_value(&self, key: &str) -> Option<&'static str> {
        cmdline_value(self.cmdline(), key)
    }

    /// The initramfs (a ustar archive) the kernel mapped for the root task, if there is a valid
    /// [`RootInfo`] and its `initramfs_addr` and `initramfs_len` describe a non-empty range inside
    /// the user half.
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> usize {
    /// let Some(archive) = boot.initramfs() else {
    ///     sys::println!("no initramfs");
    ///     return 1;
    /// };
    /// // A ustar archive: the first member's name is its first 100 bytes.
    /// let name = &archive[..100.min(archive.len())];
    /// # 0
    /// # }
    /// ```
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
///
/// ```
/// use sys::rt::cmdline_value;
///
/// let line = "console=ttyS0 quiet log=info log=debug";
/// assert_eq!(cmdline_value(line, "console"), Some("ttyS0"));
/// assert_eq!(cmdline_value(line, "quiet"), Some(""), "a bare key");
/// assert_eq!(cmdline_value(line, "log"), Some("debug"), "the last one wins");
/// assert_eq!(cmdline_value(line, "verbose"), None);
/// ```
pub fn cmdline_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split(' ').rev().find_map(|word| match word.split_once('=') {
        Some((k, v)) if k == key => Some(v),
        None if word == key && !key.is_empty() => Some(""),
        _ => None,
    })
}

/// The start page, if `arg` is [`START_INFO_ADDR`].
#[cfg_attr(
    not(any(panic = "abort", test)),
    allow(dead_code, reason = "called only through `Boot::from_arg`, from `_start`, which host builds leave out")
)]
fn start_page(arg: usize) -> Result<&'static [u8], BootError> {
    if arg != START_INFO_ADDR {
        return Err(BootError::NotStartInfoAddr(arg));
    }
    let ptr = core::ptr::with_exposed_provenance::<u8>(arg);
    // SAFETY: a program started with `rdi == START_INFO_ADDR` has, by the ABI, its start page
    // mapped read-only there for its whole life (and never leaves that VSpace while it may use its
    // memory: `task_set_space`'s contract); bytes have no alignment or validity requirement, and
    // nothing writes the page, so a shared `'static` slice is sound. It is only read through
    // `Reader`, which checks every offset and length before it looks.
    Ok(unsafe { core::slice::from_raw_parts(ptr, PAGE_SIZE) })
}

#[cfg(panic = "abort")]
#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    static PANICKING: AtomicBool = AtomicBool::new(false);
    // A panic while printing this thread's panic (a `Display` impl that panics) must not recurse.
    if crate::thread::block::current().panicking.replace(true) {
        exit(PANIC_STATUS);
    }
    // Another thread panicked first: it prints and ends the program; this one only stops.
    if PANICKING.swap(true, Ordering::SeqCst) {
        crate::syscall::exit(PANIC_STATUS);
    }
    let mut line = crate::debug::FixedBuf::<512>::new();
    let _ = match info.location() {
        Some(at) => {
            core::fmt::write(&mut line, format_args!("panic: {} at {}:{}", info.message(), at.file(), at.line()))
        }
        None => core::fmt::write(&mut line, format_args!("panic: {}", info.message())),
    };
    line.end_line();
    // To the standard error if there is one (and it takes the line), else the debug console.
    let to_stderr =
        crate::io::stderr().is_some_and(|mut e| crate::io::Write::write_all(&mut e, line.as_bytes()).is_ok());
    if !to_stderr {
        match crate::process::console() {
            Some(c) => drop(c.write(line.as_bytes())),
            None => drop(crate::syscall::debug_write(line.as_bytes())),
        }
    }
    exit(PANIC_STATUS)
}

/// The precompiled `core` refers to this symbol (it is built for unwinding); with
/// `panic = "abort"` it is never called.
#[cfg(panic = "abort")]
#[unsafe(no_mangle)]
extern "C" fn rust_eh_personality() {}

/// The precompiled `alloc` refers to this symbol too (its landing pads, in `format!` and
/// friends); with `panic = "abort"` no landing pad is ever reached, so it is never called. Were
/// it ever, the thread stops rather than run on.
#[cfg(panic = "abort")]
#[unsafe(no_mangle)]
extern "C" fn _Unwind_Resume() -> ! {
    crate::syscall::exit(PANIC_STATUS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_start_info_addr_is_read() {
        for arg in [0, 1, 0x1000, START_INFO_ADDR - 4096, START_INFO_ADDR + 8, usize::MAX] {
            let boot = Boot::from_arg(arg);
            assert_eq!(boot.arg(), arg);
            assert_eq!(boot.check_start().err(), Some(BootError::NotStartInfoAddr(arg)));
            assert_eq!(boot.check_root_info().err(), Some(BootError::NotStartInfoAddr(arg)));
            assert!(boot.root_info().is_none());
            assert!(boot.memory().is_none() && boot.cap("cspace").is_none());
            assert_eq!(boot.args().count(), 0);
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
