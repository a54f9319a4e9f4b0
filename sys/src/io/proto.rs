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
}

/// Request flags.
pub mod flags {
    /// `read`: answer at once, with [`IoError::WouldBlock`](super::IoError::WouldBlock) if there
    /// is nothing to read.
    pub const NONBLOCK: usize = 1;
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
    /// `open`: nothing has that name.
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
    /// A status this version of the protocol does not know.
    Unknown(usize),
    /// The call itself failed: the server's Endpoint is gone, or the capability is wrong.
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
            IoError::Unknown(99),
        ] {
            assert_eq!(IoError::from_code(e.code()), Some(e));
        }
        assert_eq!(IoError::from_code(0), None);
    }
}
