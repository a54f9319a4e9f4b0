//! Faults: a supervisor learns that a task it watches took an exception, decides what to do, and
//! resumes the task or ends it.
//!
//! The kernel sends a task's fault to its fault endpoint as a `call` made on the task's behalf
//! (`docs/abi.md`, "Faults"): the supervisor receives it ([`recv_fault`], [`Supervisor::recv`]) as a
//! [`Fault`]: which task (the badge of the fault endpoint capability the task was given), the
//! vector, the faulting address, `rip` and the error code. The task waits until the supervisor
//! answers through the reply right the receive gave it:
//! - [`Fault::resume`] runs the faulting instruction again (after, say, mapping the page it
//!   touched: the design's page-fault scenario);
//! - [`Fault::resume_at`] resumes it elsewhere (skipping the instruction, or at a handler);
//! - [`Fault::kill`] ends it with a status, as `task_kill`.
//!
//! The reply right belongs to the thread that received the fault, and only until that thread
//! receives its next message: answer a fault before receiving another, or [`Fault::save`] it
//! to answer later or from another thread. A supervisor may be a thread of the same program as
//! the tasks it watches: [`thread::Builder::supervised`](crate::thread::Builder::supervised)
//! makes a thread whose faults go to a [`Supervisor`] from its first instruction.
//!
//! ```no_run
//! use sys::fault::{FaultKind, Supervisor};
//! use sys::mmap::{self, Place};
//! use sys::thread::Builder;
//! use sys::vspace::access;
//!
//! # fn demo() -> Result<(), sys::Error> {
//! let supervisor = Supervisor::new()?;
//! let lazy: usize = 0x0000_2800_0000_0000;
//! let worker = Builder::new()
//!     .supervised(&supervisor, 1)
//!     .spawn(move || {
//!         // SAFETY (of the example): the supervisor maps the page before this read completes.
//!         unsafe { core::ptr::read_volatile(lazy as *const u64) }
//!     })
//!     .expect("spawn");
//! let fault = supervisor.recv()?;
//! if let FaultKind::Page(pf) = fault.kind() {
//!     let page = mmap::map_anonymous(1, access::RW, Place::At(pf.address & !0xfff)).expect("map");
//!     core::mem::forget(page); // stays mapped for the worker
//!     fault.resume()?;
//! }
//! assert_eq!(worker.join(), Ok(0));
//! # Ok(())
//! # }
//! ```

use abi::task::fault::{ADDRESS, ERROR, RIP, VECTOR};

use crate::cap::Slot;
use crate::error::{Error, Result};
use crate::ipc::{Endpoint, Message, Reply, reply};
use crate::task::Task;

/// A fault a supervised task took, as its supervisor received it.
///
/// ```no_run
/// use sys::fault::{FaultKind, Supervisor};
///
/// /// Serves the faults of the threads `supervisor` watches: divide errors end the thread, any
/// /// other fault is reported and ends it too.
/// fn serve(supervisor: &Supervisor, workers: &[sys::Task]) -> sys::Result<()> {
///     loop {
///         let fault = supervisor.recv()?;
///         // The badge says which worker (it was given `badge` = its index).
///         let task = workers[fault.badge];
///         sys::println!("worker {} faulted at {:#x}: {:?}", fault.badge, fault.rip, fault.kind());
///         let status = if fault.kind() == FaultKind::Divide { 2 } else { 1 };
///         // SAFETY: the workers are threads of this program: their spaces are the program's
///         // own, which its main Task holds too, so nothing dies with them.
///         unsafe { fault.kill(task, status)? };
///     }
/// }
/// ```
#[derive(Debug, PartialEq, Eq)]
#[must_use = "the faulting task waits until the fault is answered"]
pub struct Fault {
    /// The badge of the fault endpoint capability the task was given: which task it is.
    pub badge: usize,
    /// The exception vector.
    pub vector: usize,
    /// The faulting address (CR2) for a page fault, else 0.
    pub address: usize,
    /// The address of the faulting instruction.
    pub rip: usize,
    /// The error code the CPU pushed (0 if it pushed none).
    pub error_code: usize,
}

