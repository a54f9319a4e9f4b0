//! A pipe: a bounded buffer of bytes with a reading and a writing end, as pure state (no system
//! calls), which the pipe server (`main.rs`) keeps one of per pipe and serves over the I/O
//! protocol (`docs/io.md`, "Pipes").
//!
//! A read takes what is buffered; with nothing buffered it is the end of the stream once the
//! writing end is closed, else it must wait. A write takes as much as fits; with the reading end
//! closed it is refused (the pipe is broken), and with the buffer full it must wait. Closing an
//! end is how the other learns the stream is over: the shell closes each end once the program
//! that held it has ended, whether or not it closed it itself.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::VecDeque;
use alloc::vec::Vec;

/// Bytes a pipe buffers; a write into a full pipe waits.
pub const CAPACITY: usize = 4096;

/// What a read gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Read {
    /// Bytes (at least one).
    Data(Vec<u8>),
    /// The end of the stream: nothing buffered and the writing end closed.
    End,
    /// Nothing buffered yet: ask again after a write or a close.
    Wait,
}

/// What a write gets.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// It took this many bytes (at least one of a non-empty write).
    Took(usize),
    /// The reading end is closed: nobody will read it.
    Broken,
    /// The buffer is full: ask again after a read or a close.
    Wait,
}

/// One pipe.
#[derive(Clone, Debug)]
pub struct Pipe {
    buffer: VecDeque<u8>,
    reader_open: bool,
    writer_open: bool,
}

impl Pipe {
    /// An empty pipe with both ends open, its buffer's room taken now (so that no write has to
    /// allocate); `None` without the memory for it.
    pub fn new() -> Option<Pipe> {
        let mut buffer = VecDeque::new();
        buffer.try_reserve_exact(CAPACITY).ok()?;
        Some(Pipe { buffer, reader_open: true, writer_open: true })
    }

    /// Bytes buffered.
    pub fn len(&self) -> usize {
        self.buffer.len()
    }

    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.buffer.is_empty()
    }

    /// Whether the reading end is open.
    pub fn reader_open(&self) -> bool {
        self.reader_open
    }

    /// Whether the writing end is open.
    pub fn writer_open(&self) -> bool {
        self.writer_open
    }

    /// Reads up to `max` bytes. A read of 0 bytes is `Data` of none, unless the stream is over.
    pub fn read(&mut self, max: usize) -> Read {
        if self.buffer.is_empty() {
            return if self.writer_open { Read::Wait } else { Read::End };
        }
        let n = max.min(self.buffer.len());
        Read::Data(self.buffer.drain(..n).collect())
    }

    /// Writes as much of `data` as fits (into the room [`Pipe::new`] took). An empty write takes
    /// nothing and succeeds, unless the pipe is broken.
    pub fn write(&mut self, data: &[u8]) -> Write {
        if !self.reader_open {
            return Write::Broken;
        }
        if data.is_empty() {
            return Write::Took(0);
        }
        let room = CAPACITY - self.buffer.len().min(CAPACITY);
        if room == 0 {
            return Write::Wait;
        }
        let n = room.min(data.len());
        self.buffer.extend(&data[..n]);
        Write::Took(n)
    }

    /// Closes the reading end: what is buffered is dropped, and writes are refused from now on.
    pub fn close_reader(&mut self) {
        self.reader_open = false;
        self.buffer = VecDeque::new();
    }

    /// Closes the writing end: reads get what is buffered, then the end of the stream.
    pub fn close_writer(&mut self) {
        self.writer_open = false;
    }

    /// Whether both ends are closed: the pipe can go.
    pub fn is_closed(&self) -> bool {
        !self.reader_open && !self.writer_open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_go_through_in_order() {
        let mut p = Pipe::new().unwrap();
        assert_eq!(p.write(b"hello "), Write::Took(6));
        assert_eq!(p.write(b"world"), Write::Took(5));
        assert_eq!(p.read(3), Read::Data(b"hel".to_vec()));
        assert_eq!(p.read(100), Read::Data(b"lo world".to_vec()));
        assert_eq!(p.read(100), Read::Wait);
    }

    #[test]
    fn the_end_comes_after_the_data() {
        let mut p = Pipe::new().unwrap();
        assert_eq!(p.write(b"last"), Write::Took(4));
        p.close_writer();
        assert_eq!(p.read(100), Read::Data(b"last".to_vec()));
        assert_eq!(p.read(100), Read::End);
        assert_eq!(p.read(100), Read::End);
        assert!(!p.is_closed());
        p.close_reader();
        assert!(p.is_closed());
    }

    #[test]
    fn a_full_pipe_waits_and_takes_what_fits() {
        let mut p = Pipe::new().unwrap();
        let big = alloc::vec![7u8; CAPACITY + 10];
        assert_eq!(p.write(&big), Write::Took(CAPACITY));
        assert_eq!(p.write(b"x"), Write::Wait);
        assert_eq!(p.read(10), Read::Data(alloc::vec![7u8; 10]));
        assert_eq!(p.write(&big), Write::Took(10));
        assert_eq!(p.len(), CAPACITY);
    }

    #[test]
    fn a_closed_reader_breaks_the_pipe() {
        let mut p = Pipe::new().unwrap();
        assert_eq!(p.write(b"unread"), Write::Took(6));
        p.close_reader();
        assert!(p.is_empty());
        assert_eq!(p.write(b"more"), Write::Broken);
        assert_eq!(p.write(b""), Write::Broken);
    }

    #[test]
    fn empty_writes_and_reads() {
        let mut p = Pipe::new().unwrap();
        assert_eq!(p.write(b""), Write::Took(0));
        assert_eq!(p.read(0), Read::Wait);
        assert_eq!(p.write(b"a"), Write::Took(1));
        assert_eq!(p.read(0), Read::Data(Vec::new()));
    }
}
