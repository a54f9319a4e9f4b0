//! Threads: [`spawn`] a closure on a thread of its own, [`JoinHandle::join`] for its value or
//! [`JoinHandle::detach`] it; thread-local values ([`thread_local!`](crate::thread_local));
//! [`sleep_us`]; the calling thread's [`id`].
//!
//! A thread is a Task sharing the program's CSpace and VSpace ([`crate::process`]), made from the
//! program's Memory, with:
//! - a stack of its own in a slot of the stack area ([`STACKS_BASE`]): Page objects mapped at the
//!   top of a [`STACK_SLOT`]-byte slot whose rest stays unmapped, so running off the bottom faults
//!   instead of corrupting anything;
//! - its thread block at the top of that stack, the FS base pointing at it ([`block`]): its id,
//!   its thread-local values, and where it parks;
//! - a park Note (it sleeps there when a lock is contended) and an exit Note, which the kernel
//!   signals when the task stops (`task_set_exit_note`): `join` waits on it, and only then are the
//!   stack and the Task taken apart, so nothing is freed under a running thread.
//!
//! A thread runs at the priority of the thread that spawned it ([`Builder::priority`] picks
//! another, within the program's maximum). A thread that faults (and has no fault endpoint) stops:
//! `join` reports [`JoinError::Faulted`]. A detached thread's resources come back once it has
//! stopped, the next time the program spawns or calls [`reclaim`].
//!
//! A program needs a Memory, its CSpace, VSpace and Task to make threads; without them `spawn`
//! fails with [`SpawnError::NoResources`].

pub mod block;
mod ipcbuf;
mod local;
mod stack;

use alloc::boxed::Box;
use alloc::sync::Arc;

use abi::layout::{PAGE_SIZE, STACK_SLOT, STACKS_BASE};
use abi::task::{MAX_PRIORITY, Registers, State};

pub use ipcbuf::with_ipc_buffer;
pub(crate) use ipcbuf::{
    adopt_main as adopt_main_ipc_buffer, init_main as init_main_ipc_buffer, replaced as ipc_buffer_replaced,
};
pub use local::LocalKey;

pub(crate) use stack::for_each_task;

use crate::cap::Slot;
use crate::error::Error;
use crate::notify::{MAX_TIMER_US, Note, TICK_US, Timer};
use crate::sync::Mutex;
use crate::task::Task;

/// A thread's stack when the builder names none: 64 KiB.
pub const DEFAULT_STACK_BYTES: usize = 64 * 1024;

/// The largest stack a thread can have: 512 KiB (half its slot; the rest is the guard).
pub const MAX_STACK_BYTES: usize = 512 * 1024;

/// Detached threads waiting to be reclaimed, at most.
pub const MAX_DETACHED: usize = 256;

/// The calling thread's id: 1 for the main thread, then counting up in the order threads are
/// made.
///
/// ```no_run
/// use sys::thread;
///
/// assert_eq!(thread::id(), 1, "in the main thread");
/// let worker = thread::spawn(thread::id);
/// let id = worker.id();
/// assert_eq!(worker.join(), Ok(id));
/// ```
pub fn id() -> u64 {
    block::current().id()
}

/// The stack slot of the calling thread, if it is a thread made by [`spawn`] (not the main
/// thread, nor a task made by hand).
pub(crate) fn own_stack_slot() -> Option<usize> {
    if block::current().id() == 1 {
        return None;
    }
    stack::slot_of(block::current_addr())
}

/// Gives the rest of the calling thread's timeslice to the next thread of its priority.
///
/// ```no_run
/// use core::sync::atomic::{AtomicBool, Ordering};
///
/// static DONE: AtomicBool = AtomicBool::new(false);
///
/// let worker = sys::thread::spawn(|| DONE.store(true, Ordering::Release));
/// // A short wait: give the processor to the worker meanwhile.
/// while !DONE.load(Ordering::Acquire) {
///     sys::thread::yield_now();
/// }
/// worker.join().expect("the worker ran to the end");
/// ```
pub fn yield_now() {
    crate::task::yield_now();
}

