//! The wire format of the I/O protocol (`docs/io.md`): operation numbers, flags, error codes, and
//! how bytes are packed into message words.
//!
//! A request is a `call` on a server's Endpoint: word 0 is the operation ([`op`]), words 1-4 its
//! arguments, and up to [`IO_MAX`] bytes of data travel in the IPC buffer's extra words. The
//! reply's word 0 is the status (0, or an [`IoError`] code), words 1-4 its results, and data again
//! in the extra words. The badge of the capability the client calls through tells the server
//! which client and which open handle a request is for.

use abi::ipc::MAX_EXTRA_WORDS;

/// Most bytes one request or reply carries: the IPC buffer's extra words, 8 bytes each.
pub const IO_MAX: usize = MAX_EXTRA_WORDS * 8;

/// Operation numbers (request word 0).
pub mod op {
    /// `read(max, flags) -> (n)`: up to `max` bytes in the reply's data; `n == 0` is the end of
    /// the stream. Without [`NONBLOCK`](super::flags::NONBLOCK) the server answers only once
    /// there is data.
    pub const READ: usize = 1;
    /// `write(n)`, `n` bytes in the request's data `-> (written)`: how many the server took (it
    /// may take fewer when its buffer is full).
    pub const WRITE: usize = 2;
    /// `open(len, flags)`, the name in the request's data `-> (kind)`: the reply carries a
    /// capability, the handle (an Endpoint capability badged for it), and the handle's kind.
    pub const OPEN: usize = 3;
    /// `close()`: the handle the badge names is gone.
    pub const CLOSE: usize = 4;
    /// `status() -> (readable, state)`: bytes that can be read now, and [`state`](super::state)
    /// bits.
    pub const STATUS: usize = 5;
    /// `notify(bits)`, a Note capability with the request (none: stop) `-> ()`: the server
    /// signals `bits` on the Note whenever the handle has data to read and no read is waiting.
    pub const NOTIFY: usize = 6;
    /// `seek(offset, whence) -> (position)`: moves the handle's offset ([`SeekFrom`](super::SeekFrom)
    /// as two words, [`whence`](super::whence)) and says where it is now.
    pub const SEEK: usize = 7;
    /// `stat(len)`, a path in the request's data `-> (kind, size, id)`: what the path names (an
    /// empty path: the handle itself). `kind` is a [`kind`](super::kind), `size` a file's bytes
    /// or a directory's entries, `id` a number that names the node while it exists.
    pub const STAT: usize = 8;
    /// `readdir(len, offset)`, a directory's path in the request's data `-> (bytes, count, next,
    /// total)`: the entries from index `offset` on that fit in one reply, as [`dirent`](super::dirent)
    /// records in its data; ask again from `next` until it reaches `total`.
    pub const READDIR: usize = 9;
    /// `mkdir(len, flags)`, a path in the request's data `-> ()`: makes a directory
    /// ([`mkdir`](super::mkdir) flags).
    pub const MKDIR: usize = 10;
    /// `unlink(len, flags)`, a path in the request's data `-> ()`: removes a file, or an empty
    /// directory with [`unlink::DIRECTORY`](super::unlink::DIRECTORY).
    pub const UNLINK: usize = 11;
    /// `rename(from_len, to_len)`, the two paths one after the other in the request's data
    /// `-> ()`: moves `from` to `to`, replacing a file (or an empty directory, by a directory)
    /// there.
    pub const RENAME: usize = 12;
}

/// Request flags.
pub mod flags {
    /// `read`: answer at once, with [`IoError::WouldBlock`](super::IoError::WouldBlock) if there
    /// is nothing to read.
    pub const NONBLOCK: usize = 1;
}

/// `open` flags (request word 2). A server that does not hold files ignores them.
pub mod open {
    /// Create the file if nothing has the name (its directory must exist, or [`PARENTS`]).
    pub const CREATE: usize = 1;
    /// With [`CREATE`]: fail with [`IoError::Exists`](super::IoError::Exists) if the name exists.
    pub const EXCLUSIVE: usize = 2;
    /// Empty the file first.
    pub const TRUNCATE: usize = 4;
    /// Every write goes to the end of the file, wherever the offset is.
    pub const APPEND: usize = 8;
    /// The name must be a directory ([`IoError::NotADirectory`](super::IoError::NotADirectory)
    /// otherwise).
    pub const DIRECTORY: usize = 0x10;
    /// With [`CREATE`]: make the missing directories on the way, as `mkdir -p` does.
    pub const PARENTS: usize = 0x20;
    /// Every flag this version knows.
    pub const ALL: usize = CREATE | EXCLUSIVE | TRUNCATE | APPEND | DIRECTORY | PARENTS;
}

