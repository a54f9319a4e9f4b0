//! A bounded multi-producer, single-consumer channel: [`channel`] makes a [`Sender`] (clone it for
//! more producers) and a [`Receiver`]; messages arrive in the order each sender sent them, and a
//! sender waits (parks) while the channel holds `bound` messages, the receiver while it holds
//! none.
//!
//! ```ignore
//! let (tx, rx) = sys::sync::mpsc::channel(4);
//! sys::thread::spawn(move || tx.send(7).unwrap());
//! assert_eq!(rx.recv(), Some(7));
//! ```

use alloc::collections::VecDeque;
use alloc::sync::Arc;

use super::{Condvar, Mutex};

struct State<T> {
    items: VecDeque<T>,
    bound: usize,
    senders: usize,
    receiver: bool,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    not_empty: Condvar,
    not_full: Condvar,
}

/// The sending side; clone it for more senders.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving side.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// A channel holding at most `bound` messages (at least 1).
pub fn channel<T>(bound: usize) -> (Sender<T>, Receiver<T>) {
    let bound = bound.max(1);
    let shared = Arc::new(Shared {
        state: Mutex::new(State { items: VecDeque::with_capacity(bound), bound, senders: 1, receiver: true }),
        not_empty: Condvar::new(),
        not_full: Condvar::new(),
    });
    (Sender { shared: shared.clone() }, Receiver { shared })
}

impl<T> Sender<T> {
    /// Sends `value`, waiting while the channel is full; gives it back if the receiver is gone.
    pub fn send(&self, value: T) -> Result<(), T> {
        let s = &self.shared;
        let mut st = s.not_full.wait_while(s.state.lock(), |st| st.receiver && st.items.len() >= st.bound);
        if !st.receiver {
            return Err(value);
        }
        st.items.push_back(value);
        drop(st);
        s.not_empty.notify_one();
        Ok(())
    }

    /// Sends `value` if there is room now; gives it back if the channel is full or the receiver
    /// is gone.
    pub fn try_send(&self, value: T) -> Result<(), T> {
        let s = &self.shared;
        let mut st = s.state.lock();
        if !st.receiver || st.items.len() >= st.bound {
            return Err(value);
        }
        st.items.push_back(value);
        drop(st);
        s.not_empty.notify_one();
        Ok(())
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Sender<T> {
        self.shared.state.lock().senders += 1;
        Sender { shared: self.shared.clone() }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut st = self.shared.state.lock();
            st.senders -= 1;
            st.senders == 0
        };
        if last {
            self.shared.not_empty.notify_all();
        }
    }
}

impl<T> Receiver<T> {
    /// The next message, waiting while there is none; `None` once every sender is gone and the
    /// channel is empty.
    pub fn recv(&self) -> Option<T> {
        let s = &self.shared;
        let mut st = s.not_empty.wait_while(s.state.lock(), |st| st.items.is_empty() && st.senders > 0);
        let item = st.items.pop_front();
        drop(st);
        if item.is_some() {
            s.not_full.notify_one();
        }
        item
    }

    /// The next message if there is one now.
    pub fn try_recv(&self) -> Option<T> {
        let s = &self.shared;
        let item = s.state.lock().items.pop_front();
        if item.is_some() {
            s.not_full.notify_one();
        }
        item
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.shared.state.lock().receiver = false;
        self.shared.not_full.notify_all();
    }
}
