//! ramfs's file tree: directories and files in memory, under a byte budget, with no system calls.
//!
//! [`Fs`] owns the tree. Paths are `/`-separated names from the root ([`path`]); nodes are named
//! by [`NodeId`]s, which a removal makes stale. Every byte the tree holds on the heap is charged
//! ([`cost`]) against [`Fs::limit`] *before* it is allocated, and every allocation is fallible,
//! so a full budget, or a heap that runs dry under it, is [`Error::NoSpace`] and never an abort.
//! A failed operation changes nothing (a `mkdir -p` that fails half-way takes back the
//! directories it made), and removing never allocates, so a full tree can always be emptied.
//!
//! What the server adds (handles, offsets, the I/O protocol) is `servers/ramfs`; this crate is
//! host-tested, with a model-based property test (`tests/model.rs`) that runs random operation
//! sequences against a plain map of paths and checks the budget's figures after every step.
//!
//! ```
//! use ramfs_tree::{Fs, Kind, Open};
//! let mut fs = Fs::new(64 * 1024).unwrap();
//! fs.mkdir("/etc", false).unwrap();
//! let motd = fs.open("/etc/motd", Open { create: true, ..Open::default() }).unwrap();
//! fs.write(motd, 0, b"hello\n").unwrap();
//! let st = fs.stat(fs.lookup("/etc/motd").unwrap()).unwrap();
//! assert_eq!((st.kind, st.size), (Kind::File, 6));
//! let names: Vec<&str> = fs.entries(fs.lookup("/etc").unwrap()).unwrap().map(|e| e.name).collect();
//! assert_eq!(names, ["motd"]);
//! ```
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod cost;
mod dir;
mod error;
pub mod file;
pub mod path;
mod slab;

use dir::{Dir, DirEntry, name_buf};
pub use error::{Error, Result};
pub use path::NAME_MAX;
pub use slab::NodeId;
use slab::{Node, Slab};

/// The root's slab index.
const ROOT: u32 = 0;

/// What a node is.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A file.
    File,
    /// A directory.
    Directory,
}

/// What [`Fs::stat`] reports.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Stat {
    /// What it is.
    pub kind: Kind,
    /// A file's bytes, a directory's entries.
    pub size: u64,
    /// Its id.
    pub id: NodeId,
}

/// One directory entry, as [`Fs::entries`] lists it.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    /// Its name.
    pub name: &'a str,
    /// What it is.
    pub kind: Kind,
    /// A file's bytes, a directory's entries.
    pub size: u64,
}

/// How [`Fs::open`] opens a path.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Open {
    /// Make a file if the name is free.
    pub create: bool,
    /// With `create`: fail with [`Error::Exists`] if the name is taken.
    pub exclusive: bool,
    /// Empty the file.
    pub truncate: bool,
    /// The name must be a directory.
    pub directory: bool,
    /// With `create`: make the missing directories on the way.
    pub parents: bool,
}

/// The tree.
#[derive(Debug)]
pub struct Fs {
    slab: Slab,
    used: usize,
    limit: usize,
}

impl Node {
    fn kind(&self) -> Kind {
        match self {
            Node::File(_) => Kind::File,
            Node::Dir(_) => Kind::Directory,
        }
    }

    fn size(&self) -> u64 {
        match self {
            Node::File(f) => f.len(),
            Node::Dir(d) => d.len() as u64,
        }
    }
}

impl Fs {
    /// An empty tree (the root directory alone) that may hold `limit` bytes of heap.
    ///
    /// # Errors
    /// [`Error::NoSpace`] if not even the root fits.
    pub fn new(limit: usize) -> Result<Fs> {
        let mut fs = Fs { slab: Slab::new(), used: 0, limit };
        fs.charge(fs.slab.reserve_cost())?;
        fs.slab.reserve()?;
        fs.slab.insert(Node::Dir(Dir::default()));
        fs.used = fs.slab.cost();
        Ok(fs)
    }