/// Why a thread could not be spawned.
///
/// ```no_run
/// use sys::thread::{Builder, SpawnError};
///
/// # fn demo() {
/// match Builder::new().stack_size(16 * 1024).spawn(|| 2 + 2) {
///     Ok(worker) => assert_eq!(worker.join(), Ok(4)),
///     Err(SpawnError::NoResources) => sys::println!("this program cannot make threads"),
///     Err(SpawnError::Sys(e)) => sys::println!("spawn: {e}"), // quota, most likely
///     Err(e) => sys::println!("spawn: {e:?}"),
/// }
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// The program has no Memory, CSpace, VSpace or Task to make threads with.
    NoResources,
    /// Every stack slot is taken.
    NoStackSlot,
    /// The stack size asked for is 0 or above [`MAX_STACK_BYTES`].
    BadStackSize,
    /// The priority asked for is above the program's maximum.
    BadPriority,
    /// A system call failed (quota, memory, slots).
    Sys(Error),
}

impl From<Error> for SpawnError {
    fn from(e: Error) -> SpawnError {
        SpawnError::Sys(e)
    }
}

/// How a thread ended without giving a value.
///
/// ```no_run
/// use sys::thread::JoinError;
///
/// let worker = sys::thread::spawn(|| {
///     // SAFETY: `ud2` raises an invalid-opcode fault and touches nothing else.
///     unsafe { core::arch::asm!("ud2") };
/// });
/// match worker.join() {
///     Ok(()) => sys::println!("finished"),
///     Err(JoinError::Faulted(vector)) => sys::println!("faulted: vector {vector}"), // 6
///     Err(JoinError::Killed(status)) => sys::println!("killed with {status}"),
///     Err(JoinError::Destroyed) => sys::println!("destroyed"),
/// }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum JoinError {
    /// It faulted and nobody took the fault (no supervisor): the vector. Its stack and objects
    /// are given back all the same.
    Faulted(usize),
    /// It was ended with this status before its closure returned (`task_kill`, say by a
    /// supervisor: [`Fault::kill`](crate::fault::Fault::kill)).
    Killed(usize),
    /// It was destroyed (`task_destroy`).
    Destroyed,
}

/// What the spawned closure's value travels in.
struct Packet<T> {
    value: Mutex<Option<T>>,
}

/// The kernel objects and memory of one thread, taken apart once it has stopped.
struct Resources {
    task: Task,
    exit_note: Note,
    park_note: Note,
    stack: stack::Stack,
}

impl Resources {
    /// Whether the thread has stopped (its exit Note was signalled, now or before).
    fn stopped(&self) -> bool {
        self.task.info().is_ok_and(|i| i.is_stopped())
    }

    /// Takes everything apart. The thread must have stopped.
    fn free(self) {
        self.stack.set_task(0);
        // SAFETY: the thread has stopped for good (its state is Exited or Faulted and nothing
        // resumes it), so it runs no more code; its death drops its references to the program's
        // CSpace and VSpace, which the program's own capabilities hold too (the teardown contract
        // holds), and its exit Note.
        let _ = unsafe { self.task.cap().delete() };
        let _ = self.exit_note.delete();
        let _ = self.park_note.delete();
        self.stack.free();
    }
}

/// Gives back the memory the runtime keeps for threads to come: the stack of a thread that
/// ended, kept mapped (with its Page capability) so that the next [`spawn`] of the default stack
/// size skips making, zeroing and mapping one. The heap asks for it by itself when the Memory has
/// no room for it to grow. Returns whether anything was kept. For a program that accounts for
/// every page and capability slot (a test that checks that nothing leaked), or that will start
/// no more threads.
///
/// ```no_run
/// sys::thread::spawn(|| 1).join().expect("it ran");
/// // The stack it ran on is kept for the next thread; give it back instead.
/// assert!(sys::thread::trim());
/// assert!(!sys::thread::trim(), "nothing left to give back");
/// ```
pub fn trim() -> bool {
    stack::release_cached()
}

/// A thread that can be joined (or detached). Dropping it detaches the thread.
///
/// ```no_run
/// use sys::thread::{self, JoinHandle};
///
/// let workers: [JoinHandle<u64>; 4] =
///     core::array::from_fn(|i| thread::spawn(move || (0..1000u64).map(|n| n * i as u64).sum()));
/// let total: u64 = workers.into_iter().map(|w| w.join().expect("the worker ran to the end")).sum();
/// assert_eq!(total, 6 * 499_500);
/// ```
pub struct JoinHandle<T> {
    resources: Option<Resources>,
    packet: Arc<Packet<T>>,
    id: u64,
}

