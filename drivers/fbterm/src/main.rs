//! fbterm: the framebuffer terminal. It draws what its clients write on the screen Mercury gives
//! it (a `framebuffer` line: the boot framebuffer, or QEMU's standard VGA, whose mode it sets
//! through the VBE DISPI ports), and hands them the keys the keyboard driver (`ps2kbd`, the
//! `keyboard` service) reads: `open("screen")` is a console like pcserial's `com1`, for getty
//! and the shell.
//!
//! The terminal itself (ANSI parsing, the grid, the font, drawing) is `fbterm-term`, a library
//! without system calls that the host tests and xtask's screen test use too; this program is the
//! thin part: the mapping, the requests, the keys.
//!
//! Without a screen (no `framebuffer` in its start page, or one it cannot use) it says so in
//! one line and stays, answering `open` with `NotFound`, so the programs that name its service
//! still start and the console is serial only.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

mod dispi;
mod display;

use alloc::collections::VecDeque;

use sys::io::server::{Deferred, Event, Op, Request};
use sys::io::{Channel, IO_MAX, IoError, proto};
use sys::notify::Note;
use sys::{Boot, Endpoint, IoPort, println};

use fbterm_term::grid::Terminal;
use fbterm_term::render::{Renderer, grid_size};

use display::Display;

sys::entry!(main);
sys::manifest!();

/// What `open` reports as the handle's kind: a stream.
const KIND_STREAM: usize = proto::kind::STREAM;

/// The bit of its Note the keyboard driver signals.
const KEY_BIT: usize = 1;

/// Most keys kept for reading; more are dropped.
const MAX_INPUT: usize = 4096;

/// The screen console: the terminal, what draws it, and the keys on their way to a reader.
struct Console {
    display: Display,
    term: Terminal,
    renderer: Renderer,
    keyboard: Option<Channel>,
    input: VecDeque<u8>,
    waiting: Option<Deferred>,
    notify: Option<(Note, usize)>,
    /// Client channels (badges) that opened the screen.
    open: alloc::vec::Vec<usize>,
}

impl Console {
    fn draw(&mut self) {
        if let Some(mut s) = self.display.surface() {
            self.renderer.draw(&mut self.term, &mut s);
        }
    }

    /// Takes every key the keyboard driver has, then answers a waiting read or signals the
    /// client's Note.
    fn pull_keys(&mut self) {
        let Some(kbd) = self.keyboard.as_ref() else { return };
        let mut buf = [0u8; 64];
        while let Ok(n @ 1..) = kbd.try_read(&mut buf) {
            let room = MAX_INPUT - self.input.len().min(MAX_INPUT);
            self.input.extend(&buf[..n.min(room)]);
        }
        if self.input.is_empty() {
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

    fn take(&mut self, max: usize) -> alloc::vec::Vec<u8> {
        let n = max.min(self.input.len());
        self.input.drain(..n).collect()
    }

    /// Answers one request.
    fn serve(&mut self, mut req: Request) -> Result<(), IoError> {
        let badge = req.badge();
        if let Op::Open { .. } = req.op() {
            return if req.name() == Some("screen") {
                if !self.open.contains(&badge) {
                    self.open.push(badge);
                }
                req.reply([KIND_STREAM, 0, 0, 0])
            } else {
                req.reply_error(IoError::NotFound)
            };
        }
        if !self.open.contains(&badge) {
            return req.reply_error(IoError::Closed);
        }
        match req.op() {
            Op::Write => {
                let data = req.data();
                let n = data.len();
                self.term.write(data);
                self.draw();
                req.reply([n, 0, 0, 0])
            }
            Op::Read { max, nonblock } => {
                if !self.input.is_empty() {
                    let data = self.take(max.min(IO_MAX));
                    req.reply_data(&data)
                } else if nonblock {
                    req.reply_error(IoError::WouldBlock)
                } else if self.waiting.is_some() {
                    req.reply_error(IoError::Busy)
                } else {
                    self.waiting = Some(req.defer()?);
                    Ok(())
                }
            }
            Op::Status => {
                let readable = self.input.len();
                let state = proto::state::WRITABLE | if readable > 0 { proto::state::READABLE } else { 0 };
                req.reply([readable, state, 0, 0])
            }
            Op::Notify { bits } => {
                let note = req.take_cap().map(|c| (Note::new(c), bits));
                if let Some((old, _)) = core::mem::replace(&mut self.notify, note) {
                    let _ = old.delete();
                }
                req.reply([0; 4])
            }
            Op::Close => {
                self.open.retain(|&b| b != badge);
                req.reply([0; 4])
            }
            _ => req.reply_error(IoError::Unsupported),
        }
    }
}

fn main(boot: Boot) -> usize {
    let (Some(endpoint), Some(note), Some(task)) =
        (boot.cap("endpoint@0").map(Endpoint::new), boot.cap("note@2").map(Note::new), boot.task())
    else {
        println!("fbterm: my start page lacks the endpoint, the Note or my Task");
        return 1;
    };
    if let Err(e) = note.bind(task) {
        println!("fbterm: cannot bind my Note: {e:?}");
        return 1;
    }
    let display = match Display::open(&boot, boot.cap("ioport@1").map(IoPort::new)) {
        Ok(d) => d,
        Err(why) => {
            println!("fbterm: {why}; the screen console is off");
            return serve_nothing(endpoint);
        }
    };
    // The keyboard: its driver signals our Note when keys wait.
    let keyboard = boot.cap("keyboard").and_then(|k| {
        let kbd = Channel::new(Endpoint::new(k)).open("keyboard").ok()?;
        kbd.notify(Some(note), KEY_BIT).ok()?;
        Some(kbd)
    });
    let (cols, rows) = grid_size(display.width, display.height);
    println!(
        "fbterm: {}x{} pixels, {cols}x{rows} characters; {}",
        display.width,
        display.height,
        if keyboard.is_some() { "keys from ps2kbd" } else { "no keyboard" }
    );
    let mut console = Console {
        display,
        term: Terminal::new(cols, rows),
        renderer: Renderer::new(),
        keyboard,
        input: VecDeque::new(),
        waiting: None,
        notify: None,
        open: alloc::vec::Vec::new(),
    };
    console.draw();
    console.pull_keys();
    loop {
        match Request::receive_event(endpoint) {
            Ok(Event::Notification(bits)) => {
                if bits & KEY_BIT != 0 {
                    console.pull_keys();
                }
            }
            Ok(Event::Request(req)) => {
                if let Err(e) = console.serve(req) {
                    println!("fbterm: a reply failed: {e}");
                }
            }
            Err(e) => println!("fbterm: receive failed: {e}"),
        }
    }
}

/// Without a screen: every `open` is `NotFound`, everything else `Closed`, for good.
fn serve_nothing(endpoint: Endpoint) -> usize {
    loop {
        if let Ok(Event::Request(req)) = Request::receive_event(endpoint) {
            let e = if matches!(req.op(), Op::Open { .. }) { IoError::NotFound } else { IoError::Closed };
            let _ = req.reply_error(e);
        }
    }
}