/// `mkdir` flags (request word 2).
pub mod mkdir {
    /// Make the missing directories on the way too, and succeed if the directory exists
    /// (`mkdir -p`).
    pub const PARENTS: usize = 1;
    /// Every flag this version knows.
    pub const ALL: usize = PARENTS;
}

/// `unlink` flags (request word 2).
pub mod unlink {
    /// Remove an empty directory (`rmdir`); without it, only a file.
    pub const DIRECTORY: usize = 1;
    /// Every flag this version knows.
    pub const ALL: usize = DIRECTORY;
}

/// Kinds of handle and node: `open`'s result and `stat`'s `kind`.
pub mod kind {
    /// A byte stream: a serial port, a terminal, a pipe.
    pub const STREAM: usize = 1;
    /// A file: bytes at offsets, a size.
    pub const FILE: usize = 2;
    /// A directory: named entries.
    pub const DIRECTORY: usize = 3;
}

/// `seek`'s `whence` (request word 2): what the offset counts from.
pub mod whence {
    /// The start of the file.
    pub const START: usize = 0;
    /// The handle's offset now.
    pub const CURRENT: usize = 1;
    /// The end of the file.
    pub const END: usize = 2;
}

/// Where `seek` moves a handle's offset to.
///
/// ```
/// use sys::io::SeekFrom;
/// let (offset, whence) = SeekFrom::End(-4).to_words();
/// assert_eq!(SeekFrom::from_words(offset, whence), Some(SeekFrom::End(-4)));
/// assert_eq!(SeekFrom::from_words(0, 9), None, "an unknown whence");
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SeekFrom {
    /// This many bytes from the start.
    Start(u64),
    /// This many bytes from the offset now (negative: back).
    Current(i64),
    /// This many bytes from the end (negative: before it).
    End(i64),
}

impl SeekFrom {
    /// Request words 1 and 2: the offset (two's complement for the relative forms) and
    /// [`whence`].
    ///
    /// ```
    /// use sys::io::SeekFrom;
    /// assert_eq!(SeekFrom::Current(-1).to_words(), (usize::MAX, sys::io::proto::whence::CURRENT));
    /// ```
    pub const fn to_words(self) -> (usize, usize) {
        match self {
            SeekFrom::Start(n) => (n as usize, whence::START),
            SeekFrom::Current(n) => (n as usize, whence::CURRENT),
            SeekFrom::End(n) => (n as usize, whence::END),
        }
    }

    /// The seek request words 1 and 2 describe, `None` for an unknown `whence`.
    ///
    /// ```
    /// use sys::io::SeekFrom;
    /// assert_eq!(SeekFrom::from_words(10, 0), Some(SeekFrom::Start(10)));
    /// ```
    pub const fn from_words(offset: usize, whence: usize) -> Option<SeekFrom> {
        match whence {
            whence::START => Some(SeekFrom::Start(offset as u64)),
            whence::CURRENT => Some(SeekFrom::Current(offset as i64)),
            whence::END => Some(SeekFrom::End(offset as i64)),
            _ => None,
        }
    }
}

/// Directory entries as `readdir` carries them: one record per entry, packed one after the
/// other in the reply's data.
///
/// A record is `kind` (1 byte, a [`kind`]), the name's length (1 byte, 1 to
/// [`NAME_MAX`](dirent::NAME_MAX)), the size (8 bytes, little-endian: a file's bytes, a
/// directory's entries), then the name (UTF-8, no `/`).
///
/// ```
/// use sys::io::proto::{dirent, kind};
/// let mut buf = [0u8; 64];
/// let mut at = 0;
/// for e in [dirent::Entry { kind: kind::FILE, size: 5, name: "motd" }, dirent::Entry { kind: kind::DIRECTORY, size: 2, name: "bin" }] {
///     at += dirent::encode(&e, &mut buf[at..]).expect("room for it");
/// }
/// let names: Vec<&str> = dirent::Entries::new(&buf[..at]).map(|e| e.name).collect();
/// assert_eq!(names, ["motd", "bin"]);
/// ```
pub mod dirent {
    /// The longest name, in bytes.
    pub const NAME_MAX: usize = 255;

    /// Bytes of a record before its name.
    pub const HEADER: usize = 10;