impl<T> JoinHandle<T> {
    /// The thread's id.
    ///
    /// ```no_run
    /// let worker = sys::thread::spawn(sys::thread::id);
    /// sys::println!("started thread {}", worker.id());
    /// let id = worker.id();
    /// assert_eq!(worker.join(), Ok(id));
    /// ```
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The thread's Task.
    ///
    /// ```no_run
    /// use sys::task::State;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let worker = sys::thread::spawn(|| loop {
    ///     sys::thread::yield_now();
    /// });
    /// let task = worker.task().expect("not joined or detached yet");
    /// task.suspend()?;
    /// assert_eq!(task.info()?.state, Ok(State::Suspended));
    /// task.resume()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn task(&self) -> Option<Task> {
        self.resources.as_ref().map(|r| r.task)
    }

    /// Waits for the thread to end and returns the closure's value; its stack, block and kernel
    /// objects are given back.
    ///
    /// ```no_run
    /// # fn demo() -> Result<(), sys::thread::JoinError> {
    /// let worker = sys::thread::spawn(|| "done");
    /// // Waits for it to end; its stack and objects are given back.
    /// assert_eq!(worker.join()?, "done");
    /// # Ok(())
    /// # }
    /// ```
    pub fn join(mut self) -> Result<T, JoinError> {
        let Some(r) = self.resources.take() else { return Err(JoinError::Destroyed) };
        while !r.stopped() {
            // The exit Note is signalled when the task stops; a stale bit only makes us look again.
            if r.exit_note.wait().is_err() {
                yield_now();
            }
        }
        let info = r.task.info();
        r.free();
        if let Some(v) = self.packet.value.lock().take() {
            return Ok(v);
        }
        match info {
            Ok(i) if i.state == Ok(State::Faulted) => Err(JoinError::Faulted(i.detail)),
            Ok(i) if i.state == Ok(State::Exited) && i.detail as u64 != abi::task::DESTROYED => {
                Err(JoinError::Killed(i.detail))
            }
            _ => Err(JoinError::Destroyed),
        }
    }

    /// Lets the thread run on its own: its resources come back once it has stopped (see
    /// [`reclaim`]).
    ///
    /// ```no_run
    /// sys::thread::spawn(|| {
    ///     // ... a background job nobody waits for ...
    /// })
    /// .detach();
    /// // Its stack and objects come back once it has ended (at the next spawn, or now).
    /// sys::thread::reclaim();
    /// ```
    pub fn detach(mut self) {
        if let Some(r) = self.resources.take() {
            detach(r);
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(r) = self.resources.take() {
            detach(r);
        }
    }
}

static DETACHED: Mutex<[Option<Resources>; MAX_DETACHED]> = Mutex::new([const { None }; MAX_DETACHED]);

fn detach(r: Resources) {
    reclaim();
    let mut list = DETACHED.lock();
    match list.iter_mut().find(|s| s.is_none()) {
        Some(slot) => *slot = Some(r),
        None => {
            // No room to remember it: wait for it here rather than lose its resources.
            drop(list);
            while !r.stopped() {
                let _ = r.exit_note.wait();
            }
            r.free();
        }
    }
}

/// Gives back the resources of every detached thread that has stopped; returns how many.
///
/// ```no_run
/// use sys::thread;
///
/// for job in 0..8 {
///     thread::spawn(move || sys::println!("job {job}")).detach();
/// }
/// // Wait until they have all ended and their resources are back.
/// while thread::detached() > 0 {
///     thread::reclaim();
///     thread::yield_now();
/// }
/// ```
pub fn reclaim() -> usize {
    let mut done = 0;
    let mut list = DETACHED.lock();
    for slot in list.iter_mut() {
        if slot.as_ref().is_some_and(Resources::stopped)
            && let Some(r) = slot.take()
        {
            r.free();
            done += 1;
        }
    }
    done
}