/// What kind of fault it was.
///
/// ```no_run
/// use sys::fault::{Access, Fault, FaultKind};
///
/// fn describe(fault: &Fault) {
///     match fault.kind() {
///         FaultKind::Page(pf) if pf.access == Access::Write && pf.present => {
///             sys::println!("write to read-only memory at {:#x}", pf.address)
///         }
///         FaultKind::Page(pf) => sys::println!("nothing mapped at {:#x}", pf.address),
///         FaultKind::GeneralProtection(selector) => sys::println!("#GP, error code {selector:#x}"),
///         FaultKind::InvalidOpcode => sys::println!("ud2 or a bad instruction at {:#x}", fault.rip),
///         other => sys::println!("{other:?}"),
///     }
/// }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum FaultKind {
    /// A page fault (vector 14).
    Page(PageFault),
    /// A divide error (vector 0).
    Divide,
    /// A breakpoint (`int3`, vector 3).
    Breakpoint,
    /// An invalid opcode (`ud2`, vector 6).
    InvalidOpcode,
    /// A general protection fault (vector 13), with its error code (a selector, or 0).
    GeneralProtection(usize),
    /// An alignment check (vector 17).
    AlignmentCheck,
    /// An x87 (16) or SIMD (19) floating-point exception.
    FloatingPoint(usize),
    /// Any other vector.
    Other(usize),
}

/// A page fault, decoded.
///
/// ```no_run
/// use sys::fault::{FaultKind, Supervisor};
/// use sys::mmap::{self, Place};
/// use sys::vspace::access;
///
/// /// Maps zeroed memory wherever a watched thread touches an unmapped page of `lazy`, and lets
/// /// it go on; any other fault is left unanswered.
/// fn serve(supervisor: &Supervisor, lazy: core::ops::Range<usize>) -> sys::Result<()> {
///     loop {
///         let fault = supervisor.recv()?;
///         let FaultKind::Page(pf) = fault.kind() else { return Ok(()) };
///         if pf.present || !lazy.contains(&pf.address) {
///             return Ok(());
///         }
///         let page = mmap::map_anonymous(1, access::RW, Place::At(pf.address & !0xfff)).expect("mapped");
///         core::mem::forget(page); // stays mapped for the thread
///         fault.resume()?;
///     }
/// }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct PageFault {
    /// The address touched.
    pub address: usize,
    /// How it was touched.
    pub access: Access,
    /// Whether a page was mapped there (a protection violation) or not.
    pub present: bool,
}

/// How a faulting access touched memory.
///
/// ```
/// use sys::fault::{Access, Fault, FaultKind};
///
/// // A page fault's error code says how the memory was touched: here a write (bit 1).
/// let fault = Fault { badge: 1, vector: 14, address: 0x5000, rip: 0x40_1000, error_code: 0b010 };
/// let FaultKind::Page(pf) = fault.kind() else { panic!("a page fault") };
/// assert_eq!(pf.access, Access::Write);
/// # core::mem::forget(fault);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// A read.
    Read,
    /// A write.
    Write,
    /// An instruction fetch.
    Execute,
}

/// Page-fault error code bits (Intel SDM vol. 3, 4.7).
const PF_PRESENT: usize = 1 << 0;
const PF_WRITE: usize = 1 << 1;
const PF_FETCH: usize = 1 << 4;

impl Fault {
    /// The fault in a message received on a fault endpoint.
    ///
    /// ```
    /// use sys::Message;
    /// use sys::fault::{Fault, FaultKind};
    ///
    /// // A fault message as an Endpoint receives it: the words laid out as `abi::task::fault` says.
    /// let m = Message::plain(2, [13, 0, 0x40_1234, 0x18, 0]);
    /// let fault = Fault::from_message(&m);
    /// assert_eq!((fault.badge, fault.rip), (2, 0x40_1234));
    /// assert_eq!(fault.kind(), FaultKind::GeneralProtection(0x18));
    /// # core::mem::forget(fault);
    /// ```
    pub const fn from_message(m: &Message) -> Fault {
        Fault {
            badge: m.badge,
            vector: m.words[VECTOR],
            address: m.words[ADDRESS],
            rip: m.words[RIP],
            error_code: m.words[ERROR],
        }
    }

    /// What kind of fault it was.
    ///
    /// ```
    /// use sys::fault::{Access, Fault, FaultKind};
    /// let f = Fault { badge: 1, vector: 14, address: 0x5000, rip: 0x401000, error_code: 0b110 };
    /// let FaultKind::Page(pf) = f.kind() else { panic!() };
    /// assert_eq!((pf.address, pf.access, pf.present), (0x5000, Access::Write, false));
    /// # core::mem::forget(f);
    /// ```
    pub fn kind(&self) -> FaultKind {
        match self.vector {
            0 => FaultKind::Divide,
            3 => FaultKind::Breakpoint,
            6 => FaultKind::InvalidOpcode,
            13 => FaultKind::GeneralProtection(self.error_code),
            14 => FaultKind::Page(PageFault {
                address: self.address,
                access: if self.error_code & PF_FETCH != 0 {
                    Access::Execute
                } else if self.error_code & PF_WRITE != 0 {
                    Access::Write
                } else {
                    Access::Read
                },
                present: self.error_code & PF_PRESENT != 0,
            }),
            17 => FaultKind::AlignmentCheck,
            v @ (16 | 19) => FaultKind::FloatingPoint(v),
            v => FaultKind::Other(v),
        }
    }

