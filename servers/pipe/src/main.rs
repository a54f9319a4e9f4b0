//! The pipe server: pipes between programs over the I/O protocol (`docs/io.md`, "Pipes").
//!
//! `open("pipe")` through a client's channel makes a pipe and answers with its reading end;
//! `open("writer")` through a reading end answers with the same pipe's writing end (once). Each
//! end is a capability to the server's endpoint with a badge of its own ([`HANDLE_BADGE`] and a
//! count that only grows, so a closed end's badge never names another). `read` on the reading
//! end and `write` on the writing end wait (deferred replies) while the pipe is empty or full;
//! `close` on an end, by whoever holds a copy of it, ends it for every holder: the reader then
//! gets the rest and the end of the stream, a writer `Closed`.
//!
//! Nothing a client sends can panic the server or make it leak: the pipes and ends are bounded
//! ([`MAX_PIPES`]), every allocation is fallible, every request is answered or kept as the one
//! deferred read or write of its end, and a minted capability is deleted once the client has it.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use pipe::{Pipe, Read, Write};
use sys::io::IoError;
use sys::io::proto::{IO_MAX, kind, state};
use sys::io::server::{Deferred, Op, Request};
use sys::{Boot, CSpace, Endpoint, Slot, println, rights};

sys::entry!(main);
sys::manifest!();

/// The bit every end's badge has; the badges Mercury gives clients are small numbers.
const HANDLE_BADGE: usize = 1 << 62;

/// Pipes open at once: one more `open("pipe")` is `NoSpace`.
const MAX_PIPES: usize = 64;

/// Which end a badge names.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum End {
    Reader,
    Writer,
}

/// A pipe and the requests that wait on it.
struct Open {
    pipe: Pipe,
    /// The deferred read of its reading end, and how much it asked for.
    read: Option<(Deferred, usize)>,
    /// The deferred write of its writing end, and its bytes.
    write: Option<(Deferred, Vec<u8>)>,
    /// Whether the writing end has been handed out.
    writer_minted: bool,
}

/// The server.
struct Server {
    endpoint: Endpoint,
    cspace: CSpace,
    pipes: BTreeMap<usize, Open>,
    ends: BTreeMap<usize, (usize, End)>,
    next: usize,
}

fn main(boot: Boot) -> usize {
    let (Some(endpoint), Some(cspace)) = (boot.cap("endpoint@0").map(Endpoint::new), boot.cspace()) else {
        println!("pipe: my start page lacks the endpoint or my CSpace");
        return 1;
    };
    let mut server = Server { endpoint, cspace, pipes: BTreeMap::new(), ends: BTreeMap::new(), next: HANDLE_BADGE };
    loop {
        match Request::receive(endpoint) {
            Ok(req) => {
                if let Err(e) = server.serve(req) {
                    println!("pipe: a reply failed: {e}");
                }
            }
            Err(e) => println!("pipe: receive failed: {e}"),
        }
    }
}

impl Server {
    /// Answers (or keeps) one request.
    fn serve(&mut self, req: Request) -> Result<(), IoError> {
        let badge = req.badge();
        let Some(&(id, end)) = self.ends.get(&badge) else {
            return match req.op() {
                Op::Open { flags: 0 } if badge & HANDLE_BADGE == 0 && req.name() == Some("pipe") => self.make(req),
                Op::Open { .. } if badge & HANDLE_BADGE == 0 => req.reply_error(IoError::NotFound),
                _ => req.reply_error(IoError::Closed),
            };
        };
        let Some(open) = self.pipes.get_mut(&id) else { return req.reply_error(IoError::Closed) };
        match (req.op(), end) {
            (Op::Read { max, nonblock }, End::Reader) => match open.pipe.read(max.min(IO_MAX)) {
                Read::Data(bytes) => req.reply_data(&bytes),
                Read::End => req.reply_data(&[]),
                Read::Wait if nonblock => req.reply_error(IoError::WouldBlock),
                Read::Wait if open.read.is_some() => req.reply_error(IoError::Busy),
                Read::Wait => {
                    open.read = Some((req.defer()?, max.min(IO_MAX)));
                    Ok(())
                }
            },
            (Op::Write, End::Writer) => {
                let r = match open.pipe.write(req.data()) {
                    Write::Took(n) => req.reply([n, 0, 0, 0]),
                    Write::Broken => req.reply_error(IoError::Closed),
                    Write::Wait if open.write.is_some() => req.reply_error(IoError::Busy),
                    Write::Wait => {
                        let mut bytes = Vec::new();
                        if bytes.try_reserve_exact(req.data().len()).is_err() {
                            return req.reply_error(IoError::NoSpace);
                        }
                        bytes.extend_from_slice(req.data());
                        open.write = Some((req.defer()?, bytes));
                        Ok(())
                    }
                };
                Self::pump(open);
                r
            }
            (Op::Open { flags: 0 }, End::Reader) if req.name() == Some("writer") => {
                if open.writer_minted {
                    req.reply_error(IoError::Exists)
                } else {
                    self.mint(req, id, End::Writer)
                }
            }
            (Op::Close, _) => {
                self.close(badge, id, end);
                req.reply([0; 4])
            }
            (Op::Status, _) => {
                let p = &open.pipe;
                let mut st = 0;
                if !p.is_empty() {
                    st |= state::READABLE;
                }
                if p.reader_open() && p.len() < pipe::CAPACITY {
                    st |= state::WRITABLE;
                }
                if (end == End::Reader && !p.writer_open()) || (end == End::Writer && !p.reader_open()) {
                    st |= state::HANGUP;
                }
                req.reply([p.len(), st, 0, 0])
            }
            _ => req.reply_error(IoError::Unsupported),
        }
    }

