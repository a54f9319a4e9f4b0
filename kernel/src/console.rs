//! The console: the one ordered path every line of output takes, kernel log lines and user
//! `debug_write`s alike, into the log ring ([`crate::logring`]) and, while COM1 is the kernel's,
//! out of the UART.
//!
//! One [`KernelLock`] holds the UART, the ring and whether COM1 was released, so a line is written
//! whole and lands in the same order in both places. [`release`] hands COM1 to user space
//! (`console_release`): from then on lines go into the ring only, and whoever took COM1 drains
//! the ring to it (`log_read`), so kernel and user output still reach COM1 through one ordered
//! path. A panic takes the console over ([`force_unlock`]) and writes straight to the UART again:
//! it has nothing left to lose. The NMI handler, which can arrive while any path holds the lock,
//! only ever [`try_write_line`]s.
//!
//! This module decides nothing about who may read the log or release COM1: `uapi` checks the
//! capabilities. It records that bytes were added ([`take_added`]) for `uapi` to signal the log
//! Note on the way back to user mode; it never touches objects itself.

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::serial::Uart;
use crate::logring::{Read, Ring};
use crate::sync::KernelLock;

struct Console {
    uart: Uart,
    ring: Ring,
    /// COM1 was handed over: lines go to the ring only.
    released: bool,
    /// A panic took the console: lines go to the UART whatever `released` says.
    panicking: bool,
}

static CONSOLE: KernelLock<Console> =
    KernelLock::new("console", Console { uart: Uart::com1(), ring: Ring::new(), released: false, panicking: false });

/// Bytes were added to the ring since [`take_added`] last looked.
static ADDED: AtomicBool = AtomicBool::new(false);

impl Console {
    fn to_uart(&self) -> bool {
        !self.released || self.panicking
    }

    fn put(&mut self, bytes: &[u8]) {
        self.ring.push(bytes);
        if self.to_uart() {
            bytes.iter().for_each(|&b| self.uart.put(b));
        }
    }
}

impl Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.put(s.as_bytes());
        Ok(())
    }
}

fn line(c: &mut Console, prefix: &str, args: fmt::Arguments<'_>) {
    let _ = c.write_str(prefix);
    let _ = c.write_fmt(args);
    c.put(b"\n");
    ADDED.store(true, Ordering::Relaxed);
}

/// Sets up COM1. Called once, first thing at boot; lines before it reach the ring only.
pub fn init() {
    CONSOLE.lock().uart.init();
}

/// Writes `prefix`, the formatted `args` and a newline as one unit.
pub fn write_line(prefix: &str, args: fmt::Arguments<'_>) {
    line(&mut CONSOLE.lock(), prefix, args);
}

/// As [`write_line`], unless the console is busy (an NMI that interrupted a line): then nothing is
/// written and `false` returned. Never waits.
pub fn try_write_line(prefix: &str, args: fmt::Arguments<'_>) -> bool {
    let Some(mut c) = CONSOLE.try_lock() else { return false };
    line(&mut c, prefix, args);
    true
}

/// Writes raw bytes as one unit (the debug-write syscall).
pub fn write_bytes(chunks: &mut dyn Iterator<Item = &[u8]>) {
    let mut c = CONSOLE.lock();
    for chunk in chunks {
        c.put(chunk);
    }
    ADDED.store(true, Ordering::Relaxed);
}

/// Copies the log from sequence number `seq` on into `out` (see [`Ring::read`]).
pub fn read(seq: u64, out: &mut [u8]) -> Option<Read> {
    CONSOLE.lock().ring.read(seq, out)
}

/// Hands COM1 over: lines go to the ring only from now on. `false` if it was released already.
pub fn release() -> bool {
    let mut c = CONSOLE.lock();
    !core::mem::replace(&mut c.released, true)
}

/// Whether bytes were added to the log since the last call (and forgets that they were).
pub fn take_added() -> bool {
    ADDED.swap(false, Ordering::Relaxed)
}

/// Takes the console for a panic, even if the panicking code held its lock: from now on every
/// line goes to the UART too.
pub fn force_unlock() {
    if CONSOLE.is_locked() {
        // SAFETY: called only on the panic path with interrupts off on the only running CPU;
        // whoever held the lock will never run again.
        unsafe { CONSOLE.force_unlock() }
    }
    CONSOLE.lock().panicking = true;
}
