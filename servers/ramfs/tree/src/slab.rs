//! The nodes: a slab of slots indexed by `u32`, each with a generation that changes when its node
//! is removed, so a [`NodeId`] held past its node's removal is told apart ([`Error::Stale`]).
//! Free slots are chained through the slots themselves, so removing a node never allocates.

use alloc::vec::Vec;

use crate::cost::{array, grown};
use crate::dir::Dir;
use crate::error::{Error, Result};
use crate::file::File;

/// The end of the free chain.
const NONE: u32 = u32::MAX;

/// A node: a file or a directory.
#[derive(Debug)]
pub enum Node {
    /// A file.
    File(File),
    /// A directory.
    Dir(Dir),
}

impl Node {
    /// What its buffers cost.
    pub fn cost(&self) -> usize {
        match self {
            Node::File(f) => f.cost(),
            Node::Dir(d) => d.cost(),
        }
    }
}

/// Names one node while it exists: a slab index and that slot's generation.
///
/// ```
/// let fs = ramfs_tree::Fs::new(1 << 20).unwrap();
/// let root = fs.root();
/// assert_eq!(fs.lookup("/"), Ok(root));
/// assert_eq!(root.number(), 0, "the root is slot 0, generation 0");
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct NodeId {
    pub(crate) index: u32,
    pub(crate) generation: u32,
}

impl NodeId {
    /// One number for it: the generation above the index.
    pub fn number(self) -> u64 {
        (u64::from(self.generation) << 32) | u64::from(self.index)
    }
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    next_free: u32,
    node: Option<Node>,
}

/// The slab.
#[derive(Debug, Default)]
pub struct Slab {
    slots: Vec<Slot>,
    free: u32,
    live: usize,
}

impl Slab {
    /// An empty slab.
    pub fn new() -> Slab {
        Slab { slots: Vec::new(), free: NONE, live: 0 }
    }

    /// Nodes in it.
    pub fn live(&self) -> usize {
        self.live
    }

    /// What its slot array costs.
    pub fn cost(&self) -> usize {
        array::<Slot>(self.slots.capacity()).unwrap_or(usize::MAX)
    }

    /// The node `id` names.
    pub fn get(&self, id: NodeId) -> Result<&Node> {
        match self.slots.get(id.index as usize) {
            Some(Slot { generation, node: Some(n), .. }) if *generation == id.generation => Ok(n),
            _ => Err(Error::Stale),
        }
    }

    /// The node `id` names, to change.
    pub fn get_mut(&mut self, id: NodeId) -> Result<&mut Node> {
        match self.slots.get_mut(id.index as usize) {
            Some(Slot { generation, node: Some(n), .. }) if *generation == id.generation => Ok(n),
            _ => Err(Error::Stale),
        }
    }

    /// The id of the node at `index` (which a directory entry names, so it exists).
    pub fn id(&self, index: u32) -> NodeId {
        NodeId { index, generation: self.slots.get(index as usize).map_or(0, |s| s.generation) }
    }

    /// The node at `index`, if any.
    pub fn at(&self, index: u32) -> Option<&Node> {
        self.slots.get(index as usize).and_then(|s| s.node.as_ref())
    }

    /// The node at `index`, if any, to change.
    pub fn at_mut(&mut self, index: u32) -> Option<&mut Node> {
        self.slots.get_mut(index as usize).and_then(|s| s.node.as_mut())
    }

    /// What [`reserve`](Slab::reserve) will add to the cost.
    pub fn reserve_cost(&self) -> usize {
        let cap = self.slots.capacity();
        if self.free != NONE || self.slots.len() < cap {
            return 0;
        }
        let now = array::<Slot>(cap).unwrap_or(usize::MAX);
        array::<Slot>(grown(cap)).map_or(usize::MAX, |next| next.saturating_sub(now))
    }

    /// Makes room for one more node.
    pub fn reserve(&mut self) -> Result<()> {
        let cap = self.slots.capacity();
        if self.free != NONE || self.slots.len() < cap {
            return Ok(());
        }
        let want = grown(cap).min(NONE as usize);
        if want <= self.slots.len() {
            return Err(Error::NoSpace);
        }
        self.slots.try_reserve_exact(want - self.slots.len()).map_err(|_| Error::NoSpace)
    }

    /// Puts `node` in a free slot; there must be room ([`reserve`](Slab::reserve)).
    pub fn insert(&mut self, node: Node) -> NodeId {
        self.live += 1;
        if self.free != NONE {
            let index = self.free;
            let slot = &mut self.slots[index as usize];
            self.free = slot.next_free;
            slot.node = Some(node);
            slot.next_free = NONE;
            return NodeId { index, generation: slot.generation };
        }
        debug_assert!(self.slots.len() < self.slots.capacity());
        let index = self.slots.len() as u32;
        self.slots.push(Slot { generation: 0, next_free: NONE, node: Some(node) });
        NodeId { index, generation: 0 }
    }

    /// Takes the node at `index` out; its slot's generation moves on.
    pub fn remove(&mut self, index: u32) -> Option<Node> {
        let slot = self.slots.get_mut(index as usize)?;
        let node = slot.node.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        slot.next_free = self.free;
        self.free = index;
        self.live -= 1;
        Some(node)
    }

    /// Every slot index, with its node if it has one.
    pub fn iter(&self) -> impl Iterator<Item = (u32, Option<&Node>)> {
        self.slots.iter().enumerate().map(|(i, s)| (i as u32, s.node.as_ref()))
    }

    /// The free chain's length, or `None` if it is broken (a loop, or a slot in use on it).
    pub fn free_chain_len(&self) -> Option<usize> {
        let mut n = 0;
        let mut at = self.free;
        while at != NONE {
            let slot = self.slots.get(at as usize)?;
            if slot.node.is_some() || n > self.slots.len() {
                return None;
            }
            n += 1;
            at = slot.next_free;
        }
        Some(n)
    }
}
