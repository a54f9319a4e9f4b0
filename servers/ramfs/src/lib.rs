//! ramfs's request handling: the I/O protocol's file operations (`docs/io.md`) over the tree of
//! `ramfs-tree`, with a handle per `open`.
//!
//! [`Ramfs::serve`] answers one request. Requests through a client's channel (a badge Mercury
//! chose) and through a handle (a badge ramfs minted, [`handles`]) may name paths, always from
//! the root; only a handle reads, writes, seeks, reports its status and closes. The program
//! (`main.rs`) runs it on its endpoint; Vulcan's `ramfs` tests run it on a thread.
//!
//! Nothing a client sends can panic the server or make it leak: every allocation is fallible
//! (the tree's and the handle table's), every error is answered, a capability a request brings is
//! deleted by [`Request`] when it is answered, and the capability ramfs mints for a handle is
//! deleted from its own CSpace as soon as the client has its copy.
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod handles;
mod listing;

use ramfs_tree::{Error, Fs, Kind, NodeId, Open};
use sys::io::proto::{self, IO_MAX, kind};
use sys::io::server::{Op, Request};
use sys::io::{IoError, SeekFrom};
use sys::{CSpace, Endpoint, Slot, rights};

use handles::{Handle, Handles};

/// The protocol's error for a tree error.
pub fn io_error(e: Error) -> IoError {
    match e {
        Error::NotFound => IoError::NotFound,
        Error::NotADirectory => IoError::NotADirectory,
        Error::IsADirectory => IoError::IsADirectory,
        Error::Exists => IoError::Exists,
        Error::NotEmpty => IoError::NotEmpty,
        Error::NoSpace => IoError::NoSpace,
        Error::BadPath | Error::Invalid => IoError::BadRequest,
        Error::Stale => IoError::Closed,
    }
}

/// The protocol's kind for a node's.
pub fn kind_of(k: Kind) -> usize {
    match k {
        Kind::File => kind::FILE,
        Kind::Directory => kind::DIRECTORY,
    }
}

/// The tree's budget for a program with `free` bytes of Memory left at start-up.
///
/// The heap grows by regions as large as all before it together (`sys::heap`), so it can always
/// reach at least half of what is free; a sixteenth of that is left for the heap's rounding and
/// the handle table.
pub fn budget(free: usize) -> usize {
    let half = free / 2;
    half - half / 16
}

/// The server: the tree, the open handles, and what it mints them from.
#[derive(Debug)]
pub struct Ramfs {
    fs: Fs,
    handles: Handles,
    endpoint: Endpoint,
    cspace: CSpace,
}

/// The result words of a request answered without data.
type Results = Result<[usize; 4], IoError>;

impl Ramfs {
    /// A server with an empty tree that may hold `limit` bytes, minting handles from `endpoint`
    /// (the one it receives on) into `cspace` (its own).
    ///
    /// # Errors
    /// [`IoError::NoSpace`]: not even the root fits.
    pub fn new(endpoint: Endpoint, cspace: CSpace, limit: usize) -> Result<Ramfs, IoError> {
        let fs = Fs::new(limit).map_err(io_error)?;
        Ok(Ramfs { fs, handles: Handles::default(), endpoint, cspace })
    }

    /// The tree.
    pub fn fs(&self) -> &Fs {
        &self.fs
    }

    /// Handles open now.
    pub fn open_handles(&self) -> usize {
        self.handles.len()
    }

    /// Answers `req`.
    ///
    /// # Errors
    /// The answer could not be sent (the client is gone); the server goes on.
    pub fn serve(&mut self, req: Request) -> Result<(), IoError> {
        let badge = req.badge();
        match req.op() {
            Op::Open { flags } => self.open(req, flags),
            Op::Read { max, .. } => match self.read(badge, max) {
                Ok((buf, n)) => req.reply_data(&buf[..n]),
                Err(e) => req.reply_error(e),
            },
            Op::ReadDir { offset } => {
                let node = self.node(badge, req.name());
                match node.and_then(|n| listing::page(&self.fs, n, offset)) {
                    Ok(page) => req.reply_with(page.results(), page.data()),
                    Err(e) => req.reply_error(e),
                }
            }
            Op::Write => {
                let r = self.write(badge, req.data());
                answer(req, r)
            }
            Op::Seek(from) => {
                let r = self.seek(badge, from);
                answer(req, r)
            }
            Op::Status => {
                let r = self.status(badge);
                answer(req, r)
            }
            Op::Close => {
                let r = self.handles.remove(badge).map(|_| [0; 4]).ok_or(IoError::Closed);
                answer(req, r)
            }
            Op::Stat => {
                let r = self.node(badge, req.name()).and_then(|n| {
                    let st = self.fs.stat(n).map_err(io_error)?;
                    Ok([kind_of(st.kind), st.size as usize, st.id.number() as usize, 0])
                });
                answer(req, r)
            }
            Op::Mkdir { flags } => {
                let r = match (req.name(), flags & !proto::mkdir::ALL) {
                    (Some(path), 0) => {
                        self.fs.mkdir(path, flags & proto::mkdir::PARENTS != 0).map(|_| [0; 4]).map_err(io_error)
                    }
                    _ => Err(IoError::BadRequest),
                };
                answer(req, r)
            }
            Op::Unlink { flags } => {
                let r = match (req.name(), flags & !proto::unlink::ALL) {
                    (Some(path), 0) => {
                        self.fs.unlink(path, flags & proto::unlink::DIRECTORY != 0).map(|()| [0; 4]).map_err(io_error)
                    }
                    _ => Err(IoError::BadRequest),
                };
                answer(req, r)
            }
            Op::Rename => {
                let r = match req.paths() {
                    Some((from, to)) => self.fs.rename(from, to).map(|()| [0; 4]).map_err(io_error),
                    None => Err(IoError::BadRequest),
                };
                answer(req, r)
            }
            // No Notes: a file is always ready.
            _ => req.reply_error(IoError::Unsupported),
        }
    }

