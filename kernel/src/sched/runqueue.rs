//! The run queues: one FIFO per priority, linked through the tasks themselves, and a 256-bit
//! bitmap of the non-empty ones. Every operation is O(1): choosing the best task scans at most
//! four bitmap words.
//!
//! Generic over the node type so that host tests can run it over plain test nodes; the kernel's
//! nodes are Task objects. The queues are cells, shared like every other piece of kernel state
//! (see `sync::Global`).
#![forbid(unsafe_code)]

use core::cell::Cell;

/// What the run queues need from a task.
pub trait Node: Copy + PartialEq {
    /// Its priority (which queue it belongs in).
    fn priority(self) -> u8;
    /// Its (previous, next) links.
    fn links(self) -> (Option<Self>, Option<Self>);
    /// Sets its links.
    fn set_links(self, prev: Option<Self>, next: Option<Self>);
    /// Whether it is in a queue.
    fn queued(self) -> bool;
    /// Marks it queued or not.
    fn set_queued(self, queued: bool);
}

/// 256 FIFO queues and their bitmap.
pub struct RunQueues<N> {
    heads: [Cell<Option<N>>; 256],
    tails: [Cell<Option<N>>; 256],
    bitmap: [Cell<u64>; 4],
}

impl<N: Node> RunQueues<N> {
    /// Empty queues.
    pub const fn new() -> Self {
        Self {
            heads: [const { Cell::new(None) }; 256],
            tails: [const { Cell::new(None) }; 256],
            bitmap: [const { Cell::new(0) }; 4],
        }
    }

    fn mark(&self, p: usize) {
        let w = &self.bitmap[p / 64];
        w.set(w.get() | 1 << (p % 64));
    }

    /// Appends `n` to its priority's queue (no-op if queued).
    pub fn push_back(&self, n: N) {
        if n.queued() {
            return;
        }
        let p = usize::from(n.priority());
        let tail = self.tails[p].get();
        n.set_links(tail, None);
        match tail {
            Some(t) => t.set_links(t.links().0, Some(n)),
            None => self.heads[p].set(Some(n)),
        }
        self.tails[p].set(Some(n));
        n.set_queued(true);
        self.mark(p);
    }

    /// Puts `n` at the head of its priority's queue (no-op if queued). Always inlined: in the
    /// fast paths' direct switch (`sched::preempt_to`) a call would keep the switch's target in
    /// callee-saved registers around it.
    #[inline(always)]
    pub fn push_front(&self, n: N) {
        if n.queued() {
            return;
        }
        let p = usize::from(n.priority());
        let head = self.heads[p].get();
        n.set_links(None, head);
        match head {
            Some(h) => h.set_links(Some(n), h.links().1),
            None => self.tails[p].set(Some(n)),
        }
        self.heads[p].set(Some(n));
        n.set_queued(true);
        self.mark(p);
    }

    /// Takes `n` out of its queue (no-op if not queued). Its priority must not have changed
    /// since it was queued.
    pub fn remove(&self, n: N) {
        if !n.queued() {
            return;
        }
        let p = usize::from(n.priority());
        let (prev, next) = n.links();
        match prev {
            Some(q) => q.set_links(q.links().0, next),
            None => self.heads[p].set(next),
        }
        match next {
            Some(q) => q.set_links(prev, q.links().1),
            None => self.tails[p].set(prev),
        }
        n.set_links(None, None);
        n.set_queued(false);
        if self.heads[p].get().is_none() {
            let w = &self.bitmap[p / 64];
            w.set(w.get() & !(1 << (p % 64)));
        }
    }

    /// The highest priority with a non-empty queue.
    #[inline]
    pub fn highest(&self) -> Option<u8> {
        let w = (0..4).rev().find(|&w| self.bitmap[w].get() != 0)?;
        Some((w * 64 + 63 - self.bitmap[w].get().leading_zeros() as usize) as u8)
    }

    /// The head of the highest non-empty queue.
    pub fn best(&self) -> Option<N> {
        self.heads[usize::from(self.highest()?)].get()
    }

    /// Takes the head of priority `p`'s queue out and puts `n` (not queued, of priority `p`) at
    /// its tail, in one step, and returns the head; with the queue empty, does nothing and
    /// returns `None`. The queue is never empty in between, so its bitmap bit stays as it is:
    /// the step of a task that yields to the next of its priority.
    pub fn rotate(&self, p: u8, n: N) -> Option<N> {
        debug_assert!(!n.queued() && n.priority() == p);
        let p = usize::from(p);
        let h = self.heads[p].get()?;
        let (_, after) = h.links();
        h.set_links(None, None);
        h.set_queued(false);
        match after {
            None => {
                n.set_links(None, None);
                self.heads[p].set(Some(n));
            }
            Some(a) => {
                a.set_links(None, a.links().1);
                self.heads[p].set(Some(a));
                // `h` had a successor, so the tail is another task.
                if let Some(t) = self.tails[p].get() {
                    t.set_links(t.links().0, Some(n));
                }
                n.set_links(self.tails[p].get(), None);
            }
        }
        self.tails[p].set(Some(n));
        n.set_queued(true);
        Some(h)
    }

    /// Takes the head of the highest non-empty queue out, and returns it.
    pub fn pop_best(&self) -> Option<N> {
        let n = self.best()?;
        self.remove(n);
        Some(n)
    }
}

