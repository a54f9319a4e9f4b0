//! Tests of the I/O protocol (`sys::io`, `docs/io.md`) between two threads of Vulcan: a toy
//! server (an echo device: what is written can be read back) on a thread of its own, and its
//! clients, all through `sys::io`'s client ([`Channel`], [`Read`], [`Write`]) and server
//! ([`Request`]) sides.
//!
//! Every test runs [`isolated`]: the server thread, its Endpoint, the handles and the IPC
//! buffers the threads were given all come back.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use sys::io::proto::{op, state};
use sys::io::server::{Deferred, Op, Request};
use sys::io::{Channel, IO_MAX, IoError, Read, Write};
use sys::notify::Note;
use sys::thread::{self, JoinHandle};
use sys::{Boot, Endpoint, Slot, rights, root};

use super::support::{delete, isolated};
use crate::harness::{Test, TestResult, ensure, ensure_eq, fail, ok};

pub const TESTS: &[Test] = &[
    Test::new("io_write_then_read_back", |b| isolated(b, write_then_read_back)),
    Test::new("io_read_waits_for_a_write", |b| isolated(b, read_waits_for_a_write)),
    Test::new("io_notify_and_status", |b| isolated(b, notify_and_status)),
    Test::new("io_refusals", |b| isolated(b, refusals)),
];

/// The operation that stops the echo server (not one of the protocol's).
const QUIT: usize = 0x7e;

/// The badge of the one handle the echo server hands out.
const HANDLE: usize = 1;

/// The echo server's state.
#[derive(Default)]
struct Echo {
    bytes: VecDeque<u8>,
    waiting: Option<Deferred>,
    note: Option<(Note, usize)>,
}

impl Echo {
    /// Takes up to `max` bytes.
    fn take(&mut self, max: usize) -> Vec<u8> {
        let n = max.min(self.bytes.len());
        self.bytes.drain(..n).collect()
    }
}

/// Serves `ep` until asked to stop; returns the requests it answered.
fn serve(ep: Endpoint) -> Result<usize, IoError> {
    let mut echo = Echo::default();
    let mut answered = 0usize;
    loop {
        let mut req = Request::receive(ep)?;
        answered += 1;
        if req.badge() != HANDLE && !matches!(req.op(), Op::Open { .. } | Op::Invalid(QUIT)) {
            req.reply_error(IoError::Closed)?;
            continue;
        }
        match req.op() {
            Op::Open { .. } if req.name() == Some("echo") => {
                let cspace = sys::process::cspace().ok_or(IoError::NoSpace)?;
                let handle = ep.mint(cspace, Slot::Auto, rights::WRITE | rights::GRANT, HANDLE)?;
                let sent = req.reply_handle(handle, 7);
                // The client holds its own copy now.
                let _ = Endpoint::new(handle).delete();
                sent?;
            }
            Op::Open { .. } => req.reply_error(IoError::NotFound)?,
            Op::Write => {
                echo.bytes.extend(req.data());
                let n = req.data().len();
                req.reply([n, 0, 0, 0])?;
                if let Some(w) = echo.waiting.take() {
                    let Op::Read { max, .. } = w.op() else { return Err(IoError::BadRequest) };
                    let data = echo.take(max);
                    w.reply_data(&data)?;
                } else if let Some((note, bits)) = echo.note {
                    let _ = note.signal(bits);
                }
            }
            Op::Read { max, nonblock } => {
                if !echo.bytes.is_empty() {
                    let data = echo.take(max);
                    req.reply_data(&data)?;
                } else if nonblock {
                    req.reply_error(IoError::WouldBlock)?;
                } else if echo.waiting.is_some() {
                    req.reply_error(IoError::Busy)?;
                } else {
                    echo.waiting = Some(req.defer()?);
                }
            }
            Op::Status => {
                let readable = echo.bytes.len();
                let st = state::WRITABLE | if readable > 0 { state::READABLE } else { 0 };
                req.reply([readable, st, 0, 0])?;
            }
            Op::Notify { bits } => {
                if let Some((old, _)) = echo.note.take() {
                    let _ = old.delete();
                }
                match req.take_cap() {
                    Some(c) => {
                        echo.note = Some((Note::new(c), bits));
                        req.reply([0; 4])?;
                    }
                    None => req.reply([0; 4])?,
                }
            }
            Op::Close => req.reply([0; 4])?,
            Op::Invalid(QUIT) => {
                req.reply([answered, 0, 0, 0])?;
                if let Some((note, _)) = echo.note.take() {
                    let _ = note.delete();
                }
                if let Some(w) = echo.waiting.take() {
                    let _ = w.reply_error(IoError::Closed);
                }
                return Ok(answered);
            }
            _ => req.reply_error(IoError::Unsupported)?,
        }
    }
}

/// An echo server on a thread of its own, and the unbadged channel to it.
struct Server {
    ep: Endpoint,
    thread: JoinHandle<Result<usize, IoError>>,
    channel: Channel,
}

impl Server {
    fn start() -> Result<Server, crate::harness::Reason> {
        let ep = ok!(Endpoint::create(root::memory(), Slot::Auto), "endpoint_create");
        let thread = thread::spawn(move || serve(ep));
        let client =
            Endpoint::new(ok!(ep.mint(root::cspace(), Slot::Auto, rights::WRITE | rights::GRANT, 0), "cap_mint"));
        Ok(Server { ep, thread, channel: Channel::new(client) })
    }

