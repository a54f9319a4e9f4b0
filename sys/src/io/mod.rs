//! I/O over IPC: the protocol every driver and server speaks (`docs/io.md`), its client side as
//! [`Read`] and [`Write`], and helpers for servers ([`server`]).
//!
//! Servers that hold files (ramfs) also answer the file operations: [`Channel::open_with`]
//! (create, truncate, append), [`Channel::seek`], [`Channel::stat`], [`Channel::read_dir`],
//! [`Channel::mkdir`], [`Channel::unlink`] and [`Channel::rename`]. A path names a node from the
//! server's root; an empty path, where one is allowed, names the handle itself.
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

pub use proto::{IO_MAX, IoError, SeekFrom};

use crate::cap::{Cap, Slot};
use crate::ipc::{Endpoint, IpcBufferPage, Words};
use crate::notify::Note;
use crate::thread::with_ipc_buffer;
use proto::{dirent, flags, op};

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

/// What `stat` reports.
///
/// ```no_run
/// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
/// let st = files.stat("/etc/motd")?;
/// if st.is_file() {
///     sys::println!("{} bytes", st.size);
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// A [`proto::kind`].
    pub kind: usize,
    /// A file's bytes, a directory's entries.
    pub size: u64,
    /// A number naming the node while it exists.
    pub id: u64,
}

impl Stat {
    /// Whether it is a directory.
    ///
    /// ```
    /// let st = sys::io::Stat { kind: sys::io::proto::kind::DIRECTORY, size: 2, id: 1 };
    /// assert!(st.is_dir() && !st.is_file());
    /// ```
    pub const fn is_dir(&self) -> bool {
        self.kind == proto::kind::DIRECTORY
    }

    /// Whether it is a file.
    ///
    /// ```
    /// let st = sys::io::Stat { kind: sys::io::proto::kind::FILE, size: 0, id: 7 };
    /// assert!(st.is_file());
    /// ```
    pub const fn is_file(&self) -> bool {
        self.kind == proto::kind::FILE
    }
}

/// One reply of `readdir`: some of a directory's entries ([`Channel::read_dir`]).
///
/// ```no_run
/// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
/// let mut offset = 0;
/// loop {
///     let page = files.read_dir("/bin", offset)?;
///     for e in page.entries() {
///         sys::println!("{:>8} {}", e.size, e.name);
///     }
///     if page.is_last() {
///         break;
///     }
///     offset = page.next;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct DirPage {
    data: [u8; IO_MAX],
    len: usize,
    /// Entries in this reply.
    pub count: usize,
    /// The offset to ask for next.
    pub next: usize,
    /// Entries in the directory.
    pub total: usize,
}

impl DirPage {
    /// The entries in this reply, in the directory's order.
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// let names = files.read_dir("/", 0)?.entries().count();
    /// # let _ = names;
    /// # Ok(())
    /// # }
    /// ```
    pub fn entries(&self) -> dirent::Entries<'_> {
        dirent::Entries::new(&self.data[..self.len])
    }

    /// Whether no entries come after these: the next offset is past the last entry, or this
    /// reply brought none.
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// let page = files.read_dir("/etc", 0)?;
    /// if !page.is_last() {
    ///     sys::println!("more from {}", page.next);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub const fn is_last(&self) -> bool {
        self.count == 0 || self.next >= self.total
    }
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

/// What a reply brought through the IPC buffer, for a request's `after`.
pub(crate) struct Arrived<'a> {
    buffer: &'a IpcBufferPage,
    extra: crate::ipc::Extra,
}

