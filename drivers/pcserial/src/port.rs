//! One serial port as the driver serves it: its UART, the bytes received and not yet read, the
//! read that waits for them, and the Note a client asked to have signalled.

use alloc::collections::VecDeque;

use sys::io::IoError;
use sys::io::server::{Deferred, Op};
use sys::notify::{IrqHandler, Note};

use crate::uart::Uart;

/// Most bytes kept for reading; more are dropped (and counted).
pub const RX_BYTES: usize = 4096;

pub struct Port {
    pub name: &'static str,
    pub uart: Uart,
    pub present: bool,
    irq: Option<IrqHandler>,
    /// The bits the port's IRQ signals on the driver's Note.
    pub irq_bits: usize,
    rx: VecDeque<u8>,
    /// Bytes dropped because `rx` was full.
    pub dropped: u64,
    waiting: Option<Deferred>,
    notify: Option<(Note, usize)>,
}

impl Port {
    pub fn new(name: &'static str, uart: Uart, irq: Option<IrqHandler>, irq_bits: usize) -> Port {
        Port { name, uart, present: false, irq, irq_bits, rx: VecDeque::new(), dropped: 0, waiting: None, notify: None }
    }

    /// Finds and sets up the UART.
    pub fn start(&mut self) {
        self.present = self.uart.present() && self.uart.init().is_ok();
    }

    /// The port's interrupt: takes every byte that arrived, acknowledges the IRQ, and answers a
    /// waiting read or signals the client's Note.
    pub fn interrupt(&mut self) {
        while let Some(b) = self.uart.receive() {
            if self.rx.len() < RX_BYTES {
                self.rx.push_back(b);
            } else {
                self.dropped += 1;
            }
        }
        if let Some(irq) = self.irq {
            let _ = irq.ack();
        }
        self.deliver();
    }

    /// Answers the waiting read if there is data, else signals the client's Note.
    fn deliver(&mut self) {
        if self.rx.is_empty() {
            return;
        }
        if let Some(w) = self.waiting.take() {
            let max = match w.op() {
                Op::Read { max, .. } => max,
                _ => sys::io::IO_MAX,
            };
            let data = self.take(max);
            let _ = w.reply_data(&data);
        } else if let Some((note, bits)) = self.notify {
            let _ = note.signal(bits);
        }
    }

    /// Up to `max` bytes received.
    pub fn take(&mut self, max: usize) -> alloc::vec::Vec<u8> {
        let n = max.min(self.rx.len());
        self.rx.drain(..n).collect()
    }

    pub fn readable(&self) -> usize {
        self.rx.len()
    }

    /// A read with nothing to read: it waits (one at a time).
    pub fn wait(&mut self, read: Deferred) -> Result<(), IoError> {
        if self.waiting.is_some() {
            return read.reply_error(IoError::Busy);
        }
        self.waiting = Some(read);
        Ok(())
    }

    pub fn busy(&self) -> bool {
        self.waiting.is_some()
    }

    /// Sends `data` out of the UART, each `\n` as `\r\n` (a terminal in raw mode moves down
    /// without returning to the start of the line otherwise); returns how many bytes of `data`
    /// went.
    pub fn write(&self, data: &[u8]) -> usize {
        data.iter().take_while(|&&b| (b != b'\n' || self.uart.send(b'\r').is_ok()) && self.uart.send(b).is_ok()).count()
    }

    /// The Note to signal when data arrives (`None`: none); the old one is deleted.
    pub fn set_notify(&mut self, note: Option<(Note, usize)>) {
        if let Some((old, _)) = core::mem::replace(&mut self.notify, note) {
            let _ = old.delete();
        }
    }
}