    /// The root directory.
    pub fn root(&self) -> NodeId {
        self.slab.id(ROOT)
    }

    /// Bytes of heap the tree holds, as charged.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Bytes of heap the tree may hold.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Changes the budget. Lowering it below [`used`](Fs::used) takes nothing away: it only
    /// refuses what would grow the tree until enough is removed.
    pub fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    /// Nodes in the tree, the root included.
    pub fn nodes(&self) -> usize {
        self.slab.live()
    }

    /// The node `path` names.
    ///
    /// # Errors
    /// [`Error::BadPath`], [`Error::NotFound`], [`Error::NotADirectory`].
    pub fn lookup(&self, path: &str) -> Result<NodeId> {
        path::check(path)?;
        self.walk(path::components(path)).map(|i| self.slab.id(i))
    }

    /// What `id` is.
    ///
    /// # Errors
    /// [`Error::Stale`].
    pub fn stat(&self, id: NodeId) -> Result<Stat> {
        let n = self.slab.get(id)?;
        Ok(Stat { kind: n.kind(), size: n.size(), id })
    }

    /// The entries of directory `id`, in name order.
    ///
    /// # Errors
    /// [`Error::Stale`], [`Error::NotADirectory`].
    pub fn entries(&self, id: NodeId) -> Result<impl ExactSizeIterator<Item = Entry<'_>> + '_> {
        let Node::Dir(d) = self.slab.get(id)? else { return Err(Error::NotADirectory) };
        Ok(d.entries().iter().map(|e| {
            let n = self.slab.at(e.node);
            Entry { name: &e.name, kind: n.map_or(Kind::File, Node::kind), size: n.map_or(0, Node::size) }
        }))
    }

    /// Reads from file `id` at `offset` into `buf`; returns how many bytes (0 at the end).
    ///
    /// # Errors
    /// [`Error::Stale`], [`Error::IsADirectory`].
    pub fn read(&self, id: NodeId, offset: u64, buf: &mut [u8]) -> Result<usize> {
        match self.slab.get(id)? {
            Node::File(f) => Ok(f.read(offset, buf)),
            Node::Dir(_) => Err(Error::IsADirectory),
        }
    }

    /// Writes `data` into file `id` at `offset`, growing it (with zeros up to `offset`) as
    /// needed. All or nothing.
    ///
    /// # Errors
    /// [`Error::Stale`], [`Error::IsADirectory`], [`Error::NoSpace`].
    pub fn write(&mut self, id: NodeId, offset: u64, data: &[u8]) -> Result<()> {
        let (used, limit) = (self.used, self.limit);
        let Node::File(f) = self.slab.get_mut(id)? else { return Err(Error::IsADirectory) };
        let end = offset.checked_add(data.len() as u64).ok_or(Error::NoSpace)?;
        if data.is_empty() || end <= f.len() {
            return f.write(offset, data);
        }
        let now = file::planned_cost(f.len()).ok_or(Error::NoSpace)?;
        let then = file::planned_cost(end).ok_or(Error::NoSpace)?;
        if used.saturating_add(then.saturating_sub(now)) > limit {
            return Err(Error::NoSpace);
        }
        let before = f.cost();
        let r = f.write(offset, data);
        let after = f.cost();
        self.used = self.used - before + after;
        r
    }

    /// Empties file `id`, giving its bytes back.
    ///
    /// # Errors
    /// [`Error::Stale`], [`Error::IsADirectory`].
    pub fn truncate(&mut self, id: NodeId) -> Result<()> {
        let Node::File(f) = self.slab.get_mut(id)? else { return Err(Error::IsADirectory) };
        let before = f.cost();
        f.clear();
        self.used -= before;
        Ok(())
    }

