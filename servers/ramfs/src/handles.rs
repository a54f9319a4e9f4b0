//! Open handles: what each handle's badge names (a node of the tree), and where its offset is.
//!
//! A handle's badge is [`HANDLE_BADGE`] plus a count that only grows, so a closed handle's badge
//! is never reused: a client that kept a copy of its capability gets `Closed`, never another
//! client's file. The badges Mercury gives clients are small numbers, below [`HANDLE_BADGE`].

use alloc::vec::Vec;

use ramfs_tree::NodeId;
use sys::io::IoError;

/// The bit every handle's badge has.
pub const HANDLE_BADGE: usize = 1 << 62;

/// Most handles open at once: one more open is [`IoError::NoSpace`].
pub const MAX_HANDLES: usize = 1024;

/// One open handle.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Handle {
    /// The node it is open on.
    pub node: NodeId,
    /// Where its next read or write starts.
    pub offset: u64,
    /// Every write goes to the end.
    pub append: bool,
}

/// The open handles, by badge.
#[derive(Debug)]
pub struct Handles {
    /// Sorted by badge (badges are handed out in order).
    list: Vec<(usize, Handle)>,
    next: usize,
}

impl Default for Handles {
    fn default() -> Handles {
        Handles { list: Vec::new(), next: HANDLE_BADGE }
    }
}

impl Handles {
    /// Whether `badge` is a handle's (open or closed), not a client's channel.
    pub fn is_handle(badge: usize) -> bool {
        badge & HANDLE_BADGE != 0
    }

    /// Handles open now.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether none is open.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The handle `badge` names.
    pub fn get_mut(&mut self, badge: usize) -> Option<&mut Handle> {
        let i = self.list.binary_search_by_key(&badge, |&(b, _)| b).ok()?;
        Some(&mut self.list[i].1)
    }

    /// Makes room for one more handle; returns the badge it will have.
    ///
    /// # Errors
    /// [`IoError::NoSpace`]: [`MAX_HANDLES`] are open, or the heap has no room.
    pub fn reserve(&mut self) -> Result<usize, IoError> {
        if self.list.len() >= MAX_HANDLES || self.next == usize::MAX {
            return Err(IoError::NoSpace);
        }
        self.list.try_reserve(1).map_err(|_| IoError::NoSpace)?;
        Ok(self.next)
    }

    /// Opens `handle` under the badge [`reserve`](Handles::reserve) returned (it must have been
    /// called just before: this does not allocate).
    pub fn insert(&mut self, handle: Handle) -> usize {
        let badge = self.next;
        self.next += 1;
        debug_assert!(self.list.len() < self.list.capacity());
        self.list.push((badge, handle));
        badge
    }

    /// Closes the handle `badge` names.
    pub fn remove(&mut self, badge: usize) -> Option<Handle> {
        let i = self.list.binary_search_by_key(&badge, |&(b, _)| b).ok()?;
        Some(self.list.remove(i).1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_are_never_reused() {
        let fs = ramfs_tree::Fs::new(1 << 16).unwrap();
        let h = Handle { node: fs.root(), offset: 0, append: false };
        let mut t = Handles::default();
        let a = t.reserve().unwrap();
        assert_eq!(t.insert(h), a);
        let b = t.reserve().unwrap();
        assert_eq!(t.insert(h), b);
        assert!(Handles::is_handle(a) && Handles::is_handle(b) && a != b);
        assert!(!Handles::is_handle(1), "Mercury's client badges are no handles");
        assert_eq!(t.remove(a), Some(h));
        assert_eq!(t.remove(a), None);
        let c = t.reserve().unwrap();
        assert_eq!(t.insert(h), c);
        assert!(c != a && c != b);
        assert!(t.get_mut(b).is_some() && t.get_mut(a).is_none());
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn the_table_is_bounded() {
        let fs = ramfs_tree::Fs::new(1 << 16).unwrap();
        let h = Handle { node: fs.root(), offset: 0, append: false };
        let mut t = Handles::default();
        for _ in 0..MAX_HANDLES {
            t.reserve().unwrap();
            t.insert(h);
        }
        assert_eq!(t.reserve(), Err(IoError::NoSpace));
    }
}
