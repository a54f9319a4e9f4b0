//! A directory: its entries, sorted by name, each naming a node of the slab by index.
//!
//! Adding an entry is *reserve, then insert*: [`Dir::reserve`] makes room (fallibly) and
//! [`Dir::insert`] then cannot allocate.

use alloc::string::String;
use alloc::vec::Vec;

use crate::cost::{array, block, grown};
use crate::error::{Error, Result};

/// One entry: a name and the slab index of its node.
#[derive(Debug)]
pub struct DirEntry {
    /// Its name (a valid path component).
    pub name: String,
    /// The slab index of its node.
    pub node: u32,
}

/// A directory's entries.
#[derive(Debug, Default)]
pub struct Dir {
    entries: Vec<DirEntry>,
}

impl Dir {
    /// Its entries, in name order.
    pub fn entries(&self) -> &[DirEntry] {
        &self.entries
    }

    /// How many entries it has.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether it has none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Where `name` is (`Ok`), or where it would go (`Err`).
    pub fn find(&self, name: &str) -> core::result::Result<usize, usize> {
        self.entries.binary_search_by(|e| e.name.as_str().cmp(name))
    }

    /// The node `name` names.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.find(name).ok().map(|i| self.entries[i].node)
    }

    /// What its buffers cost: the entry list and every name.
    pub fn cost(&self) -> usize {
        let list = array::<DirEntry>(self.entries.capacity()).unwrap_or(usize::MAX);
        self.entries.iter().fold(list, |sum, e| sum.saturating_add(block(e.name.capacity()).unwrap_or(usize::MAX)))
    }

    /// What [`reserve`](Dir::reserve) will add to the cost.
    pub fn reserve_cost(&self) -> usize {
        let cap = self.entries.capacity();
        if self.entries.len() < cap {
            return 0;
        }
        let now = array::<DirEntry>(cap).unwrap_or(usize::MAX);
        array::<DirEntry>(grown(cap)).map_or(usize::MAX, |next| next.saturating_sub(now))
    }

    /// Makes room for one more entry.
    pub fn reserve(&mut self) -> Result<()> {
        let cap = self.entries.capacity();
        if self.entries.len() < cap {
            return Ok(());
        }
        self.entries.try_reserve_exact(grown(cap) - self.entries.len()).map_err(|_| Error::NoSpace)
    }

    /// Puts `entry` at `at` (from [`find`](Dir::find)); there must be room ([`reserve`](Dir::reserve)).
    pub fn insert(&mut self, at: usize, entry: DirEntry) {
        debug_assert!(self.entries.len() < self.entries.capacity());
        self.entries.insert(at, entry);
    }

    /// Takes the entry at `at` out.
    pub fn remove(&mut self, at: usize) -> DirEntry {
        self.entries.remove(at)
    }

    /// The entry at `at`, to point it at another node.
    pub fn entry_mut(&mut self, at: usize) -> &mut DirEntry {
        &mut self.entries[at]
    }
}

/// A copy of `name` in a buffer of exactly its length, or [`Error::NoSpace`].
pub fn name_buf(name: &str) -> Result<String> {
    let mut s = String::new();
    s.try_reserve_exact(name.len()).map_err(|_| Error::NoSpace)?;
    s.push_str(name);
    Ok(s)
}