    /// Opens `path` as `how` says: finds it, or makes a file there; empties it with `truncate`.
    ///
    /// # Errors
    /// [`Error::BadPath`]; [`Error::NotFound`] (without `create`, or a missing directory on the
    /// way without `parents`); [`Error::NotADirectory`]; [`Error::Exists`] (`exclusive`);
    /// [`Error::IsADirectory`] (`truncate` of a directory, or `create` naming one with
    /// `exclusive`); [`Error::Invalid`] (`create` with `directory`: `open` makes no directories);
    /// [`Error::NoSpace`].
    pub fn open(&mut self, path: &str, how: Open) -> Result<NodeId> {
        let (dirs, last) = path::split_last(path)?;
        let Some(name) = last else {
            // The root.
            return self.opened(ROOT, how);
        };
        if let Ok(parent) = self.walk(dirs.clone())
            && let Some(found) = self.dir(parent)?.get(name)
        {
            return self.opened(found, how);
        }
        if !how.create {
            // Which error: the walk's, or a missing last name.
            let parent = self.walk(dirs)?;
            self.dir(parent)?;
            return Err(Error::NotFound);
        }
        if how.directory {
            return Err(Error::Invalid);
        }
        let made = if how.parents { self.make_dirs(dirs)? } else { Made { parent: self.walk(dirs)?, top: None } };
        match self
            .dir(made.parent)
            .map(|_| ())
            .and_then(|()| self.create(made.parent, name, Node::File(file::File::default())))
        {
            Ok(i) => Ok(self.slab.id(i)),
            Err(e) => {
                self.unmake(made);
                Err(e)
            }
        }
    }

    /// Makes directory `path`; with `parents`, every missing one on the way too, and an existing
    /// directory is no error.
    ///
    /// # Errors
    /// [`Error::BadPath`], [`Error::NotFound`] (a missing parent without `parents`),
    /// [`Error::NotADirectory`], [`Error::Exists`], [`Error::NoSpace`].
    pub fn mkdir(&mut self, path: &str, parents: bool) -> Result<NodeId> {
        let (dirs, last) = path::split_last(path)?;
        let Some(name) = last else {
            return if parents { Ok(self.root()) } else { Err(Error::Exists) };
        };
        let made = if parents { self.make_dirs(dirs)? } else { Made { parent: self.walk(dirs)?, top: None } };
        let parent = match self.dir(made.parent) {
            Ok(d) => d,
            Err(e) => {
                self.unmake(made);
                return Err(e);
            }
        };
        if let Some(found) = parent.get(name) {
            return match self.slab.at(found) {
                Some(Node::Dir(_)) if parents => Ok(self.slab.id(found)),
                Some(Node::Dir(_)) | None => Err(Error::Exists),
                Some(Node::File(_)) if parents => Err(Error::NotADirectory),
                Some(Node::File(_)) => Err(Error::Exists),
            };
        }
        match self.create(made.parent, name, Node::Dir(Dir::default())) {
            Ok(i) => Ok(self.slab.id(i)),
            Err(e) => {
                self.unmake(made);
                Err(e)
            }
        }
    }

    /// Removes `path`: a file, or with `directory` an empty directory. Handles on it go stale.
    ///
    /// # Errors
    /// [`Error::BadPath`], [`Error::NotFound`], [`Error::NotADirectory`], [`Error::IsADirectory`]
    /// (a directory without `directory`), [`Error::NotEmpty`], [`Error::Invalid`] (the root).
    pub fn unlink(&mut self, path: &str, directory: bool) -> Result<()> {
        let (dirs, last) = path::split_last(path)?;
        let Some(name) = last else { return Err(Error::Invalid) };
        let parent = self.walk(dirs)?;
        let at = self.dir(parent)?.find(name).map_err(|_| Error::NotFound)?;
        let node = self.dir(parent)?.entries()[at].node;
        match (self.slab.at(node), directory) {
            (Some(Node::File(_)), false) => {}
            (Some(Node::Dir(d)), true) if d.is_empty() => {}
            (Some(Node::Dir(_)), true) => return Err(Error::NotEmpty),
            (Some(Node::Dir(_)), false) => return Err(Error::IsADirectory),
            (Some(Node::File(_)), true) => return Err(Error::NotADirectory),
            (None, _) => return Err(Error::NotFound),
        }
        self.remove_entry(parent, at);
        Ok(())
    }

