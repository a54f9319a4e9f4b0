//! pcserial: the PC serial driver. It serves COM1 (ports 0x3f8-0x3ff, IRQ 4) and COM2
//! (0x2f8-0x2ff, IRQ 3) over the I/O protocol (`docs/io.md`) on its endpoint, interrupt-driven
//! through one Note, and, when Mercury makes it the console (it is given COM1), drains the
//! kernel log to COM1.
//!
//! Its capabilities are exactly its manifest's (`manifest.ini`, in its `.manifest` section):
//! the endpoint it serves, the two port ranges, the Note, and the two IRQs. It has no CSpace of
//! its own, so it cannot mint a capability per open handle: `open("com1")` binds the caller's
//! channel (its badge, which Mercury gives each client) to the port instead, and the reply
//! carries no capability (`sys::io::Channel::open` then goes on using the same channel).
//!
//! What Mercury tells it in its environment (the start page's `KEY=value` strings):
//! - `irq@4.bits`, `irq@5.bits`: the Note bits IRQ 3 (COM2) and IRQ 4 (COM1) signal;
//! - `log.bits`: the bits the kernel log signals on the same Note when it grows, and
//!   `log.from`: the log's sequence number to drain from; both only when pcserial is the console.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod port;
mod uart;

use alloc::vec::Vec;

use sys::io::server::{Event, Op, Request};
use sys::io::{IO_MAX, IoError, proto};
use sys::notify::{IrqHandler, Note};
use sys::{Boot, DebugConsole, Endpoint, IoPort, println};

use port::Port;
use uart::Uart;

sys::entry!(main);
sys::manifest!();

/// What `open` reports as the handle's kind: a serial port.
const KIND_SERIAL: usize = 1;

/// Which port each client channel (by badge) has open.
struct Sessions(Vec<(usize, usize)>);

impl Sessions {
    fn port(&self, badge: usize) -> Option<usize> {
        self.0.iter().find(|(b, _)| *b == badge).map(|&(_, p)| p)
    }

    fn bind(&mut self, badge: usize, port: usize) {
        self.close(badge);
        self.0.push((badge, port));
    }

    fn close(&mut self, badge: usize) {
        self.0.retain(|(b, _)| *b != badge);
    }
}

/// The kernel log, drained to COM1 when pcserial is the console.
struct Log {
    console: DebugConsole,
    bits: usize,
    seq: u64,
}

impl Log {
    /// Copies everything new in the kernel log out of `com1`.
    fn drain(&mut self, com1: &Port) {
        let mut buf = [0u8; 1024];
        loop {
            let Ok(got) = self.console.read_log(self.seq, &mut buf) else { return };
            if got.len == 0 {
                return;
            }
            com1.write(&buf[..got.len]);
            self.seq = got.next;
        }
    }
}

/// A number from the environment: decimal, or hexadecimal after `0x`.
fn env_number(boot: &Boot, key: &str) -> Option<u64> {
    let v = boot.env_var(key)?;
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn main(boot: Boot) -> usize {
    let cap = |name: &str| boot.cap(name);
    let (Some(endpoint), Some(note), Some(task)) =
        (cap("endpoint@0").map(Endpoint::new), cap("note@3").map(Note::new), boot.task())
    else {
        println!("pcserial: my start page lacks the endpoint, the Note or my Task");
        return 1;
    };
    let bits = |name: &str| env_number(&boot, name).unwrap_or(0) as usize;
    let mut ports = [
        Port::new(
            "com1",
            Uart::new(IoPort::new(cap("ioport@1").unwrap_or(sys::Cap::new(0))), 0x3f8),
            cap("irq@5").map(IrqHandler::new),
            bits("irq@5.bits"),
        ),
        Port::new(
            "com2",
            Uart::new(IoPort::new(cap("ioport@2").unwrap_or(sys::Cap::new(0))), 0x2f8),
            cap("irq@4").map(IrqHandler::new),
            bits("irq@4.bits"),
        ),
    ];
    if let Err(e) = note.bind(task) {
        println!("pcserial: cannot bind my Note: {e:?}");
        return 1;
    }
    for p in &mut ports {
        p.start();
    }
    let mut log = match (boot.console(), env_number(&boot, "log.bits")) {
        (Some(console), Some(bits)) if ports[0].present => {
            Some(Log { console, bits: bits as usize, seq: env_number(&boot, "log.from").unwrap_or(0) })
        }
        _ => None,
    };
    let present = |p: &Port| if p.present { "found" } else { "absent" };
    println!(
        "pcserial: COM1 {}, COM2 {}{}",
        present(&ports[0]),
        present(&ports[1]),
        if log.is_some() { "; draining the kernel log to COM1" } else { "" }
    );
    if let Some(l) = log.as_mut() {
        l.drain(&ports[0]);
    }
    let mut sessions = Sessions(Vec::new());
    loop {
        match Request::receive_event(endpoint) {
            Ok(Event::Notification(bits)) => {
                for p in ports.iter_mut().filter(|p| p.present && bits & p.irq_bits != 0) {
                    p.interrupt();
                }
                if let Some(l) = log.as_mut()
                    && bits & l.bits != 0
                {
                    l.drain(&ports[0]);
                }
            }
            Ok(Event::Request(req)) => {
                if let Err(e) = serve(req, &mut ports, &mut sessions) {
                    println!("pcserial: a reply failed: {e}");
                }
            }
            Err(e) => println!("pcserial: receive failed: {e}"),
        }
    }
}

/// Answers one request.
fn serve(mut req: Request, ports: &mut [Port; 2], sessions: &mut Sessions) -> Result<(), IoError> {
    let badge = req.badge();
    if let Op::Open { .. } = req.op() {
        return match ports.iter().position(|p| p.present && Some(p.name) == req.name()) {
            Some(i) => {
                sessions.bind(badge, i);
                req.reply([KIND_SERIAL, 0, 0, 0])
            }
            None => req.reply_error(IoError::NotFound),
        };
    }
    let Some(i) = sessions.port(badge) else { return req.reply_error(IoError::Closed) };
    let port = &mut ports[i];
    match req.op() {
        Op::Read { max, nonblock } => {
            if port.readable() > 0 {
                let data = port.take(max.min(IO_MAX));
                req.reply_data(&data)
            } else if nonblock {
                req.reply_error(IoError::WouldBlock)
            } else if port.busy() {
                req.reply_error(IoError::Busy)
            } else {
                port.wait(req.defer()?)
            }
        }
        Op::Write => {
            let n = port.write(req.data());
            req.reply([n, 0, 0, 0])
        }
        Op::Status => {
            let readable = port.readable();
            let state = proto::state::WRITABLE | if readable > 0 { proto::state::READABLE } else { 0 };
            req.reply([readable, state, 0, 0])
        }
        Op::Notify { bits } => {
            let note = req.take_cap().map(|c| (Note::new(c), bits));
            port.set_notify(note);
            req.reply([0; 4])
        }
        Op::Close => {
            sessions.close(badge);
            req.reply([0; 4])
        }
        _ => req.reply_error(IoError::Unsupported),
    }
}
