//! `readdir`'s answer: as many of a directory's entries, from an offset on, as fit in one reply.

use ramfs_tree::{Fs, NodeId};
use sys::io::IoError;
use sys::io::proto::{IO_MAX, dirent};

use crate::{io_error, kind_of};

/// One reply's worth of entries.
pub struct Page {
    data: [u8; IO_MAX],
    bytes: usize,
    count: usize,
    next: usize,
    total: usize,
}

impl Page {
    /// The records.
    pub fn data(&self) -> &[u8] {
        &self.data[..self.bytes]
    }

    /// The reply's words 1-4: bytes, count, next, total.
    pub fn results(&self) -> [usize; 4] {
        [self.bytes, self.count, self.next, self.total]
    }
}

/// The entries of directory `dir` from index `offset` on that fit in [`IO_MAX`] bytes.
pub fn page(fs: &Fs, dir: NodeId, offset: usize) -> Result<Page, IoError> {
    let entries = fs.entries(dir).map_err(io_error)?;
    let total = entries.len();
    let mut p = Page { data: [0; IO_MAX], bytes: 0, count: 0, next: 0, total };
    for e in entries.skip(offset) {
        let record = dirent::Entry { kind: kind_of(e.kind), size: e.size, name: e.name };
        match dirent::encode(&record, &mut p.data[p.bytes..]) {
            Some(n) => {
                p.bytes += n;
                p.count += 1;
            }
            None => break,
        }
    }
    p.next = offset.min(total) + p.count;
    Ok(p)
}