    /// Moves `from` to `to`. A file there is replaced by a file; an empty directory there by a
    /// directory. Moving a node onto itself does nothing. Handles on a replaced node go stale;
    /// handles on the moved one stay good.
    ///
    /// # Errors
    /// [`Error::BadPath`], [`Error::NotFound`], [`Error::NotADirectory`], [`Error::IsADirectory`]
    /// (a directory where a file goes), [`Error::NotEmpty`], [`Error::Invalid`] (the root, or a
    /// directory into itself), [`Error::NoSpace`] (the new name).
    pub fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        let (fdirs, flast) = path::split_last(from)?;
        let (tdirs, tlast) = path::split_last(to)?;
        let fparent = self.walk(fdirs)?;
        let Some(fname) = flast else { return Err(Error::Invalid) };
        let fat = self.dir(fparent)?.find(fname).map_err(|_| Error::NotFound)?;
        let moving = self.dir(fparent)?.entries()[fat].node;
        let moving_dir = matches!(self.slab.at(moving), Some(Node::Dir(_)));
        let Some(tname) = tlast else { return Err(Error::Invalid) };
        let tparent = self.walk(tdirs)?;
        self.dir(tparent)?;
        if moving_dir && path::is_strictly_inside(to, from) {
            return Err(Error::Invalid);
        }
        match self.dir(tparent)?.find(tname) {
            Ok(tat) => {
                let target = self.dir(tparent)?.entries()[tat].node;
                if target == moving {
                    return Ok(());
                }
                match (self.slab.at(target), moving_dir) {
                    (Some(Node::File(_)), false) => {}
                    (Some(Node::Dir(d)), true) if d.is_empty() => {}
                    (Some(Node::Dir(_)), true) => return Err(Error::NotEmpty),
                    (Some(Node::Dir(_)), false) => return Err(Error::IsADirectory),
                    (Some(Node::File(_)), true) => return Err(Error::NotADirectory),
                    (None, _) => return Err(Error::NotFound),
                }
                // Point the target's entry at the moving node, free the target, then drop the
                // moving node's old entry. Nothing here allocates.
                if let Some(old) = self.slab.remove(target) {
                    self.used -= old.cost();
                }
                if let Some(Node::Dir(d)) = self.slab.at_mut(tparent) {
                    d.entry_mut(tat).node = moving;
                }
                let fat = self.dir(fparent)?.find(fname).map_err(|_| Error::NotFound)?;
                let entry = self.dir_mut(fparent)?.remove(fat);
                self.used -= cost::block(entry.name.capacity()).unwrap_or(0);
                Ok(())
            }
            Err(_) => {
                // A new entry in the target directory: its name and perhaps a larger entry list.
                let same = fparent == tparent;
                let need = cost::block(tname.len()).unwrap_or(usize::MAX).saturating_add(if same {
                    0
                } else {
                    self.dir(tparent)?.reserve_cost()
                });
                self.charge(need)?;
                let name = name_buf(tname)?;
                if !same {
                    let before = self.dir(tparent)?.cost();
                    let r = self.dir_mut(tparent)?.reserve();
                    let after = self.dir(tparent)?.cost();
                    self.used = self.used - before + after;
                    r?;
                }
                let entry = self.dir_mut(fparent)?.remove(fat);
                self.used -= cost::block(entry.name.capacity()).unwrap_or(0);
                self.used += cost::block(name.capacity()).unwrap_or(0);
                let tat = self.dir(tparent)?.find(tname).unwrap_or_else(|at| at);
                self.dir_mut(tparent)?.insert(tat, DirEntry { name, node: moving });
                Ok(())
            }
        }
    }

    /// Checks the tree whole: the charged bytes against a recount, every node reachable from the
    /// root exactly once, every directory sorted, the free chain. For tests.
    ///
    /// # Errors
    /// What is wrong.
    pub fn audit(&self) -> core::result::Result<(), &'static str> {
        let mut total = self.slab.cost();
        let mut refs = alloc::vec![0u32; self.slab.iter().count()];
        let mut live = 0;
        for (_, node) in self.slab.iter() {
            let Some(node) = node else { continue };
            live += 1;
            total += node.cost();
            if let Node::Dir(d) = node {
                for pair in d.entries().windows(2) {
                    if pair[0].name >= pair[1].name {
                        return Err("a directory's entries are out of order");
                    }
                }
                for e in d.entries() {
                    if !path::valid_name(&e.name) {
                        return Err("a directory holds an invalid name");
                    }
                    let Some(r) = refs.get_mut(e.node as usize) else { return Err("an entry names no slot") };
                    *r += 1;
                }
            }
        }
        if total != self.used {
            return Err("the charged bytes differ from a recount");
        }
        if live != self.slab.live() {
            return Err("the live count is wrong");
        }
        if !matches!(self.slab.at(ROOT), Some(Node::Dir(_))) || refs[ROOT as usize] != 0 {
            return Err("the root is not an unnamed directory");
        }
        for (i, node) in self.slab.iter() {
            let want = u32::from(node.is_some() && i != ROOT);
            if refs[i as usize] != want {
                return Err("a node is named other than once, or a free slot is named");
            }
        }
        if self.slab.free_chain_len() != Some(refs.len() - live) {
            return Err("the free chain is broken");
        }
        // Every node reachable: no cycles. Each node is named once and the root never, so a
        // cycle would be a set of directories naming each other, cut off from the root: count
        // what the root reaches.
        let mut reached = 0usize;
        let mut stack = alloc::vec![ROOT];
        while let Some(i) = stack.pop() {
            reached += 1;
            if let Some(Node::Dir(d)) = self.slab.at(i) {
                stack.extend(d.entries().iter().map(|e| e.node));
            }
        }
        if reached != live {
            return Err("a node is cut off from the root");
        }
        Ok(())
    }

    // ---- inside ----

    /// Fails with [`Error::NoSpace`] unless `bytes` more fit the budget.
    fn charge(&self, bytes: usize) -> Result<()> {
        if self.used.saturating_add(bytes) > self.limit { Err(Error::NoSpace) } else { Ok(()) }
    }

    /// The directory at `index`.
    fn dir(&self, index: u32) -> Result<&Dir> {
        match self.slab.at(index) {
            Some(Node::Dir(d)) => Ok(d),
            Some(Node::File(_)) => Err(Error::NotADirectory),
            None => Err(Error::NotFound),
        }
    }

    fn dir_mut(&mut self, index: u32) -> Result<&mut Dir> {
        match self.slab.at_mut(index) {
            Some(Node::Dir(d)) => Ok(d),
            Some(Node::File(_)) => Err(Error::NotADirectory),
            None => Err(Error::NotFound),
        }
    }

    /// Follows `components` from the root.
    fn walk<'p>(&self, components: impl Iterator<Item = Result<&'p str>>) -> Result<u32> {
        let mut at = ROOT;
        for c in components {
            at = self.dir(at)?.get(c?).ok_or(Error::NotFound)?;
        }
        Ok(at)
    }

    /// What `open` does with the node it found.
    fn opened(&mut self, index: u32, how: Open) -> Result<NodeId> {
        let id = self.slab.id(index);
        let is_dir = matches!(self.slab.at(index), Some(Node::Dir(_)));
        if how.create && how.exclusive {
            return Err(Error::Exists);
        }
        if how.directory && !is_dir {
            return Err(Error::NotADirectory);
        }
        if how.truncate {
            if is_dir {
                return Err(Error::IsADirectory);
            }
            self.truncate(id)?;
        }
        Ok(id)
    }

    /// Makes `node` (empty) under `name` in directory `parent`; returns its index.
    fn create(&mut self, parent: u32, name: &str, node: Node) -> Result<u32> {
        let at = match self.dir(parent)?.find(name) {
            Ok(_) => return Err(Error::Exists),
            Err(at) => at,
        };
        let need = cost::block(name.len())
            .unwrap_or(usize::MAX)
            .saturating_add(self.dir(parent)?.reserve_cost())
            .saturating_add(self.slab.reserve_cost())
            .saturating_add(node.cost());
        self.charge(need)?;
        let name = name_buf(name)?;
        let before = self.dir(parent)?.cost() + self.slab.cost();
        let r = self.dir_mut(parent).and_then(Dir::reserve).and_then(|()| self.slab.reserve());
        let after = self.dir(parent)?.cost() + self.slab.cost();
        self.used = self.used - before + after;
        r?;
        self.used += cost::block(name.capacity()).unwrap_or(0) + node.cost();
        let id = self.slab.insert(node);
        self.dir_mut(parent)?.insert(at, DirEntry { name, node: id.index });
        Ok(id.index)
    }

    /// Walks `components` from the root, making each missing directory; returns the last, and
    /// the first one it made (to take back with [`unmake`](Fs::unmake) if what follows fails).
    fn make_dirs<'p>(&mut self, components: impl Iterator<Item = Result<&'p str>>) -> Result<Made> {
        let mut made = Made { parent: ROOT, top: None };
        for c in components {
            let c = match c {
                Ok(c) => c,
                Err(e) => {
                    self.unmake(made);
                    return Err(e);
                }
            };
            let next = match self.dir(made.parent).map(|d| d.get(c)) {
                Ok(Some(found)) => Ok(found),
                Ok(None) => self.create(made.parent, c, Node::Dir(Dir::default())).inspect(|&i| {
                    made.top.get_or_insert((made.parent, i));
                }),
                Err(e) => Err(e),
            };
            match next {
                Ok(i) => made.parent = i,
                Err(e) => {
                    self.unmake(made);
                    return Err(e);
                }
            }
        }
        Ok(made)
    }

    /// Takes back the directories [`make_dirs`](Fs::make_dirs) made.
    fn unmake(&mut self, made: Made) {
        let Some((parent, top)) = made.top else { return };
        // Empty the chain from the bottom up: find a directory under `top` with no entries,
        // remove it from its parent; until `top` itself is empty.
        loop {
            let (mut up, mut at) = (parent, top);
            while let Some(Node::Dir(d)) = self.slab.at(at) {
                match d.entries().first() {
                    Some(e) => (up, at) = (at, e.node),
                    None => break,
                }
            }
            let Ok(Ok(i)) = self.dir(up).map(|d| d.entries().iter().position(|e| e.node == at).ok_or(())) else {
                return;
            };
            self.remove_entry(up, i);
            if at == top {
                return;
            }
        }
    }

    /// Removes entry `at` of directory `parent` and frees its node (a file, or an empty
    /// directory). Never allocates.
    fn remove_entry(&mut self, parent: u32, at: usize) {
        let Ok(d) = self.dir_mut(parent) else { return };
        let entry = d.remove(at);
        self.used -= cost::block(entry.name.capacity()).unwrap_or(0);
        if let Some(node) = self.slab.remove(entry.node) {
            self.used -= node.cost();
        }
    }
}

/// What [`Fs::make_dirs`] did: the directory it ends in, and the first one it made with that
/// one's parent.
#[derive(Copy, Clone)]
struct Made {
    parent: u32,
    top: Option<(u32, u32)>,
}