    /// Stops the server, checks that it answered everything, and deletes what the test made.
    fn stop(self) -> TestResult {
        let r = ok!(self.channel.endpoint().call([QUIT, 0, 0, 0, 0]), "call(QUIT)");
        ensure_eq!(r[0], 0, "status of QUIT");
        match self.thread.join() {
            Ok(Ok(n)) => ensure_eq!(n, r[1], "requests the server answered, as it said"),
            other => fail!("the server thread: {other:?}"),
        }
        delete(self.channel.cap())?;
        delete(self.ep.cap())
    }
}

/// 1000 bytes written in chunks come back in order, read in pieces of other sizes; status
/// counts what is readable; the open handle is a badged capability the client received.
fn write_then_read_back(_: &Boot) -> TestResult {
    let server = Server::start()?;
    let mut echo = ok!(server.channel.open("echo"), "open(echo)");
    ensure!(echo.cap() != server.channel.cap(), "open returned the channel it was called on");
    let data: Vec<u8> = (0..1000u32).map(|i| (i * 13 % 251) as u8).collect();
    ok!(echo.write_all(&data), "write_all(1000 bytes)");
    ensure_eq!(ok!(echo.status(), "status").readable, 1000, "bytes readable after the write");
    let mut back = Vec::new();
    let mut piece = [0u8; 333];
    while back.len() < data.len() {
        let n = ok!(echo.read(&mut piece), "read");
        ensure!(n > 0 && n <= piece.len().min(IO_MAX), "read returned {n}");
        back.extend_from_slice(&piece[..n]);
    }
    ensure!(back == data, "the bytes read back differ from those written");
    let st = ok!(echo.status(), "status after reading everything");
    ensure_eq!((st.readable, st.state & state::READABLE), (0, 0), "status after reading everything");
    ok!(echo.close(), "close");
    server.stop()
}

/// A read with nothing to read waits (the server defers its answer) until another thread
/// writes; a second waiting read is refused as busy; a non-blocking read says WouldBlock.
fn read_waits_for_a_write(_: &Boot) -> TestResult {
    let server = Server::start()?;
    let echo = ok!(server.channel.open("echo"), "open(echo)");
    ensure_eq!(echo.try_read(&mut [0u8; 4]), Err(IoError::WouldBlock), "a non-blocking read of nothing");
    let reader = thread::spawn(move || {
        let mut e = echo;
        let mut buf = [0u8; 16];
        e.read(&mut buf).map(|n| buf[..n].to_vec())
    });
    // Let the reader get its read in first (same priority: it runs while this thread yields).
    for _ in 0..100 {
        thread::yield_now();
    }
    let mut writer = echo;
    ensure_eq!(writer.read(&mut [0u8; 4]), Err(IoError::Busy), "a second read while one waits");
    ok!(writer.write_all(b"wake up"), "write");
    match reader.join() {
        Ok(Ok(got)) => ensure_eq!(got.as_slice(), b"wake up".as_slice(), "what the waiting read got"),
        other => fail!("the reader: {other:?}"),
    }
    ok!(writer.close(), "close");
    server.stop()
}

/// `notify` hands the server a Note that it signals when data arrives; `status` reports it.
fn notify_and_status(_: &Boot) -> TestResult {
    let server = Server::start()?;
    let mut echo = ok!(server.channel.open("echo"), "open(echo)");
    let note = ok!(Note::create(root::memory(), Slot::Auto), "note_create");
    ok!(echo.notify(Some(note), 0x10), "notify");
    ensure_eq!(ok!(note.poll(), "note_poll"), 0, "bits before any write");
    ok!(echo.write_all(b"x"), "write");
    ensure_eq!(ok!(note.poll(), "note_poll after the write"), 0x10, "bits after a write");
    let st = ok!(echo.status(), "status");
    ensure_eq!((st.readable, st.state & state::READABLE), (1, state::READABLE), "status with a byte to read");
    ok!(echo.close(), "close");
    delete(note.cap())?;
    server.stop()
}

/// Unknown names, unknown operations, oversized requests, requests through the channel that is
/// no handle, and a closed handle, each fail the way the protocol says.
fn refusals(_: &Boot) -> TestResult {
    let server = Server::start()?;
    ensure_eq!(server.channel.open("nothing").map(|_| ()), Err(IoError::NotFound), "open of an unknown name");
    let long = alloc::string::String::from_utf8(alloc::vec![b'a'; IO_MAX + 1]).unwrap_or_default();
    ensure_eq!(server.channel.open(&long).map(|_| ()), Err(IoError::BadRequest), "open of a name longer than IO_MAX");
    let mut plain = server.channel;
    ensure_eq!(plain.write(b"abc"), Err(IoError::Closed), "write through the channel with no handle");
    let r = ok!(server.channel.endpoint().call([0x55, 0, 0, 0, 0]), "call of an unknown operation");
    ensure_eq!(IoError::from_code(r[0]), Some(IoError::Closed), "status of an unknown operation on no handle");
    let echo = ok!(server.channel.open("echo"), "open(echo)");
    let r = ok!(echo.endpoint().call([0x55, 0, 0, 0, 0]), "call of an unknown operation");
    ensure_eq!(IoError::from_code(r[0]), Some(IoError::Unsupported), "status of an unknown operation");
    let r = ok!(echo.endpoint().call([op::WRITE, IO_MAX + 1, 0, 0, 0]), "call of an oversized write");
    ensure_eq!(IoError::from_code(r[0]), Some(IoError::Unsupported), "status of a write longer than IO_MAX");
    ok!(echo.close(), "close");
    // A closed handle's capability is gone: using it fails in the kernel, not at the server.
    let mut closed = echo;
    ensure!(matches!(closed.write(b"late"), Err(IoError::Ipc(_))), "a write through a closed handle");
    server.stop()
}
