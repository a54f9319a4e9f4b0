//! The server side of the I/O protocol: receive a [`Request`], look at what it asks, answer it
//! now or later.
//!
//! [`Request::receive`] takes the next call on the server's Endpoint, with its data and any
//! capability copied out of the IPC buffer (the buffer is the thread's; see
//! [`thread::with_ipc_buffer`](crate::thread::with_ipc_buffer)). The caller waits until it is
//! answered: [`Request::reply`] and friends answer at once, through the reply right the receive
//! left with this thread, which lasts only until this thread receives again;
//! [`Request::defer`] keeps it in a Reply capability to answer later ([`Deferred`]), as a server
//! does with a read that must wait for data.
//!
//! ```no_run
//! use sys::io::server::{Op, Request};
//! use sys::io::IoError;
//! # fn demo(endpoint: sys::Endpoint) -> Result<(), IoError> {
//! loop {
//!     let req = Request::receive(endpoint)?;
//!     match req.op() {
//!         Op::Write => {
//!             let n = req.data().len();
//!             // ... put the bytes somewhere ...
//!             req.reply([n, 0, 0, 0])?;
//!         }
//!         Op::Read { max, .. } => req.reply_data(&b"hello"[..5.min(max)])?,
//!         _ => req.reply_error(IoError::Unsupported)?,
//!     }
//! }
//! # }
//! ```

use abi::ipc::MAX_EXTRA_WORDS;

use super::proto::{self, IO_MAX, IoError, SeekFrom, flags, op};
use crate::cap::{Cap, Slot};
use crate::ipc::{Endpoint, Extra, Reply, reply_with};
use crate::thread::with_ipc_buffer;

/// What a request asks for. More operations may come: match with a `_` arm answering
/// [`IoError::Unsupported`].
///
/// ```no_run
/// use sys::io::server::{Op, Request};
/// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
/// let req = Request::receive(endpoint)?;
/// match req.op() {
///     Op::Status => req.reply([0, sys::io::proto::state::WRITABLE, 0, 0])?,
///     _ => req.reply_error(sys::io::IoError::Unsupported)?,
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Read up to `max` bytes (at most [`IO_MAX`]); `nonblock`: answer at once.
    Read {
        /// Most bytes to return.
        max: usize,
        /// Whether the client asked not to wait.
        nonblock: bool,
    },
    /// Write [`Request::data`].
    Write,
    /// Open [`Request::name`] with `flags`.
    Open {
        /// The request's flags.
        flags: usize,
    },
    /// Close the handle.
    Close,
    /// Report the status.
    Status,
    /// Signal `bits` on [`Request::cap`] (a Note) when data arrives; no capability: stop.
    Notify {
        /// The bits to signal.
        bits: usize,
    },
    /// Move the handle's offset; answer with the new one.
    Seek(SeekFrom),
    /// Describe [`Request::name`] (empty: the handle itself).
    Stat,
    /// List the directory [`Request::name`] (empty: the handle itself) from entry `offset` on.
    ReadDir {
        /// The index of the first entry wanted.
        offset: usize,
    },
    /// Make the directory [`Request::name`].
    Mkdir {
        /// [`proto::mkdir`] flags.
        flags: usize,
    },
    /// Remove [`Request::name`].
    Unlink {
        /// [`proto::unlink`] flags.
        flags: usize,
    },
    /// Move one name to another: [`Request::paths`].
    Rename,
    /// An operation this version does not know, or one with bad arguments (a length above
    /// [`IO_MAX`], unknown flags): answer [`IoError::BadRequest`] or [`IoError::Unsupported`].
    Invalid(usize),
}

/// What [`Request::receive_event`] got.
///
/// ```no_run
/// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
/// if let sys::io::server::Event::Notification(bits) = sys::io::server::Request::receive_event(endpoint)? {
///     sys::println!("bits {bits:#x}");
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[allow(
    clippy::large_enum_variant,
    reason = "an event is made once per receive and taken apart at once; boxing the request would allocate per message in drivers whose heap is only the one in their image"
)]
pub enum Event {
    /// A request.
    Request(Request),
    /// The bits of the Note bound to the receiving thread.
    Notification(usize),
}