    /// One directory entry.
    ///
    /// ```
    /// use sys::io::proto::{dirent, kind};
    /// let e = dirent::Entry { kind: kind::FILE, size: 12, name: "hello.txt" };
    /// assert_eq!(e.len(), dirent::HEADER + 9);
    /// ```
    #[derive(Copy, Clone, Debug, PartialEq, Eq)]
    pub struct Entry<'a> {
        /// A [`kind`](super::kind).
        pub kind: usize,
        /// A file's bytes, a directory's entries.
        pub size: u64,
        /// The entry's name.
        pub name: &'a str,
    }

    impl Entry<'_> {
        /// Bytes of its record.
        ///
        /// ```
        /// let e = sys::io::proto::dirent::Entry { kind: 2, size: 0, name: "a" };
        /// assert_eq!(e.len(), 11);
        /// ```
        #[expect(clippy::len_without_is_empty, reason = "a record is never empty")]
        pub const fn len(&self) -> usize {
            HEADER + self.name.len()
        }
    }

    /// Writes `entry`'s record at the start of `out`; returns its length, or `None` if it does not
    /// fit (or the name is empty or longer than [`NAME_MAX`], or the kind above 255).
    ///
    /// ```
    /// use sys::io::proto::dirent::{encode, Entry};
    /// let mut small = [0u8; 8];
    /// assert_eq!(encode(&Entry { kind: 2, size: 0, name: "x" }, &mut small), None, "no room");
    /// ```
    pub fn encode(entry: &Entry<'_>, out: &mut [u8]) -> Option<usize> {
        let n = entry.name.len();
        let kind = u8::try_from(entry.kind).ok()?;
        if n == 0 || n > NAME_MAX || out.len() < HEADER + n {
            return None;
        }
        out[0] = kind;
        out[1] = n as u8;
        out[2..HEADER].copy_from_slice(&entry.size.to_le_bytes());
        out[HEADER..HEADER + n].copy_from_slice(entry.name.as_bytes());
        Some(HEADER + n)
    }

    /// The records in a `readdir` reply's data, in order; it stops at the first that is cut
    /// short or malformed.
    ///
    /// ```
    /// use sys::io::proto::dirent::Entries;
    /// assert_eq!(Entries::new(&[2, 5, 0]).count(), 0, "a record cut short");
    /// ```
    #[derive(Clone, Debug)]
    pub struct Entries<'a> {
        rest: &'a [u8],
    }

    impl<'a> Entries<'a> {
        /// The records in `data`.
        ///
        /// ```
        /// assert_eq!(sys::io::proto::dirent::Entries::new(&[]).next(), None);
        /// ```
        pub const fn new(data: &'a [u8]) -> Entries<'a> {
            Entries { rest: data }
        }
    }

    impl<'a> Iterator for Entries<'a> {
        type Item = Entry<'a>;

        fn next(&mut self) -> Option<Entry<'a>> {
            let entry = decode(self.rest);
            self.rest = match entry {
                Some(e) => &self.rest[e.len()..],
                None => &[],
            };
            entry
        }
    }

    /// The record at the start of `data`, if it is whole and well-formed.
    fn decode(data: &[u8]) -> Option<Entry<'_>> {
        let (&[kind, n], rest) = data.split_first_chunk::<2>()?;
        let (size, rest) = rest.split_first_chunk::<8>()?;
        let name = core::str::from_utf8(rest.get(..usize::from(n))?).ok()?;
        if name.is_empty() || name.contains('/') {
            return None;
        }
        Some(Entry { kind: usize::from(kind), size: u64::from_le_bytes(*size), name })
    }
}

/// Bits of `status`'s `state`.
pub mod state {
    /// Bytes can be read now.
    pub const READABLE: usize = 1;
    /// A write would take bytes now.
    pub const WRITABLE: usize = 2;
    /// The other end is gone: reads return what is left, then end of stream.
    pub const HANGUP: usize = 4;
}

/// Why an I/O request failed (reply word 0), or why the call carrying it did.
///
/// ```
/// use sys::io::IoError;
/// assert_eq!(IoError::from_code(4), Some(IoError::WouldBlock));
/// assert_eq!(IoError::NotFound.code(), 3);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum IoError {
    /// The handle does not do this operation.
    Unsupported,
    /// An argument is out of range (a length above [`IO_MAX`], unknown flags, a name that is not
    /// UTF-8, a `notify` without a Note).
    BadRequest,
    /// Nothing has that name (or a directory on its way is missing).
    NotFound,
    /// `read` with [`NONBLOCK`](flags::NONBLOCK): nothing to read now.
    WouldBlock,
    /// The handle was closed, or the badge names none.
    Closed,
    /// The server has no room (buffers, handles).
    NoSpace,
    /// Another read on this handle is already waiting.
    Busy,
    /// The device failed.
    Device,
    /// A name on the way, or the one a directory operation names, is not a directory.
    NotADirectory,
    /// A file operation named a directory (a read or write of one, `unlink` without
    /// [`unlink::DIRECTORY`]).
    IsADirectory,
    /// The name exists already (`mkdir`, `open` with [`open::EXCLUSIVE`]).
    Exists,
    /// The directory is not empty (`unlink`, or a `rename` onto it).
    NotEmpty,
    /// A status this version of the protocol does not know.
    Unknown(usize),
    /// The call itself failed: the server's Endpoint is gone, the server stopped before it
    /// answered ([`NoReply`](abi::Error::NoReply)), or the capability is wrong.
    Ipc(abi::Error),
}