impl<N: Node> Default for RunQueues<N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cell::Cell;
    use std::collections::VecDeque;
    use std::vec::Vec;

    struct TestTask<'a> {
        id: usize,
        prio: Cell<u8>,
        prev: Cell<Option<T<'a>>>,
        next: Cell<Option<T<'a>>>,
        queued: Cell<bool>,
    }

    #[derive(Copy, Clone)]
    struct T<'a>(&'a TestTask<'a>);

    impl PartialEq for T<'_> {
        fn eq(&self, o: &Self) -> bool {
            self.0.id == o.0.id
        }
    }

    impl std::fmt::Debug for T<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "T{}", self.0.id)
        }
    }

    impl Node for T<'_> {
        fn priority(self) -> u8 {
            self.0.prio.get()
        }
        fn links(self) -> (Option<Self>, Option<Self>) {
            (self.0.prev.get(), self.0.next.get())
        }
        fn set_links(self, prev: Option<Self>, next: Option<Self>) {
            self.0.prev.set(prev);
            self.0.next.set(next);
        }
        fn queued(self) -> bool {
            self.0.queued.get()
        }
        fn set_queued(self, q: bool) {
            self.0.queued.set(q);
        }
    }

    /// Test tasks with these priorities (the test owns them; `T`s borrow them).
    fn arena<'a>(prios: &[u8]) -> Vec<TestTask<'a>> {
        prios
            .iter()
            .enumerate()
            .map(|(id, &p)| TestTask {
                id,
                prio: Cell::new(p),
                prev: Cell::new(None),
                next: Cell::new(None),
                queued: Cell::new(false),
            })
            .collect()
    }

    fn tasks<'a>(arena: &'a [TestTask<'a>]) -> Vec<T<'a>> {
        arena.iter().map(T).collect()
    }

    #[test]
    fn highest_priority_first_fifo_within() {
        let a = arena(&[10, 200, 10, 200, 0]);
        let t = tasks(&a);
        let q = RunQueues::new();
        for &x in &t {
            q.push_back(x);
        }
        assert_eq!(q.best(), Some(t[1]));
        q.remove(t[1]);
        assert_eq!(q.best(), Some(t[3]));
        q.remove(t[3]);
        assert_eq!(q.best(), Some(t[0]));
        q.push_front(t[3]);
        assert_eq!(q.best(), Some(t[3]));
        q.remove(t[3]);
        q.remove(t[0]);
        assert_eq!(q.best(), Some(t[2]));
        q.remove(t[2]);
        assert_eq!(q.best(), Some(t[4]));
        q.remove(t[4]);
        assert_eq!(q.best(), None);
        q.remove(t[4]);
        assert_eq!(q.best(), None);
        assert_eq!(q.highest(), None);
        assert_eq!(q.pop_best(), None);
        q.push_back(t[0]);
        q.push_back(t[1]);
        assert_eq!(q.highest(), Some(200));
        assert_eq!(q.pop_best(), Some(t[1]));
        assert!(!t[1].queued());
        assert_eq!(q.pop_best(), Some(t[0]));
        assert_eq!(q.highest(), None);
        // Rotating: the head out, the newcomer in at the tail.
        assert_eq!(q.rotate(10, t[0]), None);
        assert!(!t[0].queued());
        q.push_back(t[0]);
        assert_eq!(q.rotate(10, t[2]), Some(t[0]));
        assert_eq!(q.rotate(10, t[0]), Some(t[2]));
        assert_eq!(q.best(), Some(t[0]));
        assert_eq!(q.highest(), Some(10));
    }

    proptest! {
        /// Against a model: per-priority deques, highest non-empty first.
        #[test]
        fn matches_a_model(prios in prop::collection::vec(any::<u8>(), 1..24),
                           ops in prop::collection::vec((0u8..4, any::<prop::sample::Index>()), 1..200)) {
            let a = arena(&prios);
            let t = tasks(&a);
            let q = RunQueues::new();
            let mut model: Vec<VecDeque<usize>> = (0..256).map(|_| VecDeque::new()).collect();
            for (op, i) in ops {
                let x = t[i.index(t.len())];
                let (p, id) = (usize::from(x.priority()), x.0.id);
                let present = model[p].contains(&id);
                match op {
                    0 => { q.push_back(x); if !present { model[p].push_back(id); } }
                    1 => { q.push_front(x); if !present { model[p].push_front(id); } }
                    2 if !present => {
                        // Rotate `x` (not queued) in at the tail of its queue, the head out.
                        let head = q.rotate(x.priority(), x).map(|h| h.0.id);
                        prop_assert_eq!(head, model[p].pop_front());
                        if head.is_some() {
                            model[p].push_back(id);
                        }
                    }
                    _ => { q.remove(x); model[p].retain(|&y| y != id); }
                }
                let expect = model.iter().rev().find_map(|d| d.front().copied());
                prop_assert_eq!(q.best().map(|b| b.0.id), expect);
                let highest = model.iter().rposition(|d| !d.is_empty()).map(|p| p as u8);
                prop_assert_eq!(q.highest(), highest);
                prop_assert_eq!(x.queued(), model[p].contains(&id));
            }
        }
    }
}