/// A request received, with its data copied out of the IPC buffer (see the module docs).
///
/// ```no_run
/// use sys::io::server::{Op, Request};
/// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
/// let req = Request::receive(endpoint)?;
/// match req.op() {
///     Op::Status => req.reply([0, sys::io::proto::state::WRITABLE, 0, 0])?,
///     _ => req.reply_error(sys::io::IoError::Unsupported)?,
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "the client waits until the request is answered"]
pub struct Request {
    badge: usize,
    words: [usize; 5],
    data: [u8; IO_MAX],
    len: usize,
    cap: Option<Cap>,
}

impl Request {
    /// Receives the next request on `endpoint`, waiting for one. A capability that comes with it
    /// (a `notify`'s Note) lands in a free slot: [`cap`](Request::cap).
    ///
    /// # Errors
    /// The receive failed (the Endpoint capability), or the thread has no IPC buffer and cannot
    /// get one.
    ///
    /// ```no_run
    /// use sys::io::server::{Op, Request};
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = Request::receive(endpoint)?;
    /// match req.op() {
    ///     Op::Status => req.reply([0, sys::io::proto::state::WRITABLE, 0, 0])?,
    ///     _ => req.reply_error(sys::io::IoError::Unsupported)?,
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn receive(endpoint: Endpoint) -> Result<Request, IoError> {
        loop {
            if let Event::Request(r) = Request::receive_event(endpoint)? {
                return Ok(r);
            }
        }
    }

    /// Receives the next request, or the bits of the Note bound to this thread (a driver's
    /// interrupts, the kernel log), whichever comes first: a server's whole event loop.
    ///
    /// ```no_run
    /// use sys::io::server::{Event, Request};
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// match Request::receive_event(endpoint)? {
    ///     Event::Notification(bits) => sys::println!("interrupt bits {bits:#x}"),
    ///     Event::Request(req) => req.reply_error(sys::io::IoError::Unsupported)?,
    /// }
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    /// As [`receive`](Request::receive).
    pub fn receive_event(endpoint: Endpoint) -> Result<Event, IoError> {
        with_ipc_buffer(|b| {
            b.set_recv_slot(Some(Slot::Auto));
            let m = endpoint.recv()?;
            if m.badge == abi::syscall::NOTE_BADGE {
                b.set_recv_slot(None);
                return Ok(Event::Notification(m.words[0]));
            }
            let (words, n) = b.received_words(m.extra);
            let mut req =
                Request { badge: m.badge, words: m.words, data: [0; IO_MAX], len: 0, cap: b.received(m.extra) };
            let want = match m.words[0] {
                op::WRITE | op::OPEN | op::STAT | op::READDIR | op::MKDIR | op::UNLINK => m.words[1].min(IO_MAX),
                op::RENAME => m.words[1].saturating_add(m.words[2]).min(IO_MAX),
                op::READ | op::CLOSE | op::STATUS | op::NOTIFY | op::SEEK => 0,
                // Operations of other protocols on the same endpoint (`proc`'s): every byte that
                // came.
                _ => n * 8,
            };
            req.len = proto::unpack(&words[..n], want, &mut req.data);
            b.set_recv_slot(None);
            Ok(Event::Request(req))
        })?
    }

    /// The badge of the capability the client called through.
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// if req.badge() == 0 {
    ///     // The channel Mercury handed out, not an open handle.
    ///     return req.reply_error(sys::io::IoError::Closed);
    /// }
    /// # req.reply([0; 4])
    /// # }
    /// ```
    pub fn badge(&self) -> usize {
        self.badge
    }

    /// The request's five words as they came (word 0 the operation): for a server that reads a
    /// message of its own kind on the same endpoint (Mercury takes fault messages there).
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// let [op, a, b, _, _] = req.words();
    /// sys::println!("op {op:#x} ({a}, {b})");
    /// # req.reply([0; 4])
    /// # }
    /// ```
    pub fn words(&self) -> [usize; 5] {
        self.words
    }

