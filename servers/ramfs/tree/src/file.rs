//! A file's bytes: a list of chunks of at most [`CHUNK`] bytes, every one but the last full.
//!
//! Growing a file is *prepare, then commit*: every new buffer is allocated first (fallibly, so a
//! heap that runs dry is [`Error::NoSpace`], never an abort), and only when all of them exist
//! are they put in place, which cannot fail. So a failed write leaves the file as it was. The
//! buffers follow one layout for each length ([`planned_cost`]): full chunks of [`CHUNK`]
//! bytes, the last one's capacity the power of two at or above its bytes (at least
//! [`MIN_CHUNK`]), the chunk list's capacity the power of two at or above their number (at
//! least 4). The budget is checked against that layout before anything is allocated.

use alloc::vec::Vec;

use crate::cost::{array, block};
use crate::error::{Error, Result};

/// The largest chunk: a page.
pub const CHUNK: usize = 4096;

/// The smallest chunk buffer.
pub const MIN_CHUNK: usize = 16;

/// The largest file: a write past it is [`Error::NoSpace`].
pub const MAX_FILE: u64 = 1 << 40;

/// The capacity of a chunk holding `bytes` (1 to [`CHUNK`]).
fn chunk_capacity(bytes: usize) -> usize {
    bytes.next_power_of_two().clamp(MIN_CHUNK, CHUNK)
}

/// The capacity of a chunk list holding `n` chunks.
fn list_capacity(n: usize) -> usize {
    if n == 0 { 0 } else { n.next_power_of_two().max(4) }
}

/// What a file of `len` bytes costs in the canonical layout; `None` past [`MAX_FILE`].
pub fn planned_cost(len: u64) -> Option<usize> {
    if len > MAX_FILE {
        return None;
    }
    let len = usize::try_from(len).ok()?;
    let (full, rem) = (len / CHUNK, len % CHUNK);
    let chunks = full + usize::from(rem > 0);
    let last = if rem > 0 { block(chunk_capacity(rem))? } else { 0 };
    full.checked_mul(CHUNK)?.checked_add(last)?.checked_add(array::<Vec<u8>>(list_capacity(chunks))?)
}

/// A file's bytes.
#[derive(Debug, Default)]
pub struct File {
    chunks: Vec<Vec<u8>>,
    len: usize,
}

