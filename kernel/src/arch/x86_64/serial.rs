//! The serial console on COM1 (16550 UART at I/O port 0x3f8): the kernel log and the
//! debug-write syscall both end here, one whole line at a time under one lock.
//!
//! The lock is a [`KernelLock`]: a path that logs while it holds the console is a bug reported by
//! a panic, and the panic path takes the console over. The NMI handler, which can arrive while
//! any path holds it, only ever [`try_write_line`]s.

use core::fmt::{self, Write};

use x86_64::instructions::port::{PortReadOnly, PortWriteOnly};

use crate::sync::KernelLock;

const COM1: u16 = 0x3f8;

/// Line status register bit: the transmit holding register is empty.
const LSR_THR_EMPTY: u8 = 1 << 5;

/// The UART's registers, at their offsets from [`COM1`], and whether it was set up.
struct Uart {
    ready: bool,
    /// +0: transmit holding register (divisor latch low while LCR.DLAB is set).
    data: PortWriteOnly<u8>,
    /// +1: interrupt enable register (divisor latch high while LCR.DLAB is set).
    int_enable: PortWriteOnly<u8>,
    /// +2: FIFO control register.
    fifo_control: PortWriteOnly<u8>,
    /// +3: line control register.
    line_control: PortWriteOnly<u8>,
    /// +4: modem control register.
    modem_control: PortWriteOnly<u8>,
    /// +5: line status register.
    line_status: PortReadOnly<u8>,
}

static CONSOLE: KernelLock<Uart> = KernelLock::new(
    "console",
    Uart {
        ready: false,
        data: PortWriteOnly::new(COM1),
        int_enable: PortWriteOnly::new(COM1 + 1),
        fifo_control: PortWriteOnly::new(COM1 + 2),
        line_control: PortWriteOnly::new(COM1 + 3),
        modem_control: PortWriteOnly::new(COM1 + 4),
        line_status: PortReadOnly::new(COM1 + 5),
    },
);

impl Uart {
    fn init(&mut self) {
        // SAFETY: COM1 belongs to the kernel's console; this is the standard 16550 setup:
        // interrupts off, 115200 baud (divisor 1), 8N1, FIFOs on, DTR/RTS set.
        unsafe {
            self.int_enable.write(0x00);
            self.line_control.write(0x80);
            self.data.write(0x01);
            self.int_enable.write(0x00);
            self.line_control.write(0x03);
            self.fifo_control.write(0xc7);
            self.modem_control.write(0x03);
        }
        self.ready = true;
    }

    fn put(&mut self, byte: u8) {
        // Bounded wait: a UART that never drains must not hang the kernel.
        for _ in 0..100_000 {
            // SAFETY: reading COM1's line status register has no side effects.
            if unsafe { self.line_status.read() } & LSR_THR_EMPTY != 0 {
                break;
            }
            core::hint::spin_loop();
        }
        // SAFETY: writing the transmit register of the kernel's own console.
        unsafe { self.data.write(byte) }
    }
}

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.put(b));
        Ok(())
    }
}

/// Sets up COM1. Called once, first thing at boot; logging before it is dropped.
pub fn init() {
    CONSOLE.lock().init();
}

/// Writes `prefix`, the formatted `args` and a newline as one unit.
pub fn write_line(prefix: &str, args: fmt::Arguments<'_>) {
    let mut port = CONSOLE.lock();
    if !port.ready {
        return;
    }
    let _ = port.write_str(prefix);
    let _ = port.write_fmt(args);
    port.put(b'\n');
}

/// As [`write_line`], unless the console is busy (an NMI that interrupted a line): then nothing is
/// written and `false` returned. Never waits.
pub fn try_write_line(prefix: &str, args: fmt::Arguments<'_>) -> bool {
    let Some(mut port) = CONSOLE.try_lock() else { return false };
    if port.ready {
        let _ = port.write_str(prefix);
        let _ = port.write_fmt(args);
        port.put(b'\n');
    }
    true
}

/// Writes raw bytes as one unit (the debug-write syscall).
pub fn write_bytes(chunks: &mut dyn Iterator<Item = &[u8]>) {
    let mut port = CONSOLE.lock();
    if !port.ready {
        return;
    }
    for chunk in chunks {
        chunk.iter().for_each(|&b| port.put(b));
    }
}

/// Takes the console for a panic, even if the panicking code held its lock.
pub fn force_unlock() {
    if CONSOLE.is_locked() {
        // SAFETY: called only on the panic path with interrupts off on the only running CPU;
        // whoever held the lock will never run again.
        unsafe { CONSOLE.force_unlock() }
    }
}
