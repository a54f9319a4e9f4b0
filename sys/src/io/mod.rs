//! I/O over IPC: the protocol every driver and server speaks (`docs/io.md`), its client side as
//! [`Read`] and [`Write`], and helpers for servers ([`server`]).
//!
//! A [`Channel`] is an Endpoint capability to a server, badged by the server for one client or
//! one open handle. Each operation is one `call`: the request in the message words and, for
//! data, up to [`IO_MAX`] bytes in the calling thread's IPC buffer
//! ([`thread::with_ipc_buffer`](crate::thread::with_ipc_buffer), made on first use); the reply
//! the same way. Longer reads and writes are several calls ([`Write::write_all`]). A server
//! that dies fails the call with an [`IoError::Ipc`] error.
//!
//! ```no_run
//! use sys::io::{Channel, Read, Write};
//! # fn demo(serial: sys::Endpoint) -> Result<(), sys::io::IoError> {
//! let mut com1 = Channel::new(serial).open("com1")?;
//! com1.write_all(b"hello from a client\r\n")?;
//! let mut line = [0u8; 64];
//! let n = com1.read(&mut line)?; // waits for input
//! # let _ = n;
//! # Ok(())
//! # }
//! ```

pub mod proto;
pub mod server;

/// The program's standard input: the channel its starter gave it as `stdin`, if any.
///
/// ```no_run
/// use sys::io::Read;
/// if let Some(mut input) = sys::io::stdin() {
///     let mut line = [0u8; 128];
///     let n = input.read(&mut line).unwrap_or(0);
/// #   let _ = n;
/// }
/// ```
pub fn stdin() -> Option<Channel> {
    crate::process::stream(0).map(|c| Channel::new(Endpoint::new(c)))
}

/// The program's standard output (`stdout`), if its starter gave it one; [`print!`](crate::print)
/// writes there when it exists.
///
/// ```no_run
/// use sys::io::Write;
/// if let Some(mut out) = sys::io::stdout() {
///     let _ = out.write_all(b"hello\n");
/// }
/// ```
pub fn stdout() -> Option<Channel> {
    crate::process::stream(1).map(|c| Channel::new(Endpoint::new(c)))
}

/// The program's standard error (`stderr`), if any; panic messages go there when it exists.
///
/// ```no_run
/// use sys::io::Write;
/// if let Some(mut err) = sys::io::stderr() {
///     let _ = err.write_all(b"something went wrong\n");
/// }
/// ```
pub fn stderr() -> Option<Channel> {
    crate::process::stream(2).map(|c| Channel::new(Endpoint::new(c)))
}

use abi::ipc::MAX_EXTRA_WORDS;

pub use proto::{IO_MAX, IoError};

use crate::cap::{Cap, Slot};
use crate::ipc::{Endpoint, IpcBufferPage, Words};
use crate::notify::Note;
use crate::thread::with_ipc_buffer;
use proto::{flags, op};

/// Reads bytes from a stream.
///
/// ```no_run
/// use sys::io::{Channel, Read, Write};
/// # fn demo(server: sys::Endpoint) -> Result<(), sys::io::IoError> {
/// let mut port = Channel::new(server).open("com1")?;
/// port.write_all(b"login: ")?;
/// let mut buf = [0u8; 32];
/// let n = port.read(&mut buf)?;
/// # let _ = n;
/// # Ok(())
/// # }
/// ```
pub trait Read {
    /// Reads at most `buf.len()` bytes, waiting for at least one; 0 is the end of the stream.
    ///
    /// # Errors
    /// As the server says ([`IoError`]).
    ///
    /// ```no_run
    /// use sys::io::{Channel, Read, Write};
    /// # fn demo(server: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let mut port = Channel::new(server).open("com1")?;
    /// port.write_all(b"login: ")?;
    /// let mut buf = [0u8; 32];
    /// let n = port.read(&mut buf)?;
    /// # let _ = n;
    /// # Ok(())
    /// # }
    /// ```
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError>;

    /// Fills `buf` whole, or fails with [`IoError::Closed`] at the end of the stream.
    ///
    /// # Errors
    /// As [`read`](Read::read).
    ///
    /// ```no_run
    /// use sys::io::{Channel, Read};
    /// # fn demo(disk: Channel) -> Result<(), sys::io::IoError> {
    /// let mut header = [0u8; 16];
    /// let mut disk = disk;
    /// disk.read_exact(&mut header)?; // all 16 bytes, or Closed at the end
    /// # Ok(())
    /// # }
    /// ```
    fn read_exact(&mut self, mut buf: &mut [u8]) -> Result<(), IoError> {
        while !buf.is_empty() {
            match self.read(buf)? {
                0 => return Err(IoError::Closed),
                n => buf = &mut buf[n..],
            }
        }
        Ok(())
    }
}