/// Detached threads that have not been reclaimed yet.
///
/// ```no_run
/// use sys::thread;
///
/// thread::spawn(|| ()).detach();
/// sys::println!("{} detached threads not reclaimed yet", thread::detached());
/// ```
pub fn detached() -> usize {
    DETACHED.lock().iter().filter(|s| s.is_some()).count()
}

/// Makes threads with settings other than the defaults.
///
/// ```no_run
/// use sys::thread::Builder;
///
/// # fn demo() -> Result<(), sys::thread::SpawnError> {
/// let worker = Builder::new()
///     .stack_size(256 * 1024) // deep recursion ahead
///     .priority(50)
///     .spawn(|| 42)?;
/// assert_eq!(worker.join(), Ok(42));
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug)]
pub struct Builder {
    stack_bytes: usize,
    priority: Option<usize>,
    /// The supervisor's Endpoint and the badge its faults carry.
    supervisor: Option<(crate::ipc::Endpoint, usize)>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    /// The defaults: [`DEFAULT_STACK_BYTES`], the spawner's priority.
    ///
    /// ```no_run
    /// use sys::thread::Builder;
    ///
    /// // As `sys::thread::spawn`, but reporting an error rather than panicking.
    /// let worker = Builder::new().spawn(|| 1).expect("spawned");
    /// ```
    pub const fn new() -> Builder {
        Builder { stack_bytes: DEFAULT_STACK_BYTES, priority: None, supervisor: None }
    }

    /// A stack of `bytes` (rounded up to a power of two of pages; at most [`MAX_STACK_BYTES`]).
    ///
    /// ```no_run
    /// use sys::thread::{Builder, MAX_STACK_BYTES, SpawnError};
    ///
    /// let worker = Builder::new().stack_size(128 * 1024).spawn(|| ()).expect("spawned");
    /// // Beyond what a stack slot holds: refused.
    /// let too_big = Builder::new().stack_size(MAX_STACK_BYTES + 1).spawn(|| ());
    /// assert!(matches!(too_big, Err(SpawnError::BadStackSize)));
    /// ```
    pub const fn stack_size(mut self, bytes: usize) -> Builder {
        self.stack_bytes = bytes;
        self
    }

    /// Run at `priority` (at most the program's maximum controlled priority).
    ///
    /// ```no_run
    /// use sys::thread::Builder;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let mine = sys::process::task().expect("the program has its Task").info()?.priority;
    /// // A background thread that runs only when this one waits.
    /// let janitor = Builder::new().priority(mine.saturating_sub(1)).spawn(|| ()).expect("spawned");
    /// # Ok(())
    /// # }
    /// ```
    pub const fn priority(mut self, priority: usize) -> Builder {
        self.priority = Some(priority);
        self
    }

    /// Send the thread's faults to `supervisor` with `badge`, from its first instruction (see
    /// [`crate::fault`]). Without one, a fault stops the thread and `join` reports it.
    ///
    /// ```no_run
    /// use sys::fault::{FaultKind, Supervisor};
    /// use sys::thread::Builder;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let supervisor = Supervisor::new()?;
    /// let worker = Builder::new()
    ///     .supervised(&supervisor, 1)
    ///     // SAFETY: `ud2` raises an invalid-opcode fault and touches nothing else.
    ///     .spawn(|| unsafe { core::arch::asm!("ud2") })
    ///     .expect("spawned");
    /// let fault = supervisor.recv()?;
    /// assert_eq!((fault.badge, fault.kind()), (1, FaultKind::InvalidOpcode));
    /// // SAFETY: `worker` is a thread of this program: its spaces are the program's own.
    /// unsafe { fault.kill(worker.task().expect("a live thread"), 1)? };
    /// # Ok(())
    /// # }
    /// ```
    pub fn supervised(mut self, supervisor: &crate::fault::Supervisor, badge: usize) -> Builder {
        self.supervisor = Some((supervisor.endpoint(), badge));
        self
    }

