//! The 16550 UART on COM1 (I/O port 0x3f8): set up, and one byte at a time out. Nothing else:
//! who may write, in what order, and where else the bytes go (the log ring) is
//! [`crate::console`]'s, which holds the one [`Uart`] under its lock.

use core::fmt::{self, Write};

use x86_64::instructions::port::{PortReadOnly, PortWriteOnly};

const COM1: u16 = 0x3f8;

/// Line status register bit: the transmit holding register is empty.
const LSR_THR_EMPTY: u8 = 1 << 5;

/// The UART's registers, at their offsets from [`COM1`], and whether it was set up.
pub struct Uart {
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

impl Uart {
    /// COM1, not yet set up (writes are dropped until [`init`](Uart::init)).
    pub const fn com1() -> Uart {
        Uart {
            ready: false,
            data: PortWriteOnly::new(COM1),
            int_enable: PortWriteOnly::new(COM1 + 1),
            fifo_control: PortWriteOnly::new(COM1 + 2),
            line_control: PortWriteOnly::new(COM1 + 3),
            modem_control: PortWriteOnly::new(COM1 + 4),
            line_status: PortReadOnly::new(COM1 + 5),
        }
    }

    /// Sets up the UART: 115200 baud, 8N1, FIFOs on, interrupts off.
    pub fn init(&mut self) {
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

    /// Writes one byte, after waiting (boundedly) for room; nothing before [`init`](Uart::init).
    pub fn put(&mut self, byte: u8) {
        if !self.ready {
            return;
        }
        // Bounded wait: a UART that never drains must not hang the kernel.
        for _ in 0..100_000 {
            // SAFETY: reading COM1's line status register has no side effects.
            if unsafe { self.line_status.read() } & LSR_THR_EMPTY != 0 {
                break;
            }
            core::hint::spin_loop();
        }
        // SAFETY: writing COM1's transmit register. `crate::console` calls this only while COM1
        // is the kernel's: before `console_release`, or on the panic path, when no task will run
        // again to drive it.
        unsafe { self.data.write(byte) }
    }
}

impl Write for Uart {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        s.bytes().for_each(|b| self.put(b));
        Ok(())
    }
}