/// Writes bytes to a stream.
///
/// ```no_run
/// use sys::io::{Channel, Read, Write};
/// # fn demo(server: sys::Endpoint) -> Result<(), sys::io::IoError> {
/// let mut port = Channel::new(server).open("com1")?;
/// port.write_all(b"login: ")?;
/// let mut buf = [0u8; 32];
/// let n = port.read(&mut buf)?;
/// # let _ = n;
/// # Ok(())
/// # }
/// ```
pub trait Write {
    /// Writes some of `buf` (at least one byte of a non-empty one); returns how many.
    ///
    /// # Errors
    /// As the server says ([`IoError`]).
    ///
    /// ```no_run
    /// use sys::io::{Channel, Write};
    /// # fn demo(mut port: Channel) -> Result<(), sys::io::IoError> {
    /// let taken = port.write(b"some bytes")?; // perhaps fewer than all
    /// # let _ = taken;
    /// # Ok(())
    /// # }
    /// ```
    fn write(&mut self, buf: &[u8]) -> Result<usize, IoError>;

    /// Writes all of `buf`, in as many calls as it takes.
    ///
    /// # Errors
    /// As [`write`](Write::write); a server that takes nothing is [`IoError::NoSpace`].
    ///
    /// ```no_run
    /// use sys::io::{Channel, Read, Write};
    /// # fn demo(server: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let mut port = Channel::new(server).open("com1")?;
    /// port.write_all(b"login: ")?;
    /// let mut buf = [0u8; 32];
    /// let n = port.read(&mut buf)?;
    /// # let _ = n;
    /// # Ok(())
    /// # }
    /// ```
    fn write_all(&mut self, mut buf: &[u8]) -> Result<(), IoError> {
        while !buf.is_empty() {
            match self.write(buf)? {
                0 => return Err(IoError::NoSpace),
                n => buf = &buf[n.min(buf.len())..],
            }
        }
        Ok(())
    }
}

/// What `status` reports.
///
/// ```no_run
/// # fn demo(port: sys::io::Channel) -> Result<(), sys::io::IoError> {
/// let st = port.status()?;
/// if st.state & sys::io::proto::state::READABLE != 0 {
///     sys::println!("{} bytes waiting", st.readable);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Status {
    /// Bytes that can be read now.
    pub readable: usize,
    /// [`proto::state`] bits.
    pub state: usize,
}

/// A client's end of an I/O channel: an Endpoint capability to a server (see the module docs).
///
/// ```no_run
/// use sys::io::{Channel, Read, Write};
/// # fn demo(server: sys::Endpoint) -> Result<(), sys::io::IoError> {
/// let mut port = Channel::new(server).open("com1")?;
/// port.write_all(b"login: ")?;
/// let mut buf = [0u8; 32];
/// let n = port.read(&mut buf)?;
/// # let _ = n;
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    endpoint: Endpoint,
}

/// The status in reply word 0, as a result.
fn status(reply: &Words) -> Result<(), IoError> {
    match IoError::from_code(reply[0]) {
        None => Ok(()),
        Some(e) => Err(e),
    }
}

impl Channel {
    /// A channel over `endpoint`.
    ///
    /// ```no_run
    /// use sys::io::{Channel, Read, Write};
    /// # fn demo(server: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let mut port = Channel::new(server).open("com1")?;
    /// port.write_all(b"login: ")?;
    /// let mut buf = [0u8; 32];
    /// let n = port.read(&mut buf)?;
    /// # let _ = n;
    /// # Ok(())
    /// # }
    /// ```
    pub const fn new(endpoint: Endpoint) -> Channel {
        Channel { endpoint }
    }

    /// The Endpoint capability.
    ///
    /// ```no_run
    /// # fn demo(port: sys::io::Channel) -> sys::Result<()> {
    /// let raw = port.endpoint().call([sys::io::proto::op::STATUS, 0, 0, 0, 0])?;
    /// # let _ = raw;
    /// # Ok(())
    /// # }
    /// ```
    pub const fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// One request: `words`, with `data` (at most [`IO_MAX`] bytes) in the IPC buffer, and
    /// `before` run on the buffer first (to send or receive a capability). Returns the reply's
    /// words, after `after` has seen the buffer.
    pub(crate) fn request<R>(
        &self,
        words: Words,
        data: &[u8],
        before: impl FnOnce(&IpcBufferPage),
        after: impl FnOnce(&IpcBufferPage, &Words) -> R,
    ) -> Result<R, IoError> {
        with_ipc_buffer(|b| {
            let mut packed = [0u64; MAX_EXTRA_WORDS];
            let used = proto::pack(data, &mut packed);
            b.set_words(&packed[..used]);
            before(b);
            let reply = self.endpoint.call(words);
            // Nothing more goes with this thread's later messages unless it says so.
            b.set_send_len(0);
            b.set_send_cap(None);
            b.set_recv_slot(None);
            let reply = reply?;
            let r = after(b, &reply);
            status(&reply)?;
            Ok(r)
        })?
    }