    /// Spawns `f` on a new thread.
    ///
    /// ```no_run
    /// use sys::thread::{Builder, SpawnError};
    ///
    /// # fn demo() -> Result<(), SpawnError> {
    /// let data = [3u32, 1, 2];
    /// let worker = Builder::new().spawn(move || {
    ///     let mut data = data;
    ///     data.sort();
    ///     data
    /// })?;
    /// assert_eq!(worker.join(), Ok([1, 2, 3]));
    /// # Ok(())
    /// # }
    /// ```
    pub fn spawn<F, T>(self, f: F) -> Result<JoinHandle<T>, SpawnError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        reclaim();
        let (Some(memory), Some(cspace), Some(vspace), Some(me)) =
            (crate::process::memory(), crate::process::cspace(), crate::process::vspace(), crate::process::task())
        else {
            return Err(SpawnError::NoResources);
        };
        if self.stack_bytes == 0 || self.stack_bytes > MAX_STACK_BYTES {
            return Err(SpawnError::BadStackSize);
        }
        let mine = me.info()?;
        let priority = self.priority.unwrap_or(mine.priority);
        if priority > mine.max_priority.max(mine.priority) || priority > MAX_PRIORITY {
            return Err(SpawnError::BadPriority);
        }
        let packet = Arc::new(Packet { value: Mutex::new(None) });
        let stack = stack::Stack::map(self.stack_bytes)?;
        let parts = (|| -> Result<(Task, Note, Note), Error> {
            let park = Note::create(memory, Slot::Auto)?;
            let exit = match Note::create(memory, Slot::Auto) {
                Ok(n) => n,
                Err(e) => {
                    let _ = park.delete();
                    return Err(e);
                }
            };
            match Task::create(memory, Slot::Auto) {
                Ok(t) => Ok((t, park, exit)),
                Err(e) => {
                    let _ = park.delete();
                    let _ = exit.delete();
                    Err(e)
                }
            }
        })();
        let (task, park_note, exit_note) = match parts {
            Ok(p) => p,
            Err(e) => {
                stack.free();
                return Err(e.into());
            }
        };
        let resources = Resources { task, exit_note, park_note, stack };
        // SAFETY: the block goes at the top of the new stack, mapped read-write for this thread
        // alone, 64-byte aligned (`Stack::block_addr`).
        let fs_base = unsafe { block::make(resources.stack.block_addr(), park_note.slot(), task.slot()) };
        // SAFETY: `fs_base` was just made and the thread has not started.
        let id = unsafe { block::at(fs_base) }.id();
        let start = Box::into_raw(Box::new(Start { f, packet: packet.clone() }));
        let regs = Registers {
            rip: thread_main::<F, T> as *const () as usize as u64,
            rsp: resources.stack.initial_rsp() as u64,
            rdi: start.expose_provenance() as u64,
            rflags: 0x202,
            fs_base: fs_base as u64,
            ..Registers::default()
        };
        // SAFETY: the thread runs this program's code (`thread_main`, then `f`) on a stack that is
        // its alone, with its own thread block; the task was just made (no spaces to drop).
        let set_up = unsafe { task.set_space(cspace, vspace) }
            // SAFETY: as above: the code contract holds for `thread_main` on this stack.
            .and_then(|()| unsafe { task.write_regs(&regs) })
            .and_then(|()| task.set_exit_note(Some(exit_note), 1))
            .and_then(|()| task.set_priority(me, priority, 0))
            .and_then(|()| match self.supervisor {
                Some((endpoint, badge)) => supervise(task, endpoint, badge),
                None => Ok(()),
            })
            .and_then(|()| {
                // Recorded before the look at `exiting` (see `process::exiting`): a program that
                // is ending either ends this thread too or is seen here, and it never starts.
                resources.stack.set_task(task.slot());
                if crate::process::exiting() {
                    return Err(Error::Abi(abi::Error::InvalidState));
                }
                task.start()
            });
        if let Err(e) = set_up {
            // SAFETY: made by `Box::into_raw` above, never handed to a thread that ran.
            drop(unsafe { Box::from_raw(start) });
            resources.free();
            return Err(e.into());
        }
        Ok(JoinHandle { resources: Some(resources), packet, id })
    }
}

/// Sends `task`'s faults to `endpoint` with `badge`: a badged copy, which the task holds a
/// reference to itself, so the copy is deleted again.
pub(crate) fn supervise(task: Task, endpoint: crate::ipc::Endpoint, badge: usize) -> crate::error::Result<()> {
    let cspace = crate::process::cspace().ok_or(Error::Abi(abi::Error::InvalidCapability))?;
    let badged = crate::ipc::Endpoint::new(endpoint.mint(cspace, Slot::Auto, crate::rights::WRITE, badge)?);
    let set = task.set_fault_endpoint(Some(badged));
    let _ = badged.delete();
    set
}