    /// Resumes the task at the faulting instruction, which runs again: answers the fault through
    /// the reply right of the calling thread's last receive.
    ///
    /// # Errors
    /// `InvalidState`: the calling thread holds no reply right (it received something else since,
    /// or the task is gone).
    ///
    /// ```no_run
    /// use sys::fault::{FaultKind, Supervisor};
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo(supervisor: &Supervisor) -> sys::Result<()> {
    /// let fault = supervisor.recv()?;
    /// if let FaultKind::Page(pf) = fault.kind() {
    ///     // Map the page it touched, then run the faulting instruction again.
    ///     let page = mmap::map_anonymous(1, access::RW, Place::At(pf.address & !0xfff)).expect("mapped");
    ///     core::mem::forget(page);
    ///     fault.resume()?;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume(self) -> Result<()> {
        reply([0; 5])
    }

    /// Resumes `task` (the task that faulted) at `rip` instead, its other registers unchanged.
    ///
    /// # Errors
    /// As [`Task::read_regs`] and [`Task::write_regs`] (capability errors, a non-canonical `rip`),
    /// then as [`resume`](Self::resume).
    ///
    /// # Safety
    /// The [code contract](crate::safety#the-code-contract): if `task` runs in the caller's address
    /// space, `rip` must be code that is sound to run there with the task's registers and stack.
    ///
    /// ```no_run
    /// # fn demo(supervisor: &sys::fault::Supervisor, child: sys::Task, handler: usize) -> sys::Result<()> {
    /// // `child` runs another program, in spaces of its own; it registered `handler` for its faults.
    /// let fault = supervisor.recv()?;
    /// // SAFETY: `child` runs in a VSpace and a CSpace of its own: whatever it runs cannot reach
    /// // this program's memory or slots.
    /// unsafe { fault.resume_at(child, handler)? };
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn resume_at(self, task: Task, rip: usize) -> Result<()> {
        let mut regs = task.read_regs()?;
        regs.rip = rip as u64;
        // SAFETY: the caller keeps the code contract for `rip`.
        unsafe { task.write_regs(&regs) }?;
        self.resume()
    }

    /// Ends `task` (the task that faulted) with `status`, as `task_kill`; the reply right goes
    /// with it.
    ///
    /// # Errors
    /// As [`Task::kill`].
    ///
    /// # Safety
    /// As [`Task::kill`]: the [teardown contract](crate::safety#the-teardown-contract) for the
    /// task's references to its spaces (for a thread of the caller's own program it holds: the
    /// caller's own Task holds those spaces too).
    ///
    /// ```no_run
    /// use sys::fault::Supervisor;
    /// use sys::thread::{Builder, JoinError};
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let supervisor = Supervisor::new()?;
    /// let worker = Builder::new()
    ///     .supervised(&supervisor, 1)
    ///     // SAFETY: `ud2` raises an invalid-opcode fault and touches nothing else.
    ///     .spawn(|| unsafe { core::arch::asm!("ud2") })
    ///     .expect("spawned");
    /// let task = worker.task().expect("a live thread");
    /// let fault = supervisor.recv()?;
    /// // SAFETY: `task` is a thread of this program: its spaces are the program's own, which the
    /// // program's main Task holds too, so nothing dies with it.
    /// unsafe { fault.kill(task, 8)? };
    /// assert_eq!(worker.join(), Err(JoinError::Killed(8)));
    /// # Ok(())
    /// # }
    /// ```
    pub unsafe fn kill(self, task: Task, status: usize) -> Result<()> {
        // SAFETY: the caller keeps the teardown contract.
        unsafe { task.kill(status) }
    }