    /// The node a path-taking request names: `path` from the root, or, for an empty path
    /// through a handle, the handle's node.
    fn node(&mut self, badge: usize, path: Option<&str>) -> Result<NodeId, IoError> {
        let path = path.ok_or(IoError::BadRequest)?;
        if path.is_empty() && Handles::is_handle(badge) {
            return Ok(self.handle(badge)?.node);
        }
        self.fs.lookup(path).map_err(io_error)
    }

    /// The open handle `badge` names, its node still there.
    fn handle(&mut self, badge: usize) -> Result<&mut Handle, IoError> {
        let h = self.handles.get_mut(badge).ok_or(IoError::Closed)?;
        self.fs.stat(h.node).map_err(io_error)?;
        Ok(h)
    }

    fn open(&mut self, req: Request, flags: usize) -> Result<(), IoError> {
        use proto::open::*;
        let Some(path) = req.name().filter(|_| flags & !ALL == 0) else {
            return req.reply_error(IoError::BadRequest);
        };
        let badge = match self.handles.reserve() {
            Ok(b) => b,
            Err(e) => return req.reply_error(e),
        };
        let how = Open {
            create: flags & CREATE != 0,
            exclusive: flags & EXCLUSIVE != 0,
            truncate: flags & TRUNCATE != 0,
            directory: flags & DIRECTORY != 0,
            parents: flags & PARENTS != 0,
        };
        let append = flags & APPEND != 0;
        let node = match self.fs.open(path, how).map_err(io_error) {
            Ok(n) => n,
            Err(e) => return req.reply_error(e),
        };
        let k = match self.fs.stat(node) {
            Ok(st) if append && st.kind == Kind::Directory => return req.reply_error(IoError::IsADirectory),
            Ok(st) => kind_of(st.kind),
            Err(e) => return req.reply_error(io_error(e)),
        };
        let Ok(cap) = self.endpoint.mint(self.cspace, Slot::Auto, rights::WRITE | rights::GRANT, badge) else {
            // Its CSpace is full.
            return req.reply_error(IoError::NoSpace);
        };
        self.handles.insert(Handle { node, offset: 0, append });
        let sent = req.reply_handle(cap, k);
        // The client holds its own copy now (or, if the reply failed, nobody does).
        let _ = Endpoint::new(cap).delete();
        if sent.is_err() {
            self.handles.remove(badge);
        }
        sent
    }

    fn read(&mut self, badge: usize, max: usize) -> Result<([u8; IO_MAX], usize), IoError> {
        let mut buf = [0u8; IO_MAX];
        let h = self.handles.get_mut(badge).ok_or(IoError::Closed)?;
        let n = self.fs.read(h.node, h.offset, &mut buf[..max.min(IO_MAX)]).map_err(io_error)?;
        h.offset += n as u64;
        Ok((buf, n))
    }

    fn write(&mut self, badge: usize, data: &[u8]) -> Results {
        let h = self.handles.get_mut(badge).ok_or(IoError::Closed)?;
        let st = self.fs.stat(h.node).map_err(io_error)?;
        let at = if h.append { st.size } else { h.offset };
        self.fs.write(h.node, at, data).map_err(io_error)?;
        h.offset = at + data.len() as u64;
        Ok([data.len(), 0, 0, 0])
    }

    fn seek(&mut self, badge: usize, from: SeekFrom) -> Results {
        let h = self.handles.get_mut(badge).ok_or(IoError::Closed)?;
        let st = self.fs.stat(h.node).map_err(io_error)?;
        if st.kind == Kind::Directory {
            return Err(IoError::IsADirectory);
        }
        let to = match from {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => h.offset.checked_add_signed(d),
            SeekFrom::End(d) => st.size.checked_add_signed(d),
        };
        let to = to.filter(|&t| usize::try_from(t).is_ok()).ok_or(IoError::BadRequest)?;
        h.offset = to;
        Ok([to as usize, 0, 0, 0])
    }

    fn status(&mut self, badge: usize) -> Results {
        let h = self.handle(badge)?;
        let (node, offset) = (h.node, h.offset);
        let st = self.fs.stat(node).map_err(io_error)?;
        if st.kind == Kind::Directory {
            return Ok([0; 4]);
        }
        let readable = st.size.saturating_sub(offset) as usize;
        let state = proto::state::WRITABLE | if readable > 0 { proto::state::READABLE } else { 0 };
        Ok([readable, state, 0, 0])
    }
}

/// Answers `req` with `r`.
fn answer(req: Request, r: Results) -> Result<(), IoError> {
    match r {
        Ok(results) => req.reply(results),
        Err(e) => req.reply_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tree_error_has_its_protocol_error() {
        for (e, want) in [
            (Error::NotFound, IoError::NotFound),
            (Error::NotADirectory, IoError::NotADirectory),
            (Error::IsADirectory, IoError::IsADirectory),
            (Error::Exists, IoError::Exists),
            (Error::NotEmpty, IoError::NotEmpty),
            (Error::NoSpace, IoError::NoSpace),
            (Error::BadPath, IoError::BadRequest),
            (Error::Invalid, IoError::BadRequest),
            (Error::Stale, IoError::Closed),
        ] {
            assert_eq!(io_error(e), want);
        }
    }

    #[test]
    fn the_budget_is_under_half_of_what_is_free() {
        assert_eq!(budget(0), 0);
        let free = 32 << 20;
        assert!(budget(free) < free / 2 && budget(free) > free / 3);
    }
}