impl File {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        self.len as u64
    }

    /// Whether it holds no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// What its buffers cost, as they are.
    pub fn cost(&self) -> usize {
        let list = array::<Vec<u8>>(self.chunks.capacity()).unwrap_or(usize::MAX);
        self.chunks.iter().fold(list, |sum, c| sum.saturating_add(block(c.capacity()).unwrap_or(usize::MAX)))
    }

    /// Copies bytes from `offset` into `buf`; returns how many (0 at or past the end).
    pub fn read(&self, offset: u64, buf: &mut [u8]) -> usize {
        let Ok(mut at) = usize::try_from(offset) else { return 0 };
        let mut done = 0;
        while done < buf.len() && at < self.len {
            let (chunk, within) = (at / CHUNK, at % CHUNK);
            let src = &self.chunks[chunk][within..];
            let n = src.len().min(buf.len() - done);
            buf[done..done + n].copy_from_slice(&src[..n]);
            done += n;
            at += n;
        }
        done
    }

    /// Writes `data` at `offset`, growing the file (with zeros between its old end and `offset`)
    /// if it ends past it. All or nothing: on [`Error::NoSpace`] the file is as it was.
    pub fn write(&mut self, offset: u64, data: &[u8]) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let end = offset.checked_add(data.len() as u64).filter(|&e| e <= MAX_FILE).ok_or(Error::NoSpace)?;
        let end = usize::try_from(end).map_err(|_| Error::NoSpace)?;
        if end > self.len {
            self.grow(end)?;
        }
        let mut at = offset as usize;
        let mut done = 0;
        while done < data.len() {
            let (chunk, within) = (at / CHUNK, at % CHUNK);
            let dst = &mut self.chunks[chunk][within..];
            let n = dst.len().min(data.len() - done);
            dst[..n].copy_from_slice(&data[done..done + n]);
            done += n;
            at += n;
        }
        Ok(())
    }

    /// Empties the file and frees its buffers.
    pub fn clear(&mut self) {
        *self = File::default();
    }

    /// Grows the file to `len` bytes of the canonical layout, the new bytes zero.
    fn grow(&mut self, len: usize) -> Result<()> {
        let old_chunks = self.chunks.len();
        let new_chunks = len.div_ceil(CHUNK);
        let bytes_in = |i: usize| (len - i * CHUNK).min(CHUNK);
        // The old last chunk, if it is short: its bytes in a buffer of its new capacity.
        let mut regrown = None;
        if let Some(last) = self.chunks.last() {
            let i = old_chunks - 1;
            let want = chunk_capacity(bytes_in(i));
            if want > last.capacity() {
                let mut b = fallible_vec(want)?;
                b.extend_from_slice(last);
                regrown = Some(b);
            }
        }
        // The new chunks.
        let mut added: Vec<Vec<u8>> = fallible_vec(new_chunks - old_chunks)?;
        for i in old_chunks..new_chunks {
            added.push(fallible_vec(chunk_capacity(bytes_in(i)))?);
        }
        // The chunk list, last: once it has room, nothing below can fail.
        let want = list_capacity(new_chunks);
        if want > self.chunks.capacity() {
            self.chunks.try_reserve_exact(want - self.chunks.len()).map_err(|_| Error::NoSpace)?;
        }
        // Commit.
        if let Some(b) = regrown
            && let Some(last) = self.chunks.last_mut()
        {
            *last = b;
        }
        self.chunks.extend(added);
        let n = self.chunks.len();
        for (i, c) in self.chunks.iter_mut().enumerate().skip(old_chunks.saturating_sub(1)) {
            let bytes = if i + 1 == n { len - i * CHUNK } else { CHUNK };
            c.resize(bytes, 0);
        }
        self.len = len;
        Ok(())
    }
}

/// An empty vector with room for exactly `n` elements, or [`Error::NoSpace`].
fn fallible_vec<T>(n: usize) -> Result<Vec<T>> {
    let mut v = Vec::new();
    v.try_reserve_exact(n).map_err(|_| Error::NoSpace)?;
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_in_the_planned_layout() {
        let mut f = File::default();
        assert_eq!((f.len(), f.cost(), planned_cost(0)), (0, 0, Some(0)));
        let mut model = Vec::new();
        for (offset, n) in [(0u64, 1usize), (1, 20), (100, 3), (4000, 200), (9000, 5000), (3, 7), (20000, 1)] {
            let data: Vec<u8> = (0..n).map(|i| (i as u64 + offset) as u8).collect();
            f.write(offset, &data).unwrap();
            let end = offset as usize + n;
            if model.len() < end {
                model.resize(end, 0);
            }
            model[offset as usize..end].copy_from_slice(&data);
            assert_eq!(f.len(), model.len() as u64);
            assert_eq!(Some(f.cost()), planned_cost(f.len()), "after writing {n} at {offset}");
            let mut back = vec![0u8; model.len() + 10];
            assert_eq!(f.read(0, &mut back), model.len());
            assert_eq!(&back[..model.len()], &model[..]);
        }
        let mut tail = [0u8; 8];
        assert_eq!(f.read(model.len() as u64 - 3, &mut tail), 3);
        assert_eq!(f.read(model.len() as u64, &mut tail), 0);
        assert_eq!(f.read(u64::MAX, &mut tail), 0);
        f.clear();
        assert_eq!((f.len(), f.cost()), (0, 0));
    }

    #[test]
    fn writes_past_the_largest_file_are_refused() {
        let mut f = File::default();
        assert_eq!(f.write(MAX_FILE, b"x"), Err(Error::NoSpace));
        assert_eq!(f.write(u64::MAX, b"x"), Err(Error::NoSpace));
        assert_eq!(planned_cost(MAX_FILE + 1), None);
        assert_eq!(f.len(), 0);
    }
}
