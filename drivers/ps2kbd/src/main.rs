//! ps2kbd: the PS/2 keyboard driver. It owns the i8042 controller's data port (0x60) and its
//! status and command port (0x64), and IRQ 1; sets the controller up (keyboard interrupt on,
//! translation to scancode set 1 on, the keyboard port enabled); and serves the keys typed as
//! bytes ([`ps2kbd::keys`]: US layout, ANSI escapes for the cursor keys) over the I/O protocol
//! on its endpoint: `open("keyboard")`, then `read` (waiting for a key), `status`, `notify`
//! (the framebuffer terminal takes its keys this way), `close`.
//!
//! A machine without a controller (it reads all ones) leaves it serving nothing to read, with one
//! log line. Every wait on the controller is bounded: a controller that never answers cannot
//! hang the driver.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use sys::io::server::{Deferred, Event, Op, Request};
use sys::io::{IO_MAX, IoError, proto};
use sys::notify::{IrqHandler, Note};
use sys::{Boot, Endpoint, IoPort, println};

use ps2kbd::keys::Keys;

sys::entry!(main);
sys::manifest!();

const DATA: usize = 0x60;
const STATUS: usize = 0x64;
const COMMAND: usize = 0x64;

/// Status bits: output buffer full (a byte to read), input buffer full (the controller is busy),
/// the byte is from the auxiliary (mouse) port.
const OUT_FULL: u8 = 0x01;
const IN_FULL: u8 = 0x02;
const FROM_AUX: u8 = 0x20;

/// Configuration byte bits: keyboard interrupt, keyboard clock disabled, translation.
const CFG_IRQ1: u8 = 0x01;
const CFG_KBD_OFF: u8 = 0x10;
const CFG_TRANSLATE: u8 = 0x40;

/// Polls of the status register before giving up on the controller.
const POLLS: usize = 100_000;

/// Most bytes kept for reading; more are dropped.
const MAX_INPUT: usize = 4096;

/// The i8042 through the driver's two IoPorts.
struct Controller {
    data: IoPort,
    status: IoPort,
}

impl Controller {
    fn status(&self) -> u8 {
        self.status.read8(STATUS).unwrap_or(0xff)
    }

    fn wait_writable(&self) -> bool {
        (0..POLLS).any(|_| self.status() & IN_FULL == 0)
    }

    fn command(&self, cmd: u8) -> bool {
        self.wait_writable() && self.status.write8(COMMAND, cmd).is_ok()
    }

    fn write_data(&self, b: u8) -> bool {
        self.wait_writable() && self.data.write8(DATA, b).is_ok()
    }

    fn read_data(&self) -> Option<u8> {
        (0..POLLS).any(|_| self.status() & OUT_FULL != 0).then(|| self.data.read8(DATA).ok()).flatten()
    }

    /// Sets the controller up; whether it answered.
    fn init(&self) -> bool {
        if self.status() == 0xff {
            return false;
        }
        // Drop whatever waits (bounded: a stuck controller cannot keep us here).
        for _ in 0..64 {
            if self.status() & OUT_FULL == 0 {
                break;
            }
            let _ = self.data.read8(DATA);
        }
        if !self.command(0x20) {
            return false;
        }
        let Some(cfg) = self.read_data() else { return false };
        let cfg = (cfg | CFG_IRQ1 | CFG_TRANSLATE) & !CFG_KBD_OFF;
        self.command(0x60) && self.write_data(cfg) && self.command(0xae)
    }

    /// The next byte from the keyboard, if one waits (bytes from the mouse port are dropped).
    fn receive(&self) -> Option<u8> {
        loop {
            let s = self.status();
            if s == 0xff || s & OUT_FULL == 0 {
                return None;
            }
            let b = self.data.read8(DATA).ok()?;
            if s & FROM_AUX == 0 {
                return Some(b);
            }
        }
    }
}

/// The keys typed and not yet read, the read that waits for them, the client's Note.
struct Input {
    keys: Keys,
    queue: VecDeque<u8>,
    waiting: Option<Deferred>,
    notify: Option<(Note, usize)>,
}

impl Input {
    fn push(&mut self, bytes: &[u8]) {
        for &b in bytes {
            // Keys beyond the limit are dropped: a reader that never reads cannot grow us.
            if self.queue.len() < MAX_INPUT {
                self.queue.push_back(b);
            }
        }
    }