    /// What it asks for.
    ///
    /// ```no_run
    /// use sys::io::server::{Op, Request};
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = Request::receive(endpoint)?;
    /// match req.op() {
    ///     Op::Status => req.reply([0, sys::io::proto::state::WRITABLE, 0, 0])?,
    ///     _ => req.reply_error(sys::io::IoError::Unsupported)?,
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn op(&self) -> Op {
        let [o, a, b, _, _] = self.words;
        // The data the words say the request carries arrived whole.
        let carried = a <= IO_MAX && self.len == a;
        match o {
            op::READ if b & !flags::NONBLOCK == 0 => {
                Op::Read { max: a.min(IO_MAX), nonblock: b & flags::NONBLOCK != 0 }
            }
            op::WRITE if carried => Op::Write,
            op::OPEN if carried => Op::Open { flags: b },
            op::CLOSE => Op::Close,
            op::STATUS => Op::Status,
            op::NOTIFY => Op::Notify { bits: a },
            op::SEEK => SeekFrom::from_words(a, b).map_or(Op::Invalid(o), Op::Seek),
            op::STAT if carried => Op::Stat,
            op::READDIR if carried => Op::ReadDir { offset: b },
            op::MKDIR if carried => Op::Mkdir { flags: b },
            op::UNLINK if carried => Op::Unlink { flags: b },
            op::RENAME if a.checked_add(b).is_some_and(|n| n <= IO_MAX && self.len == n) => Op::Rename,
            other => Op::Invalid(other),
        }
    }

    /// The request's data: a write's bytes, an open's name or another operation's path (as
    /// bytes), a rename's two paths one after the other.
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// let n = req.data().len(); // a write's bytes
    /// req.reply([n, 0, 0, 0])
    /// # }
    /// ```
    pub fn data(&self) -> &[u8] {
        &self.data[..self.len]
    }

    /// An open's name, or the path of a `stat`, `readdir`, `mkdir` or `unlink`, if it is UTF-8.
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// match req.name() {
    ///     Some("com1") => req.reply([0; 4]),
    ///     _ => req.reply_error(sys::io::IoError::NotFound),
    /// }
    /// # }
    /// ```
    pub fn name(&self) -> Option<&str> {
        core::str::from_utf8(self.data()).ok()
    }

    /// A rename's two paths, `(from, to)`, if both are UTF-8 (and the request is a rename).
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// match req.paths() {
    ///     Some((from, to)) => sys::println!("rename {from} to {to}"),
    ///     None => return req.reply_error(sys::io::IoError::BadRequest),
    /// }
    /// # req.reply([0; 4])
    /// # }
    /// ```
    pub fn paths(&self) -> Option<(&str, &str)> {
        if self.op() != Op::Rename {
            return None;
        }
        let (from, to) = self.data().split_at_checked(self.words[1])?;
        Some((core::str::from_utf8(from).ok()?, core::str::from_utf8(to).ok()?))
    }

    /// The capability that came with the request, if any: it is deleted when the request is
    /// answered, unless taken ([`take_cap`](Request::take_cap)).
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// if req.cap().is_none() {
    ///     return req.reply_error(sys::io::IoError::BadRequest);
    /// }
    /// # req.reply([0; 4])
    /// # }
    /// ```
    pub fn cap(&self) -> Option<Cap> {
        self.cap
    }

    /// Takes the capability that came with the request: the server keeps it (a `notify`'s Note).
    ///
    /// ```no_run
    /// use sys::io::server::{Op, Request};
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let mut req = Request::receive(endpoint)?;
    /// if let Op::Notify { bits } = req.op() {
    ///     let note = req.take_cap().map(sys::Note::new); // kept: signalled when data arrives
    ///     # let _ = (note, bits);
    /// }
    /// req.reply([0; 4])
    /// # }
    /// ```
    pub fn take_cap(&mut self) -> Option<Cap> {
        self.cap.take()
    }

