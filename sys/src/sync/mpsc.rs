//! A bounded multi-producer, single-consumer channel: [`channel`] makes a [`Sender`] (clone it for
//! more producers) and a [`Receiver`]; messages arrive in the order each sender sent them, and a
//! sender waits (parks) while the channel holds `bound` messages, the receiver while it holds
//! none.
//!
//! ```no_run
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
///
/// ```no_run
/// use sys::sync::mpsc::channel;
///
/// let (tx, rx) = channel(16);
/// let producers: [_; 3] = core::array::from_fn(|id| {
///     let tx = tx.clone();
///     sys::thread::spawn(move || {
///         for n in 0..10 {
///             tx.send((id, n)).expect("the receiver is there");
///         }
///     })
/// });
/// drop(tx); // the producers hold the only senders left
/// let mut received = 0;
/// while let Some((id, n)) = rx.recv() {
///     received += 1;
/// }
/// assert_eq!(received, 30);
/// # for p in producers { let _ = p.join(); }
/// ```
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving side.
///
/// ```no_run
/// use sys::sync::mpsc::{Receiver, channel};
///
/// /// A logging thread: prints what it is sent until every sender is gone.
/// fn logger(rx: Receiver<&'static str>) {
///     while let Some(line) = rx.recv() {
///         sys::println!("log: {line}");
///     }
/// }
///
/// let (tx, rx) = channel(8);
/// let thread = sys::thread::spawn(move || logger(rx));
/// tx.send("started").expect("the logger is there");
/// drop(tx);
/// thread.join().expect("the logger ran to the end");
/// ```
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// A channel holding at most `bound` messages (at least 1).
///
/// ```
/// use sys::sync::mpsc::channel;
///
/// let (tx, rx) = channel::<u32>(2);
/// assert!(tx.try_send(1).is_ok());
/// assert!(tx.try_send(2).is_ok());
/// assert_eq!(tx.try_send(3), Err(3), "full: at most 2");
/// assert_eq!(rx.try_recv(), Some(1));
/// ```
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
    ///
    /// ```no_run
    /// use sys::sync::mpsc::channel;
    ///
    /// let (tx, rx) = channel(4);
    /// let producer = sys::thread::spawn(move || {
    ///     for n in 0..100 {
    ///         // Waits while the channel holds 4.
    ///         if tx.send(n).is_err() {
    ///             break; // the receiver is gone
    ///         }
    ///     }
    /// });
    /// let first: u32 = (0..10).map(|_| rx.recv().expect("sent")).sum();
    /// drop(rx); // the producer's next send gives its value back
    /// producer.join().expect("the producer ran to the end");
    /// ```
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
    ///
    /// ```
    /// use sys::sync::mpsc::channel;
    ///
    /// let (tx, rx) = channel(1);
    /// tx.try_send("a").expect("room for one");
    /// // Full: the value comes back, and the caller decides (here: drop it, count it).
    /// let mut dropped = 0;
    /// if let Err(_value) = tx.try_send("b") {
    ///     dropped += 1;
    /// }
    /// assert_eq!((dropped, rx.try_recv()), (1, Some("a")));
    /// ```
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
    ///
    /// ```
    /// use sys::sync::mpsc::channel;
    ///
    /// let (tx, rx) = channel(4);
    /// tx.send(7).expect("the receiver is there");
    /// drop(tx);
    /// assert_eq!(rx.recv(), Some(7));
    /// // Every sender gone, nothing left: the end.
    /// assert_eq!(rx.recv(), None);
    /// ```
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
    ///
    /// ```
    /// use sys::sync::mpsc::channel;
    ///
    /// let (tx, rx) = channel::<u32>(4);
    /// // Nothing yet: do something else.
    /// assert_eq!(rx.try_recv(), None);
    /// tx.try_send(5).expect("room");
    /// assert_eq!(rx.try_recv(), Some(5));
    /// ```
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