    fn take(&mut self, max: usize) -> Vec<u8> {
        let n = max.min(self.queue.len());
        self.queue.drain(..n).collect()
    }

    /// Answers the waiting read, else signals the client's Note, if keys wait.
    fn deliver(&mut self) {
        if self.queue.is_empty() {
            return;
        }
        if let Some(w) = self.waiting.take() {
            let max = match w.op() {
                Op::Read { max, .. } => max.min(IO_MAX),
                _ => IO_MAX,
            };
            let data = self.take(max);
            let _ = w.reply_data(&data);
        } else if let Some((note, bits)) = self.notify {
            let _ = note.signal(bits);
        }
    }
}

fn main(boot: Boot) -> usize {
    let cap = |name: &str| boot.cap(name);
    let (Some(endpoint), Some(note), Some(task), Some(data), Some(status)) = (
        cap("endpoint@0").map(Endpoint::new),
        cap("note@3").map(Note::new),
        boot.task(),
        cap("ioport@1").map(IoPort::new),
        cap("ioport@2").map(IoPort::new),
    ) else {
        println!("ps2kbd: my start page lacks the endpoint, the Note, my Task or the ports");
        return 1;
    };
    let irq = cap("irq@4").map(IrqHandler::new);
    let irq_bits = boot.env_var("irq@4.bits").and_then(|v| usize::from_str_radix(v.trim_start_matches("0x"), 16).ok());
    if let Err(e) = note.bind(task) {
        println!("ps2kbd: cannot bind my Note: {e:?}");
        return 1;
    }
    let ctl = Controller { data, status };
    let present = ctl.init();
    println!("ps2kbd: {}", if present { "keyboard ready (US layout)" } else { "no PS/2 controller answers" });
    let mut input = Input { keys: Keys::new(), queue: VecDeque::new(), waiting: None, notify: None };
    let mut sessions: Vec<usize> = Vec::new();
    loop {
        match Request::receive_event(endpoint) {
            Ok(Event::Notification(bits)) => {
                if irq_bits.is_none_or(|b| bits & b != 0) {
                    while let Some(b) = ctl.receive() {
                        if let Some(k) = input.keys.byte(b) {
                            input.push(k.as_slice());
                        }
                    }
                    if let Some(irq) = irq {
                        let _ = irq.ack();
                    }
                    input.deliver();
                }
            }
            Ok(Event::Request(req)) => {
                if let Err(e) = serve(req, &mut input, &mut sessions) {
                    println!("ps2kbd: a reply failed: {e}");
                }
            }
            Err(e) => println!("ps2kbd: receive failed: {e}"),
        }
    }
}

/// Answers one request.
fn serve(mut req: Request, input: &mut Input, sessions: &mut Vec<usize>) -> Result<(), IoError> {
    let badge = req.badge();
    if let Op::Open { .. } = req.op() {
        return if req.name() == Some("keyboard") {
            if !sessions.contains(&badge) {
                sessions.push(badge);
            }
            req.reply([proto::kind::STREAM, 0, 0, 0])
        } else {
            req.reply_error(IoError::NotFound)
        };
    }
    if !sessions.contains(&badge) {
        return req.reply_error(IoError::Closed);
    }
    match req.op() {
        Op::Read { max, nonblock } => {
            if !input.queue.is_empty() {
                let data = input.take(max.min(IO_MAX));
                req.reply_data(&data)
            } else if nonblock {
                req.reply_error(IoError::WouldBlock)
            } else if input.waiting.is_some() {
                req.reply_error(IoError::Busy)
            } else {
                input.waiting = Some(req.defer()?);
                Ok(())
            }
        }
        Op::Status => {
            let readable = input.queue.len();
            let state = if readable > 0 { proto::state::READABLE } else { 0 };
            req.reply([readable, state, 0, 0])
        }
        Op::Notify { bits } => {
            let note = req.take_cap().map(|c| (Note::new(c), bits));
            if let Some((old, _)) = core::mem::replace(&mut input.notify, note) {
                let _ = old.delete();
            }
            req.reply([0; 4])
        }
        Op::Close => {
            sessions.retain(|&b| b != badge);
            req.reply([0; 4])
        }
        _ => req.reply_error(IoError::Unsupported),
    }
}