    /// Deletes a capability that came with the request and was not taken, so that clients cannot
    /// fill the server's CSpace.
    fn discard(&mut self) {
        if let Some(c) = self.cap.take() {
            // SAFETY: a capability a client sent: a copy of one of the client's, which can name
            // no Page mapped in this program's VSpace unless this program handed out its VSpace
            // or such a Page, which a server never does; so its end unmaps nothing this program
            // uses (the teardown contract holds).
            let _ = unsafe { c.delete() };
        }
    }

    /// Answers: status 0 and `results` in reply words 1-4.
    ///
    /// # Errors
    /// The reply failed (the client is gone, or this thread received something since).
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// let n = req.data().len();
    /// req.reply([n, 0, 0, 0]) // a write: how many bytes were taken
    /// # }
    /// ```
    pub fn reply(mut self, results: [usize; 4]) -> Result<(), IoError> {
        self.discard();
        answer(None, 0, results, &[], None)
    }

    /// Answers a read with `data` (at most [`IO_MAX`] bytes; more is cut).
    ///
    /// # Errors
    /// As [`reply`](Request::reply).
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// req.reply_data(b"some input")
    /// # }
    /// ```
    pub fn reply_data(mut self, data: &[u8]) -> Result<(), IoError> {
        self.discard();
        let n = data.len().min(IO_MAX);
        answer(None, 0, [n, 0, 0, 0], &data[..n], None)
    }

    /// Answers with status 0, `results` in reply words 1-4 and `data` (at most [`IO_MAX`] bytes;
    /// more is cut) in the IPC buffer: for replies that carry both (a `readdir`, whose first result
    /// is the data's length; `proc`'s `list`).
    ///
    /// # Errors
    /// As [`reply`](Request::reply).
    ///
    /// ```no_run
    /// use sys::io::proto::{dirent, kind};
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// let mut page = [0u8; sys::io::IO_MAX];
    /// let n = dirent::encode(&dirent::Entry { kind: kind::FILE, size: 5, name: "motd" }, &mut page).unwrap_or(0);
    /// // bytes, entries, the next offset, all entries
    /// req.reply_with([n, 1, 1, 1], &page[..n])
    /// # }
    /// ```
    pub fn reply_with(mut self, results: [usize; 4], data: &[u8]) -> Result<(), IoError> {
        self.discard();
        let n = data.len().min(IO_MAX);
        answer(None, 0, results, &data[..n], None)
    }

    /// Answers an open with the handle `cap` (which the client receives a copy of) and `kind`.
    ///
    /// # Errors
    /// As [`reply`](Request::reply).
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let cspace = sys::process::cspace().expect("the program has its CSpace");
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// // A handle: the server's Endpoint, badged for it, with WRITE and GRANT.
    /// let handle = endpoint.mint(cspace, sys::Slot::Auto, sys::rights::WRITE | sys::rights::GRANT, 1)?;
    /// req.reply_handle(handle, 0)?;
    /// let _ = sys::Endpoint::new(handle).delete(); // the client holds its own copy
    /// # Ok(())
    /// # }
    /// ```
    pub fn reply_handle(mut self, cap: Cap, kind: usize) -> Result<(), IoError> {
        self.discard();
        answer(None, 0, [kind, 0, 0, 0], &[], Some(cap))
    }

    /// Answers with an error.
    ///
    /// # Errors
    /// As [`reply`](Request::reply).
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = sys::io::server::Request::receive(endpoint)?;
    /// req.reply_error(sys::io::IoError::Unsupported)
    /// # }
    /// ```
    pub fn reply_error(mut self, e: IoError) -> Result<(), IoError> {
        self.discard();
        answer(None, e.code(), [0; 4], &[], None)
    }

    /// Keeps the reply right in a Reply capability (in a free slot), to answer later.
    ///
    /// # Errors
    /// As [`Reply::save`].
    ///
    /// ```no_run
    /// use sys::io::server::{Op, Request};
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = Request::receive(endpoint)?;
    /// let waiting = req.defer()?; // a read with nothing to read yet
    /// // ... later, when data has arrived:
    /// if let Op::Read { max, .. } = waiting.op() {
    ///     waiting.reply_data(&b"late data"[..max.min(9)])?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn defer(mut self) -> Result<Deferred, IoError> {
        self.discard();
        let reply = Reply::save(Slot::Auto)?;
        Ok(Deferred { reply, words: self.words })
    }
}