impl IoError {
    /// The status code in reply word 0.
    ///
    /// ```
    /// assert_eq!(sys::io::IoError::Closed.code(), 5);
    /// ```
    pub const fn code(self) -> usize {
        match self {
            IoError::Unsupported => 1,
            IoError::BadRequest => 2,
            IoError::NotFound => 3,
            IoError::WouldBlock => 4,
            IoError::Closed => 5,
            IoError::NoSpace => 6,
            IoError::Busy => 7,
            IoError::Device => 8,
            IoError::NotADirectory => 9,
            IoError::IsADirectory => 10,
            IoError::Exists => 11,
            IoError::NotEmpty => 12,
            IoError::Unknown(code) => code,
            IoError::Ipc(e) => 0x100 + e.code(),
        }
    }

    /// The error reply word 0 says, `None` for success (0).
    ///
    /// ```
    /// use sys::io::IoError;
    /// assert_eq!(IoError::from_code(0), None, "0 is success");
    /// assert_eq!(IoError::from_code(7), Some(IoError::Busy));
    /// ```
    pub fn from_code(code: usize) -> Option<IoError> {
        Some(match code {
            0 => return None,
            1 => IoError::Unsupported,
            2 => IoError::BadRequest,
            3 => IoError::NotFound,
            4 => IoError::WouldBlock,
            5 => IoError::Closed,
            6 => IoError::NoSpace,
            7 => IoError::Busy,
            8 => IoError::Device,
            9 => IoError::NotADirectory,
            10 => IoError::IsADirectory,
            11 => IoError::Exists,
            12 => IoError::NotEmpty,
            other => IoError::Unknown(other),
        })
    }
}

impl From<crate::error::Error> for IoError {
    fn from(e: crate::error::Error) -> IoError {
        match e {
            crate::error::Error::Abi(e) => IoError::Ipc(e),
            crate::error::Error::Unknown(code) => IoError::Unknown(code),
        }
    }
}

impl core::fmt::Display for IoError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            IoError::Unsupported => f.write_str("operation not supported"),
            IoError::BadRequest => f.write_str("bad request"),
            IoError::NotFound => f.write_str("not found"),
            IoError::WouldBlock => f.write_str("would block"),
            IoError::Closed => f.write_str("closed"),
            IoError::NoSpace => f.write_str("no space"),
            IoError::Busy => f.write_str("busy"),
            IoError::Device => f.write_str("device error"),
            IoError::NotADirectory => f.write_str("not a directory"),
            IoError::IsADirectory => f.write_str("is a directory"),
            IoError::Exists => f.write_str("exists"),
            IoError::NotEmpty => f.write_str("directory not empty"),
            IoError::Unknown(code) => write!(f, "unknown status {code:#x}"),
            IoError::Ipc(e) => write!(f, "ipc: {}", e.name()),
        }
    }
}

/// Packs `bytes` (at most [`IO_MAX`]) into little-endian words; returns how many words hold them.
///
/// ```
/// use sys::io::proto::{pack, unpack};
/// let mut words = [0u64; 64];
/// let used = pack(b"hello, world", &mut words);
/// assert_eq!(used, 2);
/// let mut out = [0u8; 12];
/// assert_eq!(unpack(&words[..used], 12, &mut out), 12);
/// assert_eq!(&out, b"hello, world");
/// ```
pub fn pack(bytes: &[u8], words: &mut [u64; MAX_EXTRA_WORDS]) -> usize {
    let n = bytes.len().min(IO_MAX);
    for (w, chunk) in words.iter_mut().zip(bytes[..n].chunks(8)) {
        let mut b = [0u8; 8];
        b[..chunk.len()].copy_from_slice(chunk);
        *w = u64::from_le_bytes(b);
    }
    n.div_ceil(8)
}