    /// Opens `name` on the server: a channel for the handle it hands back, or, if the reply
    /// brought no capability (a server that cannot mint one binds the name to the calling
    /// channel instead), this same channel.
    ///
    /// # Errors
    /// [`IoError::BadRequest`] for a name longer than [`IO_MAX`]; as the server says
    /// ([`IoError::NotFound`], ...).
    ///
    /// ```no_run
    /// use sys::io::{Channel, Read, Write};
    /// # fn demo(server: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let mut port = Channel::new(server).open("com1")?;
    /// port.write_all(b"login: ")?;
    /// let mut buf = [0u8; 32];
    /// let n = port.read(&mut buf)?;
    /// # let _ = n;
    /// # Ok(())
    /// # }
    /// ```
    pub fn open(&self, name: &str) -> Result<Channel, IoError> {
        if name.len() > IO_MAX {
            return Err(IoError::BadRequest);
        }
        let handle = self.request(
            [op::OPEN, name.len(), 0, 0, 0],
            name.as_bytes(),
            |b| b.set_recv_slot(Some(Slot::Auto)),
            |b, reply| (reply[0] == 0).then(|| b.received()).flatten(),
        )?;
        // A server without a CSpace of its own binds the name to this channel instead.
        Ok(handle.map_or(*self, |c| Channel::new(Endpoint::new(c))))
    }

    /// Reads what there is now, without waiting: [`IoError::WouldBlock`] if nothing.
    ///
    /// # Errors
    /// As [`Read::read`], and [`IoError::WouldBlock`].
    ///
    /// ```no_run
    /// use sys::io::IoError;
    /// # fn demo(port: sys::io::Channel) -> Result<(), IoError> {
    /// let mut buf = [0u8; 64];
    /// match port.try_read(&mut buf) {
    ///     Ok(n) => sys::println!("{n} bytes"),
    ///     Err(IoError::WouldBlock) => sys::println!("nothing yet"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn try_read(&self, buf: &mut [u8]) -> Result<usize, IoError> {
        self.read_with(buf, flags::NONBLOCK)
    }

    fn read_with(&self, buf: &mut [u8], fl: usize) -> Result<usize, IoError> {
        let max = buf.len().min(IO_MAX);
        self.request(
            [op::READ, max, fl, 0, 0],
            &[],
            |_| {},
            |b, reply| {
                if reply[0] != 0 {
                    return 0;
                }
                let (words, len) = b.received_words();
                proto::unpack(&words[..len], reply[1], &mut buf[..max])
            },
        )
    }

    /// Bytes readable now, and the [`proto::state`] bits.
    ///
    /// # Errors
    /// As the server says.
    ///
    /// ```no_run
    /// # fn demo(port: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// let readable = port.status()?.readable;
    /// # let _ = readable;
    /// # Ok(())
    /// # }
    /// ```
    pub fn status(&self) -> Result<Status, IoError> {
        self.request([op::STATUS, 0, 0, 0, 0], &[], |_| {}, |_, r| Status { readable: r[1], state: r[2] })
    }

    /// From now on the server signals `bits` on `note` whenever there is data to read and no read
    /// waits (`None`: it stops). The Note travels with the request, so the channel's capability
    /// needs GRANT.
    ///
    /// # Errors
    /// As the server says ([`IoError::BadRequest`] if the Note did not arrive).
    ///
    /// ```no_run
    /// # fn demo(port: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let note = sys::Note::create(memory, sys::Slot::Auto)?;
    /// port.notify(Some(note), 1)?;
    /// let bits = note.wait()?; // data has arrived
    /// # let _ = bits;
    /// # Ok(())
    /// # }
    /// ```
    pub fn notify(&self, note: Option<Note>, bits: usize) -> Result<(), IoError> {
        self.request([op::NOTIFY, bits, 0, 0, 0], &[], |b| b.set_send_cap(note.map(|n| n.cap())), |_, _| ())
    }

    /// Closes the handle, and deletes the capability.
    ///
    /// # Errors
    /// As the server says; the capability is deleted either way.
    ///
    /// ```no_run
    /// use sys::io::{Channel, Read, Write};
    /// # fn demo(server: sys::Endpoint) -> Result<(), sys::io::IoError> {
    /// let mut port = Channel::new(server).open("com1")?;
    /// port.write_all(b"login: ")?;
    /// let mut buf = [0u8; 32];
    /// let n = port.read(&mut buf)?;
    /// # let _ = n;
    /// port.close()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn close(self) -> Result<(), IoError> {
        let r = self.request([op::CLOSE, 0, 0, 0, 0], &[], |_| {}, |_, _| ());
        let _ = self.endpoint.delete();
        r
    }

    /// The capability, for handing on.
    ///
    /// ```no_run
    /// # fn demo(port: sys::io::Channel, buffer: &sys::IpcBufferPage) {
    /// buffer.set_send_cap(Some(port.cap())); // hand the channel on with the next message
    /// # }
    /// ```
    pub const fn cap(&self) -> Cap {
        self.endpoint.cap()
    }
}

impl Read for Channel {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        self.read_with(buf, 0)
    }
}

impl Write for Channel {
    fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        let n = buf.len().min(IO_MAX);
        let written = self.request([op::WRITE, n, 0, 0, 0], &buf[..n], |_| {}, |_, r| r[1])?;
        Ok(written.min(n))
    }
}

impl core::fmt::Write for Channel {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        self.write_all(s.as_bytes()).map_err(|_| core::fmt::Error)
    }
}
