//! The `proc` service: programs starting programs (`sys::proc` is the client, and its module
//! docs the wire format). A program whose manifest names `proc` gets Mercury's endpoint, badged
//! for it; `spawn` answers with a handle (Mercury's endpoint again, badged for the child: its
//! place in the table and a generation, so a stale handle names nothing); on the handle the
//! client gives the child its standard streams, starts it, waits for its end or kills it.
//!
//! Children are started like boot programs ([`crate::spawn`]), but never restarted: their end,
//! an exit, a fault or a kill, is told to whoever waits.

use alloc::string::String;
use alloc::vec::Vec;

use sys::io::IoError;
use sys::io::server::{Deferred, Op, Request};
use sys::proc::{ENV, ExitStatus, KILL, LIST, POWEROFF, RELEASE, SPAWN, START, STREAM, WAIT, how};
use sys::{Endpoint, Slot, rights};

use crate::supervise::Supervisor;

/// The exit status a killed child ends with (`task_kill`), which no program's `exit` gives.
pub const KILLED: usize = usize::MAX - 1;

/// A request on the service itself: `spawn` or `list`.
pub fn serve(sup: &mut Supervisor<'_>, req: Request) {
    let r = match req.op() {
        Op::Invalid(SPAWN) => spawn(sup, req),
        Op::Invalid(LIST) => list(sup, req),
        Op::Invalid(KILL) => {
            let [_, index, _, _, _] = req.words();
            match sup.kill_entry(index) {
                Ok(()) => req.reply([0; 4]),
                Err(e) => req.reply_error(e),
            }
        }
        Op::Invalid(POWEROFF) => {
            sys::println!("mercury: powering off, as asked");
            let _ = sys::root::ioport_control().power_off();
            req.reply_error(IoError::Unsupported)
        }
        _ => req.reply_error(IoError::Unsupported),
    };
    if let Err(e) = r {
        sys::println!("mercury: proc: a reply failed: {e}");
    }
}

/// `spawn`: the path and arguments, NUL-terminated, in the request's data.
fn spawn(sup: &mut Supervisor<'_>, req: Request) -> Result<(), IoError> {
    let [_, len, _, _, _] = req.words();
    let data = req.data().get(..len.min(req.data().len())).unwrap_or_default();
    let mut parts = data.split(|&b| b == 0).map(core::str::from_utf8);
    let Some(Ok(path)) = parts.next().filter(|p| p.as_ref().is_ok_and(|p| !p.is_empty())) else {
        return req.reply_error(IoError::BadRequest);
    };
    let mut args = Vec::new();
    for a in parts {
        match a {
            Ok("") => {}
            Ok(a) => args.push(String::from(a)),
            Err(_) => return req.reply_error(IoError::BadRequest),
        }
    }
    let Some(place) = sup.free_place() else { return req.reply_error(IoError::NoSpace) };
    let badge = sup.prepare_child(place, String::from(path), args);
    let mercury = sys::process::cspace().unwrap_or(sys::root::cspace());
    let handle = match sup.endpoint().mint(mercury, Slot::Auto, rights::WRITE | rights::GRANT, badge) {
        Ok(h) => h,
        Err(_) => return req.reply_error(IoError::NoSpace),
    };
    let sent = req.reply_handle(handle, 0);
    // The client holds its own copy.
    let _ = Endpoint::new(handle).delete();
    sent
}

/// `list`: entry `index` of the table.
fn list(sup: &mut Supervisor<'_>, req: Request) -> Result<(), IoError> {
    let [_, index, _, _, _] = req.words();
    match sup.entry(index) {
        Some((name, state, used, quota)) => {
            let n = name.len().min(sys::io::IO_MAX);
            req.reply_with([state, used, quota, n], &name.as_bytes()[..n])
        }
        None => req.reply_error(IoError::NotFound),
    }
}

/// A request on a child's handle.
pub fn serve_child(sup: &mut Supervisor<'_>, mut req: Request, place: usize, generation: usize) {
    let [op, a, _, _, _] = req.words();
    let r = match op {
        STREAM => match req.take_cap() {
            Some(cap) => match sup.set_stream(place, generation, a, cap) {
                Ok(()) => req.reply([0; 4]),
                Err(e) => {
                    let _ = Endpoint::new(cap).delete();
                    req.reply_error(e)
                }
            },
            None => req.reply_error(IoError::BadRequest),
        },
        ENV => match env_entries(&req) {
            Some(entries) => match sup.add_env(place, generation, entries) {
                Ok(()) => req.reply([0; 4]),
                Err(e) => req.reply_error(e),
            },
            None => req.reply_error(IoError::BadRequest),
        },
        START => match sup.start_child(place, generation) {
            Ok(()) => req.reply([0; 4]),
            Err(e) => req.reply_error(e),
        },
        WAIT => {
            sup.wait_child(place, generation, req);
            Ok(())
        }
        KILL => match sup.kill_child(place, generation) {
            Ok(()) => req.reply([0; 4]),
            Err(e) => req.reply_error(e),
        },
        RELEASE => match sup.release_child(place, generation) {
            Ok(()) => req.reply([0; 4]),
            Err(e) => req.reply_error(e),
        },
        _ => req.reply_error(IoError::Unsupported),
    };
    if let Err(e) = r {
        sys::println!("mercury: proc: a reply to a child's handle failed: {e}");
    }
}

/// `env`'s entries: word 1 bytes of the data, checked by `loader::files::environment`.
fn env_entries(req: &Request) -> Option<Vec<String>> {
    let [_, len, _, _, _] = req.words();
    loader::files::environment(req.data().get(..len)?)
}

/// `wait`'s reply words for `status`.
fn wait_words(status: ExitStatus) -> [usize; 4] {
    match status {
        ExitStatus::Exited(s) => [how::EXITED, s, 0, 0],
        ExitStatus::Faulted { vector, address, rip } => [how::FAULTED, vector, address, rip],
        ExitStatus::Killed => [how::KILLED, 0, 0, 0],
    }
}

/// Answers a `wait` that waited.
pub fn answer_wait(w: Deferred, status: ExitStatus) {
    let _ = w.reply(wait_words(status));
}

/// Answers a `wait` at once.
pub fn answer_wait_now(req: Request, status: ExitStatus) {
    let _ = req.reply(wait_words(status));
}