impl Arrived<'_> {
    /// The extra words, and how many there are.
    pub(crate) fn received_words(&self) -> ([u64; MAX_EXTRA_WORDS], usize) {
        self.buffer.received_words(self.extra)
    }

    /// The capability that came, if one did.
    pub(crate) fn received(&self) -> Option<crate::cap::Cap> {
        self.buffer.received(self.extra)
    }
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
    /// `before` run on the buffer first (to send a capability, `set_send_cap`, or receive one).
    /// Returns the reply's words, after `after` has seen what the reply brought.
    pub(crate) fn request<R>(
        &self,
        words: Words,
        data: &[u8],
        before: impl FnOnce(&IpcBufferPage),
        after: impl FnOnce(Arrived<'_>, &Words) -> R,
    ) -> Result<R, IoError> {
        with_ipc_buffer(|b| {
            let mut packed = [0u64; MAX_EXTRA_WORDS];
            let used = proto::pack(data, &mut packed);
            let mut extra = b.set_words(&packed[..used]);
            before(b);
            extra.cap = b.names_send_cap();
            let reply = self.endpoint.call_with(words, extra);
            // Nothing more goes with this thread's later messages unless it says so.
            b.set_send_cap(None);
            b.set_recv_slot(None);
            let reply = reply?;
            let r = after(Arrived { buffer: b, extra: reply.extra }, &reply.words);
            status(&reply.words)?;
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
        self.open_with(name, 0)
    }

    /// Opens `name` with [`proto::open`] flags: [`CREATE`](proto::open::CREATE) to make a file,
    /// [`TRUNCATE`](proto::open::TRUNCATE) to empty it, [`APPEND`](proto::open::APPEND) to write
    /// at its end, and so on. As [`open`](Channel::open) otherwise.
    ///
    /// # Errors
    /// As [`open`](Channel::open); from a file server also [`IoError::Exists`],
    /// [`IoError::NotADirectory`], [`IoError::IsADirectory`], [`IoError::NoSpace`].
    ///
    /// ```no_run
    /// use sys::io::proto::open;
    /// use sys::io::Write;
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// let mut log = files.open_with("/var/log/boot", open::CREATE | open::APPEND | open::PARENTS)?;
    /// log.write_all(b"booted\n")?;
    /// log.close()
    /// # }
    /// ```
    pub fn open_with(&self, name: &str, flags: usize) -> Result<Channel, IoError> {
        if name.len() > IO_MAX {
            return Err(IoError::BadRequest);
        }
        let handle = self.request(
            [op::OPEN, name.len(), flags, 0, 0],
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

    /// Moves the handle's offset; returns the new one.
    ///
    /// # Errors
    /// As the server says ([`IoError::BadRequest`] for an offset before the start,
    /// [`IoError::Unsupported`] for a stream).
    ///
    /// ```no_run
    /// use sys::io::{Read, SeekFrom};
    /// # fn demo(mut file: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// let size = file.seek(SeekFrom::End(0))?;
    /// file.seek(SeekFrom::Start(0))?;
    /// let mut first = [0u8; 16];
    /// let n = file.read(&mut first)?;
    /// # let _ = (size, n);
    /// # Ok(())
    /// # }
    /// ```
    pub fn seek(&self, from: SeekFrom) -> Result<u64, IoError> {
        let (offset, whence) = from.to_words();
        self.request([op::SEEK, offset, whence, 0, 0], &[], |_| {}, |_, r| r[1] as u64)
    }

    /// What `path` names (an empty path: this handle).
    ///
    /// # Errors
    /// [`IoError::BadRequest`] for a path longer than [`IO_MAX`]; as the server says
    /// ([`IoError::NotFound`], [`IoError::NotADirectory`], ...).
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// let st = files.stat("/bin")?;
    /// assert!(st.is_dir());
    /// # Ok(())
    /// # }
    /// ```
    pub fn stat(&self, path: &str) -> Result<Stat, IoError> {
        self.path_request(op::STAT, path, 0, |r| Stat { kind: r[1], size: r[2] as u64, id: r[3] as u64 })
    }

    /// The entries of directory `path` (an empty path: this handle) from index `offset` on, as
    /// many as one reply holds.
    ///
    /// # Errors
    /// As [`stat`](Channel::stat).
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// let page = files.read_dir("/", 0)?;
    /// for e in page.entries() {
    ///     sys::println!("{}", e.name);
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_dir(&self, path: &str, offset: usize) -> Result<DirPage, IoError> {
        if path.len() > IO_MAX {
            return Err(IoError::BadRequest);
        }
        let mut page = DirPage { data: [0; IO_MAX], len: 0, count: 0, next: 0, total: 0 };
        let (len, count, next, total) = self.request(
            [op::READDIR, path.len(), offset, 0, 0],
            path.as_bytes(),
            |_| {},
            |b, r| {
                if r[0] != 0 {
                    return (0, 0, 0, 0);
                }
                let (words, n) = b.received_words();
                (proto::unpack(&words[..n], r[1], &mut page.data), r[2], r[3], r[4])
            },
        )?;
        page.len = len;
        page.count = count;
        page.next = next;
        page.total = total;
        Ok(page)
    }

    /// Calls `f` on every entry of directory `path`, asking the server as many times as it takes.
    ///
    /// # Errors
    /// As [`read_dir`](Channel::read_dir).
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// let mut bytes = 0;
    /// files.for_each_entry("/bin", |e| bytes += e.size)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn for_each_entry(&self, path: &str, mut f: impl FnMut(dirent::Entry<'_>)) -> Result<(), IoError> {
        let mut offset = 0;
        loop {
            let page = self.read_dir(path, offset)?;
            page.entries().for_each(&mut f);
            if page.is_last() || page.next <= offset {
                return Ok(());
            }
            offset = page.next;
        }
    }

    /// Makes directory `path`; its parent must exist.
    ///
    /// # Errors
    /// As [`stat`](Channel::stat), and [`IoError::Exists`], [`IoError::NoSpace`].
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// files.mkdir("/tmp")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn mkdir(&self, path: &str) -> Result<(), IoError> {
        self.path_request(op::MKDIR, path, 0, |_| ())
    }

    /// Makes directory `path` and every missing one on the way; a directory already there is
    /// no error (`mkdir -p`).
    ///
    /// # Errors
    /// As [`mkdir`](Channel::mkdir), but for [`IoError::Exists`].
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// files.mkdir_all("/usr/share/doc")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn mkdir_all(&self, path: &str) -> Result<(), IoError> {
        self.path_request(op::MKDIR, path, proto::mkdir::PARENTS, |_| ())
    }

    /// Removes file `path`.
    ///
    /// # Errors
    /// As [`stat`](Channel::stat), and [`IoError::IsADirectory`].
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// files.unlink("/tmp/scratch")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn unlink(&self, path: &str) -> Result<(), IoError> {
        self.path_request(op::UNLINK, path, 0, |_| ())
    }

    /// Removes the empty directory `path`.
    ///
    /// # Errors
    /// As [`stat`](Channel::stat), and [`IoError::NotEmpty`], [`IoError::NotADirectory`].
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// files.rmdir("/tmp")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn rmdir(&self, path: &str) -> Result<(), IoError> {
        self.path_request(op::UNLINK, path, proto::unlink::DIRECTORY, |_| ())
    }

    /// Moves `from` to `to`, replacing a file there (or an empty directory, when `from` is a
    /// directory).
    ///
    /// # Errors
    /// [`IoError::BadRequest`] when the two paths together are longer than [`IO_MAX`] (or `to`
    /// lies inside `from`); as the server says ([`IoError::NotFound`],
    /// [`IoError::IsADirectory`], [`IoError::NotADirectory`], [`IoError::NotEmpty`], ...).
    ///
    /// ```no_run
    /// # fn demo(files: sys::io::Channel) -> Result<(), sys::io::IoError> {
    /// files.rename("/tmp/new-motd", "/etc/motd")?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn rename(&self, from: &str, to: &str) -> Result<(), IoError> {
        let mut both = [0u8; IO_MAX];
        let n = from.len().checked_add(to.len()).filter(|&n| n <= IO_MAX).ok_or(IoError::BadRequest)?;
        both[..from.len()].copy_from_slice(from.as_bytes());
        both[from.len()..n].copy_from_slice(to.as_bytes());
        self.request([op::RENAME, from.len(), to.len(), 0, 0], &both[..n], |_| {}, |_, _| ())
    }

    /// A request carrying `path` as its data and `arg` in word 2.
    fn path_request<R>(&self, o: usize, path: &str, arg: usize, f: impl FnOnce(&Words) -> R) -> Result<R, IoError> {
        if path.len() > IO_MAX {
            return Err(IoError::BadRequest);
        }
        self.request([o, path.len(), arg, 0, 0], path.as_bytes(), |_| {}, |_, r| f(r))
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
