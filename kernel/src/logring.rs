//! The kernel log's ring: the last [`LOG_RING_BYTES`] bytes of everything the console was given
//! (kernel lines and user `debug_write`s, in the order they were written), numbered by a sequence
//! that counts every byte since boot.
//!
//! A reader names the sequence number it wants next; bytes older than the ring holds are gone,
//! and [`Ring::read`] says how many. Pure data: the console (`crate::console`) owns the ring under
//! its lock and decides what goes in; this module touches no hardware and no objects.
#![forbid(unsafe_code)]

use abi::syscall::LOG_RING_BYTES;

/// The ring (see the module docs).
pub struct Ring {
    bytes: [u8; LOG_RING_BYTES],
    /// Bytes ever written: the sequence number of the next byte.
    end: u64,
}

/// What one [`Ring::read`] found.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Read {
    /// Bytes copied.
    pub len: usize,
    /// The sequence number after them.
    pub next: u64,
    /// Bytes from the sequence number asked for on that the ring no longer held.
    pub lost: u64,
}

const RING: u64 = LOG_RING_BYTES as u64;

impl Default for Ring {
    fn default() -> Ring {
        Ring::new()
    }
}

impl Ring {
    /// An empty ring.
    pub const fn new() -> Ring {
        Ring { bytes: [0; LOG_RING_BYTES], end: 0 }
    }

    /// The sequence number of the next byte written.
    pub fn end(&self) -> u64 {
        self.end
    }

    /// The sequence number of the oldest byte held.
    pub fn start(&self) -> u64 {
        self.end.saturating_sub(RING)
    }

    /// Appends `data`.
    pub fn push(&mut self, data: &[u8]) {
        // Only the last `LOG_RING_BYTES` of a larger write can be kept.
        let skip = data.len().saturating_sub(LOG_RING_BYTES);
        self.end += skip as u64;
        for chunk in data[skip..].chunks(LOG_RING_BYTES) {
            let at = (self.end % RING) as usize;
            let first = chunk.len().min(LOG_RING_BYTES - at);
            self.bytes[at..at + first].copy_from_slice(&chunk[..first]);
            self.bytes[..chunk.len() - first].copy_from_slice(&chunk[first..]);
            self.end += chunk.len() as u64;
        }
    }

    /// Copies the bytes from sequence number `seq` on into `out`, as many as fit; `None` if `seq`
    /// is beyond the end. Reading resumes at the oldest byte held if `seq` is older.
    pub fn read(&self, seq: u64, out: &mut [u8]) -> Option<Read> {
        if seq > self.end {
            return None;
        }
        let from = seq.max(self.start());
        let len = out.len().min((self.end - from) as usize);
        let at = (from % RING) as usize;
        let first = len.min(LOG_RING_BYTES - at);
        out[..first].copy_from_slice(&self.bytes[at..at + first]);
        out[first..len].copy_from_slice(&self.bytes[..len - first]);
        Some(Read { len, next: from + len as u64, lost: from - seq })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::boxed::Box;
    use std::vec::Vec;

    fn ring() -> Box<Ring> {
        Box::new(Ring::new())
    }

    fn read_all(r: &Ring, mut seq: u64) -> (Vec<u8>, u64) {
        let mut all = Vec::new();
        let mut lost = 0;
        loop {
            let mut buf = [0u8; 1000];
            let got = r.read(seq, &mut buf).unwrap();
            lost += got.lost;
            all.extend_from_slice(&buf[..got.len]);
            seq = got.next;
            if got.len == 0 {
                return (all, lost);
            }
        }
    }

    #[test]
    fn reads_what_was_written_in_order() {
        let mut r = ring();
        r.push(b"hello ");
        r.push(b"world\n");
        assert_eq!(r.end(), 12);
        let mut buf = [0u8; 5];
        assert_eq!(r.read(0, &mut buf), Some(Read { len: 5, next: 5, lost: 0 }));
        assert_eq!(&buf, b"hello");
        assert_eq!(read_all(&r, 5), (b" world\n".to_vec(), 0));
        assert_eq!(r.read(12, &mut buf), Some(Read { len: 0, next: 12, lost: 0 }));
        assert_eq!(r.read(13, &mut buf), None, "beyond the end");
    }

    #[test]
    fn wraps_and_counts_what_was_lost() {
        let mut r = ring();
        let data: Vec<u8> = (0..3 * LOG_RING_BYTES + 123).map(|i| (i % 251) as u8).collect();
        for chunk in data.chunks(777) {
            r.push(chunk);
        }
        assert_eq!(r.end(), data.len() as u64);
        assert_eq!(r.start(), (data.len() - LOG_RING_BYTES) as u64);
        let (got, lost) = read_all(&r, 0);
        assert_eq!(lost, r.start());
        assert_eq!(got, data[data.len() - LOG_RING_BYTES..]);
        let (got, lost) = read_all(&r, r.start() + 10);
        assert_eq!((got.len(), lost), (LOG_RING_BYTES - 10, 0));
    }

    #[test]
    fn a_write_larger_than_the_ring_keeps_its_end() {
        let mut r = ring();
        r.push(b"abc");
        let big: Vec<u8> = (0..LOG_RING_BYTES + 5000).map(|i| (i % 13) as u8).collect();
        r.push(&big);
        assert_eq!(r.end(), 3 + big.len() as u64);
        let (got, lost) = read_all(&r, 0);
        assert_eq!(got, big[big.len() - LOG_RING_BYTES..]);
        assert_eq!(lost, r.start());
    }
}