/// Spawns `f` on a new thread with the default settings.
///
/// # Panics
/// If the thread cannot be made ([`Builder::spawn`] says why).
///
/// ```no_run
/// let worker = sys::thread::spawn(|| (1..=10u64).product::<u64>());
/// assert_eq!(worker.join(), Ok(3_628_800));
/// ```
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    match Builder::new().spawn(f) {
        Ok(h) => h,
        Err(e) => panic!("thread::spawn: {e:?}"),
    }
}

/// What a new thread starts with.
struct Start<F, T> {
    f: F,
    packet: Arc<Packet<T>>,
}

/// A new thread's first Rust function: runs the closure, leaves its value, drops its
/// thread-local values, and exits.
extern "C" fn thread_main<F, T>(start: usize) -> !
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let start = core::ptr::with_exposed_provenance_mut::<Start<F, T>>(start);
    // SAFETY: `spawn` passed the pointer `Box::into_raw` made, to this thread alone.
    let Start { f, packet } = *unsafe { Box::from_raw(start) };
    let value = f();
    *packet.value.lock() = Some(value);
    drop(packet);
    local::destroy_all();
    ipcbuf::release();
    crate::task::exit_thread(0)
}

/// Sleeps the calling thread for at least `us` microseconds, and at most about two timer ticks
/// ([`TICK_US`]) more, as the kernel's clock counts them: it never returns before a Timer armed
/// for `us` just before the call has fired. (A Timer fires on a tick, and the first tick may come
/// at once: the sleep's Timer is armed one tick longer than asked.) `sleep_us(0)` yields.
///
/// A Timer is made for the sleep, from the program's Memory, and deleted after: the Memory's
/// `used` is the same before and after.
///
/// # Errors
/// No Memory, or its quota spent (the Timer cannot be made); the thread has no park Note.
///
/// ```no_run
/// # fn demo(com2: sys::IoPort) -> sys::Result<()> {
/// // Poll for a byte every 50 ms, for a second at most.
/// for _ in 0..20 {
///     if com2.read8(0x2fd)? & 1 != 0 {
///         break;
///     }
///     sys::thread::sleep_us(50_000)?;
/// }
/// # Ok(())
/// # }
/// ```
pub fn sleep_us(us: usize) -> crate::error::Result<()> {
    if us == 0 {
        yield_now();
        return Ok(());
    }
    let me = block::current();
    let park = match me.park_note.load(core::sync::atomic::Ordering::Relaxed) {
        0 => return Err(Error::Abi(abi::Error::InvalidState)),
        slot => Note::at(slot),
    };
    let memory = crate::process::memory().ok_or(Error::Abi(abi::Error::InvalidCapability))?;
    let timer = Timer::create(memory, Slot::Auto)?;
    // The sleep's own bit: parking uses bit 0 (`sync::park`).
    const SLEEP_BIT: usize = 1 << 1;
    // Other bits taken on the way are stale wake-ups of earlier parks (a waker sets the flag
    // `park` looks at before it signals, so a park can return before the bit arrives): a sleeping
    // thread is parked nowhere, so nobody waits for them.
    let mut left = us;
    let waited = loop {
        // A Timer fires `ceil(delay / TICK_US)` ticks after it is armed, and the first of them
        // may come at once: one tick more than `us` needs makes the sleep never short. Longer
        // sleeps than a Timer takes go in steps.
        let step = left.min(MAX_TIMER_US - TICK_US);
        left -= step;
        let slept = timer.arm(park, SLEEP_BIT, step + TICK_US, 0).and_then(|()| {
            loop {
                if park.wait()? & SLEEP_BIT != 0 {
                    return Ok(());
                }
            }
        });
        if slept.is_err() || left == 0 {
            break slept;
        }
    };
    let _ = timer.delete();
    waited
}

const _: () = assert!(MAX_STACK_BYTES <= STACK_SLOT - PAGE_SIZE && STACKS_BASE.is_multiple_of(PAGE_SIZE));