    /// Keeps the reply right in a capability (in `dst`), to answer the fault later or from
    /// another thread: [`SavedFault::resume`].
    ///
    /// # Errors
    /// As [`Reply::save`].
    ///
    /// ```no_run
    /// use sys::Slot;
    /// use sys::fault::Supervisor;
    ///
    /// # fn demo(supervisor: &Supervisor) -> sys::Result<()> {
    /// let fault = supervisor.recv()?;
    /// // Hand the answer to another thread; this one goes on receiving faults.
    /// let saved = fault.save(Slot::Auto)?;
    /// sys::thread::spawn(move || {
    ///     // ... fetch the page's contents from wherever they live ...
    ///     saved.resume()
    /// });
    /// # Ok(())
    /// # }
    /// ```
    pub fn save(self, dst: Slot) -> Result<SavedFault> {
        Ok(SavedFault { reply: Reply::save(dst)?, fault: self })
    }
}

/// A fault whose reply right is kept in a capability ([`Fault::save`]).
///
/// ```no_run
/// use sys::Slot;
/// use sys::fault::SavedFault;
///
/// # fn demo(supervisor: &sys::fault::Supervisor) -> sys::Result<()> {
/// // Faults waiting for something slow, answered in the order they came.
/// let first: SavedFault = supervisor.recv()?.save(Slot::Auto)?;
/// let second: SavedFault = supervisor.recv()?.save(Slot::Auto)?;
/// for saved in [first, second] {
///     sys::println!("resuming the task of badge {}", saved.fault().badge);
///     saved.resume()?;
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
#[must_use = "the faulting task waits until the fault is answered"]
pub struct SavedFault {
    reply: Reply,
    fault: Fault,
}

impl SavedFault {
    /// The fault.
    ///
    /// ```no_run
    /// # fn demo(supervisor: &sys::fault::Supervisor) -> sys::Result<()> {
    /// let saved = supervisor.recv()?.save(sys::Slot::Auto)?;
    /// let address = saved.fault().address;
    /// sys::println!("page {:#x} requested", address & !0xfff);
    /// saved.resume()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn fault(&self) -> &Fault {
        &self.fault
    }

    /// Resumes the task at the faulting instruction; the reply capability is used up.
    ///
    /// # Errors
    /// As [`Reply::reply`].
    ///
    /// ```no_run
    /// use sys::abi::Error::InvalidState;
    ///
    /// # fn demo(supervisor: &sys::fault::Supervisor) -> sys::Result<()> {
    /// let saved = supervisor.recv()?.save(sys::Slot::Auto)?;
    /// match saved.resume() {
    ///     // The task is gone (ended meanwhile): nobody to resume.
    ///     Err(e) if e == InvalidState => {}
    ///     other => other?,
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume(self) -> Result<()> {
        self.reply.reply([0; 5])
    }
}

/// Receives the next fault sent to `endpoint`, waiting for one; the calling thread holds its
/// reply right (see the module docs). Everything sent to `endpoint` is taken for a fault: use an
/// Endpoint only for faults.
///
/// # Errors
/// The capability errors of `recv`.
///
/// ```no_run
/// use sys::fault::recv_fault;
///
/// # fn demo(child: sys::Task) -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let faults = sys::Endpoint::create(memory, sys::Slot::Auto)?;
/// child.set_fault_endpoint(Some(faults))?;
/// child.start()?;
/// let fault = recv_fault(faults)?;
/// sys::println!("child: vector {} at {:#x}", fault.vector, fault.rip);
/// // SAFETY: `child` runs another program, in spaces of its own that hold no Page mapped in
/// // this program's VSpace.
/// unsafe { fault.kill(child, 1)? };
/// # Ok(())
/// # }
/// ```
pub fn recv_fault(endpoint: Endpoint) -> Result<Fault> {
    endpoint.recv().map(|m| Fault::from_message(&m))
}

/// An Endpoint that receives the faults of the tasks it watches, told apart by badge.
///
/// ```no_run
/// use sys::fault::Supervisor;
/// use sys::thread::Builder;
///
/// # fn demo() -> sys::Result<()> {
/// let supervisor = Supervisor::new()?;
/// let worker = Builder::new()
///     .supervised(&supervisor, 7)
///     // SAFETY: `ud2` raises an invalid-opcode fault and touches nothing else.
///     .spawn(|| unsafe { core::arch::asm!("ud2") })
///     .expect("spawned");
/// let fault = supervisor.recv()?;
/// assert_eq!((fault.badge, fault.kind()), (7, sys::fault::FaultKind::InvalidOpcode));
/// // SAFETY: `worker` is a thread of this program: its spaces are the program's own.
/// unsafe { fault.kill(worker.task().expect("a live thread"), 1)? };
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Supervisor {
    endpoint: Endpoint,
}

