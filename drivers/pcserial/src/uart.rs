//! A 16550 UART through an IoPort: set up, receive what arrived, send a byte.
//!
//! Owns the register layout and nothing else: which port it is, its buffers and its clients are
//! `port`'s. Every access is a system call (`ioport_in`/`ioport_out`) the kernel checks against
//! the IoPort's range, so a mistake here is refused, not a wild write.

use sys::IoPort;

/// Register offsets from the base port.
const DATA: usize = 0;
const INT_ENABLE: usize = 1;
const FIFO_CONTROL: usize = 2;
const LINE_CONTROL: usize = 3;
const MODEM_CONTROL: usize = 4;
const LINE_STATUS: usize = 5;
const SCRATCH: usize = 7;

/// Line status: a byte has arrived; the transmit holding register is empty.
const LSR_DATA_READY: u8 = 1 << 0;
const LSR_THR_EMPTY: u8 = 1 << 5;

/// Most polls of the line status before a byte is sent anyway: a UART that never drains must
/// not hang the driver.
const SEND_POLLS: usize = 10_000;

/// A UART at `base`, reached through `io`.
#[derive(Copy, Clone, Debug)]
pub struct Uart {
    io: IoPort,
    base: usize,
}

impl Uart {
    pub const fn new(io: IoPort, base: usize) -> Uart {
        Uart { io, base }
    }

    /// Whether a UART answers: its scratch register keeps what is written, and the line status
    /// is not all ones (the bus's answer when nothing is there).
    pub fn present(&self) -> bool {
        let scratch = self.base + SCRATCH;
        self.io.write8(scratch, 0xa5).is_ok()
            && self.io.read8(scratch) == Ok(0xa5)
            && self.io.write8(scratch, 0x5a).is_ok()
            && self.io.read8(scratch) == Ok(0x5a)
            && self.io.read8(self.base + LINE_STATUS).is_ok_and(|s| s != 0xff)
    }

    /// 115200 baud, 8N1, FIFOs on and cleared, DTR, RTS and OUT2 (which lets the interrupt out),
    /// and an interrupt when a byte arrives.
    pub fn init(&self) -> sys::Result<()> {
        let w = |reg: usize, v: u8| self.io.write8(self.base + reg, v);
        w(INT_ENABLE, 0x00)?;
        w(LINE_CONTROL, 0x80)?;
        w(DATA, 0x01)?;
        w(INT_ENABLE, 0x00)?;
        w(LINE_CONTROL, 0x03)?;
        w(FIFO_CONTROL, 0xc7)?;
        w(MODEM_CONTROL, 0x0b)?;
        w(INT_ENABLE, 0x01)
    }

    /// The next byte received, if one has arrived.
    pub fn receive(&self) -> Option<u8> {
        let status = self.io.read8(self.base + LINE_STATUS).ok()?;
        if status & LSR_DATA_READY == 0 {
            return None;
        }
        self.io.read8(self.base + DATA).ok()
    }

    /// Sends `byte`, once the transmitter has room.
    pub fn send(&self, byte: u8) -> sys::Result<()> {
        for _ in 0..SEND_POLLS {
            if self.io.read8(self.base + LINE_STATUS)? & LSR_THR_EMPTY != 0 {
                break;
            }
        }
        self.io.write8(self.base + DATA, byte)
    }
}