    /// `open("pipe")`: a new pipe; the answer is its reading end.
    fn make(&mut self, req: Request) -> Result<(), IoError> {
        if self.pipes.len() >= MAX_PIPES {
            return req.reply_error(IoError::NoSpace);
        }
        let Some(pipe) = Pipe::new() else { return req.reply_error(IoError::NoSpace) };
        let id = self.next;
        self.pipes.insert(id, Open { pipe, read: None, write: None, writer_minted: false });
        let r = self.mint(req, id, End::Reader);
        if !self.ends.values().any(|&(p, _)| p == id) {
            self.pipes.remove(&id);
        }
        r
    }

    /// Answers `req` with a new end of pipe `id`.
    fn mint(&mut self, req: Request, id: usize, end: End) -> Result<(), IoError> {
        let badge = self.next;
        let Some(next) = badge.checked_add(1) else { return req.reply_error(IoError::NoSpace) };
        let Ok(cap) = self.endpoint.mint(self.cspace, Slot::Auto, rights::WRITE | rights::GRANT, badge) else {
            return req.reply_error(IoError::NoSpace);
        };
        self.next = next;
        let sent = req.reply_handle(cap, kind::STREAM);
        // The client holds its own copy now (or, if the reply failed, nobody does).
        let _ = Endpoint::new(cap).delete();
        if sent.is_ok() {
            self.ends.insert(badge, (id, end));
            if end == End::Writer
                && let Some(open) = self.pipes.get_mut(&id)
            {
                open.writer_minted = true;
            }
        }
        sent
    }

    /// Closes one end of pipe `id`: the waiting requests learn, and a pipe closed at both ends
    /// goes. A writing end never handed out is closed with the reading end.
    fn close(&mut self, badge: usize, id: usize, end: End) {
        self.ends.remove(&badge);
        let Some(open) = self.pipes.get_mut(&id) else { return };
        // A request of the closed end itself that still waits (its program was killed in it) is
        // answered now, so that its Reply capability does not stay behind.
        match end {
            End::Reader => {
                open.pipe.close_reader();
                if !open.writer_minted {
                    open.pipe.close_writer();
                }
                if let Some((waiting, _)) = open.read.take() {
                    let _ = waiting.reply_error(IoError::Closed);
                }
            }
            End::Writer => {
                open.pipe.close_writer();
                if let Some((waiting, _)) = open.write.take() {
                    let _ = waiting.reply_error(IoError::Closed);
                }
            }
        }
        Self::pump(open);
        if open.pipe.is_closed() {
            self.pipes.remove(&id);
        }
    }

    /// Answers the deferred read and write of a pipe as far as its state now allows.
    fn pump(open: &mut Open) {
        loop {
            let mut moved = false;
            if let Some((_, max)) = open.read.as_ref() {
                let answer = match open.pipe.read(*max) {
                    Read::Data(bytes) => Some(bytes),
                    Read::End => Some(Vec::new()),
                    Read::Wait => None,
                };
                if let (Some(bytes), Some((waiting, _))) = (answer, open.read.take()) {
                    // A reader that is gone (killed) needs no answer.
                    let _ = waiting.reply_data(&bytes);
                    moved = true;
                }
            }
            if let Some((_, bytes)) = open.write.as_ref() {
                let answer = match open.pipe.write(bytes) {
                    Write::Took(n) => Some(Ok(n)),
                    Write::Broken => Some(Err(IoError::Closed)),
                    Write::Wait => None,
                };
                if let (Some(result), Some((waiting, _))) = (answer, open.write.take()) {
                    let _ = match result {
                        Ok(n) => waiting.reply([n, 0, 0, 0]),
                        Err(e) => waiting.reply_error(e),
                    };
                    moved = true;
                }
            }
            if !moved {
                return;
            }
        }
    }
}