impl Supervisor {
    /// A supervisor with a new Endpoint made from the program's Memory (deleted when it is
    /// dropped; the tasks it watches keep the Endpoint object alive and their faults wait there).
    ///
    /// # Errors
    /// No Memory (`InvalidCapability`); as [`Endpoint::create`].
    ///
    /// ```no_run
    /// use sys::abi::Error::InvalidCapability;
    /// use sys::fault::Supervisor;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let supervisor = match Supervisor::new() {
    ///     Ok(s) => s,
    ///     Err(e) if e == InvalidCapability => {
    ///         sys::println!("no Memory: this program cannot supervise");
    ///         return Err(e);
    ///     }
    ///     Err(e) => return Err(e),
    /// };
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> Result<Supervisor> {
        let memory = crate::process::memory().ok_or(Error::Abi(abi::Error::InvalidCapability))?;
        Ok(Supervisor { endpoint: Endpoint::create(memory, Slot::Auto)? })
    }

    /// The Endpoint faults arrive at.
    ///
    /// ```no_run
    /// use sys::fault::Supervisor;
    ///
    /// # fn demo(child: sys::Task) -> sys::Result<()> {
    /// let supervisor = Supervisor::new()?;
    /// // Another program's task, unbadged: its faults arrive with badge 0.
    /// child.set_fault_endpoint(Some(supervisor.endpoint()))?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// Sends `task`'s faults here from now on, with `badge` (which [`Fault::badge`] reports).
    ///
    /// # Errors
    /// As `cap_mint` and [`Task::set_fault_endpoint`].
    ///
    /// ```no_run
    /// use sys::fault::Supervisor;
    ///
    /// # fn demo(children: [sys::Task; 3]) -> sys::Result<()> {
    /// let supervisor = Supervisor::new()?;
    /// for (i, child) in children.into_iter().enumerate() {
    ///     supervisor.watch(child, i + 1)?;
    /// }
    /// let fault = supervisor.recv()?;
    /// sys::println!("child {} faulted", fault.badge);
    /// # let _ = fault.resume();
    /// # Ok(())
    /// # }
    /// ```
    pub fn watch(&self, task: Task, badge: usize) -> Result<()> {
        crate::thread::supervise(task, self.endpoint, badge)
    }

    /// Receives the next fault, waiting for one (see [`recv_fault`]).
    ///
    /// # Errors
    /// As [`recv_fault`].
    ///
    /// ```no_run
    /// # fn demo(supervisor: &sys::fault::Supervisor) -> sys::Result<()> {
    /// loop {
    ///     let fault = supervisor.recv()?;
    ///     sys::println!("badge {}: vector {} at {:#x}", fault.badge, fault.vector, fault.rip);
    ///     fault.resume()?;
    /// }
    /// # }
    /// ```
    pub fn recv(&self) -> Result<Fault> {
        recv_fault(self.endpoint)
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        let _ = self.endpoint.delete();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fault(vector: usize, error_code: usize) -> Fault {
        Fault { badge: 7, vector, address: 0x1234_5000, rip: 0x40_1000, error_code }
    }

    #[test]
    fn decodes_from_a_message() {
        let m = Message::plain(9, [14, 0x5000, 0x401234, 6, 0]);
        assert_eq!(
            Fault::from_message(&m),
            Fault { badge: 9, vector: 14, address: 0x5000, rip: 0x401234, error_code: 6 }
        );
    }

    #[test]
    fn kinds() {
        let page = |e| match fault(14, e).kind() {
            FaultKind::Page(p) => (p.access, p.present),
            k => panic!("{k:?}"),
        };
        assert_eq!(page(0b000), (Access::Read, false));
        assert_eq!(page(0b110), (Access::Write, false));
        assert_eq!(page(0b111), (Access::Write, true));
        assert_eq!(page(0b10101), (Access::Execute, true));
        assert_eq!(fault(0, 0).kind(), FaultKind::Divide);
        assert_eq!(fault(3, 0).kind(), FaultKind::Breakpoint);
        assert_eq!(fault(6, 0).kind(), FaultKind::InvalidOpcode);
        assert_eq!(fault(13, 0x18).kind(), FaultKind::GeneralProtection(0x18));
        assert_eq!(fault(17, 0).kind(), FaultKind::AlignmentCheck);
        assert_eq!(fault(19, 0).kind(), FaultKind::FloatingPoint(19));
        assert_eq!(fault(8, 0).kind(), FaultKind::Other(8));
    }
}