/// Unpacks `len` bytes (at most [`IO_MAX`]) from little-endian words into `out`; returns how many
/// it wrote (`len`, cut to `out`'s length and to the words given).
///
/// ```
/// use sys::io::proto::unpack;
/// let words = [u64::from_le_bytes(*b"abcdefgh")];
/// let mut out = [0u8; 4];
/// assert_eq!(unpack(&words, 8, &mut out), 4, "cut to the output");
/// assert_eq!(&out, b"abcd");
/// ```
pub fn unpack(words: &[u64], len: usize, out: &mut [u8]) -> usize {
    let n = len.min(out.len()).min(words.len() * 8);
    for (chunk, w) in out[..n].chunks_mut(8).zip(words) {
        chunk.copy_from_slice(&w.to_le_bytes()[..chunk.len()]);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_round_trip_through_words() {
        let data: [u8; IO_MAX] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        for len in [0, 1, 7, 8, 9, 100, IO_MAX - 1, IO_MAX] {
            let mut words = [0u64; MAX_EXTRA_WORDS];
            let used = pack(&data[..len], &mut words);
            assert_eq!(used, len.div_ceil(8));
            let mut out = [0u8; IO_MAX];
            assert_eq!(unpack(&words[..used], len, &mut out), len);
            assert_eq!(&out[..len], &data[..len]);
        }
        let mut small = [0u8; 3];
        let words = [u64::from_le_bytes(*b"abcdefgh")];
        assert_eq!(unpack(&words, 8, &mut small), 3, "cut to the output");
        assert_eq!(&small, b"abc");
        assert_eq!(unpack(&words, 20, &mut [0u8; 20]), 8, "cut to the words given");
    }

    #[test]
    fn error_codes_round_trip() {
        for e in [
            IoError::Unsupported,
            IoError::BadRequest,
            IoError::NotFound,
            IoError::WouldBlock,
            IoError::Closed,
            IoError::NoSpace,
            IoError::Busy,
            IoError::Device,
            IoError::NotADirectory,
            IoError::IsADirectory,
            IoError::Exists,
            IoError::NotEmpty,
            IoError::Unknown(99),
        ] {
            assert_eq!(IoError::from_code(e.code()), Some(e));
        }
        assert_eq!(IoError::from_code(0), None);
    }

    #[test]
    fn seek_words_round_trip() {
        for from in [
            SeekFrom::Start(0),
            SeekFrom::Start(u64::MAX),
            SeekFrom::Current(-1),
            SeekFrom::Current(i64::MIN),
            SeekFrom::End(0),
            SeekFrom::End(7),
        ] {
            let (offset, whence) = from.to_words();
            assert_eq!(SeekFrom::from_words(offset, whence), Some(from));
        }
        assert_eq!(SeekFrom::from_words(1, 3), None);
    }

    #[test]
    fn directory_records_round_trip_and_refuse_what_is_malformed() {
        let long = "n".repeat(dirent::NAME_MAX);
        let entries = [
            dirent::Entry { kind: kind::FILE, size: 0, name: "a" },
            dirent::Entry { kind: kind::DIRECTORY, size: 3, name: "bin" },
            dirent::Entry { kind: kind::FILE, size: u64::MAX, name: &long },
            dirent::Entry { kind: kind::FILE, size: 42, name: "ünïcode" },
        ];
        let mut buf = [0u8; 2 * IO_MAX];
        let mut at = 0;
        for e in &entries {
            at += dirent::encode(e, &mut buf[at..]).unwrap();
        }
        assert!(dirent::Entries::new(&buf[..at]).eq(entries.iter().copied()));
        // Cut anywhere inside the last record: the others still decode, the cut one does not.
        let last = entries[3].len();
        for cut in at - last..at {
            assert_eq!(dirent::Entries::new(&buf[..cut]).count(), 3, "cut at {cut}");
        }
        // Names that cannot be records.
        let mut out = [0u8; IO_MAX];
        let too_long = "n".repeat(dirent::NAME_MAX + 1);
        for bad in [
            dirent::Entry { kind: kind::FILE, size: 0, name: "" },
            dirent::Entry { kind: kind::FILE, size: 0, name: &too_long },
            dirent::Entry { kind: 256, size: 0, name: "x" },
        ] {
            assert_eq!(dirent::encode(&bad, &mut out), None, "{bad:?}");
        }
        // A record whose name is not UTF-8, holds a `/` or is empty ends the walk.
        for name in [&[0xffu8][..], b"a/b", b""] {
            let mut rec = [0u8; 16];
            rec[0] = kind::FILE as u8;
            rec[1] = name.len() as u8;
            rec[dirent::HEADER..dirent::HEADER + name.len()].copy_from_slice(name);
            assert_eq!(dirent::Entries::new(&rec[..dirent::HEADER + name.len()]).next(), None, "{name:?}");
        }
    }
}