/// A request whose answer waits ([`Request::defer`]).
///
/// ```no_run
/// use sys::io::server::{Op, Request};
/// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
/// let req = Request::receive(endpoint)?;
/// let waiting = req.defer()?; // a read with nothing to read yet
/// // ... later, when data has arrived:
/// if let Op::Read { max, .. } = waiting.op() {
///     waiting.reply_data(&b"late data"[..max.min(9)])?;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "the client waits until the request is answered"]
pub struct Deferred {
    reply: Reply,
    words: [usize; 5],
}

impl Deferred {
    /// What the request asked for (its data was not kept).
    ///
    /// ```no_run
    /// use sys::io::server::{Op, Request};
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = Request::receive(endpoint)?;
    /// let waiting = req.defer()?; // a read with nothing to read yet
    /// // ... later, when data has arrived:
    /// if let Op::Read { max, .. } = waiting.op() {
    ///     waiting.reply_data(&b"late data"[..max.min(9)])?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn op(&self) -> Op {
        let [o, a, b, _, _] = self.words;
        match o {
            op::READ => Op::Read { max: a.min(IO_MAX), nonblock: b & flags::NONBLOCK != 0 },
            other => Op::Invalid(other),
        }
    }

    /// Answers with status 0 and `results` in reply words 1-4; the Reply capability is used up.
    ///
    /// # Errors
    /// The client is gone.
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let waiting = sys::io::server::Request::receive(endpoint)?.defer()?;
    /// // ... later, when what it waits for has happened:
    /// waiting.reply([1, 0, 0, 0])
    /// # }
    /// ```
    pub fn reply(self, results: [usize; 4]) -> Result<(), IoError> {
        answer(Some(self.reply), 0, results, &[], None)
    }

    /// Answers a read with `data`; the Reply capability is used up.
    ///
    /// # Errors
    /// The client is gone.
    ///
    /// ```no_run
    /// use sys::io::server::{Op, Request};
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let req = Request::receive(endpoint)?;
    /// let waiting = req.defer()?; // a read with nothing to read yet
    /// // ... later, when data has arrived:
    /// if let Op::Read { max, .. } = waiting.op() {
    ///     waiting.reply_data(&b"late data"[..max.min(9)])?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn reply_data(self, data: &[u8]) -> Result<(), IoError> {
        let n = data.len().min(IO_MAX);
        answer(Some(self.reply), 0, [n, 0, 0, 0], &data[..n], None)
    }

    /// Answers with an error.
    ///
    /// # Errors
    /// The client is gone.
    ///
    /// ```no_run
    /// # fn demo(endpoint: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let waiting = sys::io::server::Request::receive(endpoint)?.defer()?;
    /// // ... the device went away while the read waited:
    /// waiting.reply_error(sys::io::IoError::Device)
    /// # }
    /// ```
    pub fn reply_error(self, e: IoError) -> Result<(), IoError> {
        answer(Some(self.reply), e.code(), [0; 4], &[], None)
    }
}

/// Sends an answer: through `saved`, or the reply right of this thread's last receive.
fn answer(
    saved: Option<Reply>,
    status: usize,
    results: [usize; 4],
    data: &[u8],
    cap: Option<Cap>,
) -> Result<(), IoError> {
    with_ipc_buffer(|b| {
        let mut packed = [0u64; MAX_EXTRA_WORDS];
        let used = proto::pack(data, &mut packed);
        let extra = Extra { cap: cap.is_some(), ..b.set_words(&packed[..used]) };
        b.set_send_cap(cap);
        let words = [status, results[0], results[1], results[2], results[3]];
        let sent = match saved {
            Some(r) => r.reply_with(words, extra),
            None => reply_with(words, extra),
        };
        b.set_send_cap(None);
        sent.map_err(IoError::from)
    })?
}
