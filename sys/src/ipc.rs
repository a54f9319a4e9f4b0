//! Synchronous IPC: the Endpoint syscalls (`endpoint_create`, `send`, `recv`, `call`, `reply`,
//! `reply_recv`, `nb_send`, `nb_recv`), `task_set_fault_endpoint`, and the typed handle
//! [`Endpoint`] over them.
//!
//! An Endpoint is a rendezvous point: a sender and a receiver meet, and a [`Message`] passes from
//! one to the other, in registers: five words and the *badge* of the capability the sender used
//! (0 for an unbadged one; [`Cap::mint`] badges Endpoint capabilities, so a server can tell its
//! clients apart). Whoever comes first waits, in FIFO order, for a partner: [`Endpoint::send`]
//! and [`Endpoint::recv`] block, [`Endpoint::nb_send`] and [`Endpoint::nb_recv`] answer
//! [`WouldBlock`](abi::Error::WouldBlock) instead.
//!
//! [`Endpoint::call`] sends and then waits for the answer: the receiver of a call holds a one-shot
//! *reply right* to its caller, used by [`reply`] (or [`Endpoint::reply_recv`], the server loop's
//! one call: answer the last client, wait for the next). A task holds at most one reply right: a
//! new call received replaces an unanswered one, whose caller then waits on with no one able to
//! answer it (until it is deleted).
//!
//! Sending needs WRITE on the Endpoint capability, receiving READ.
//!
//! Deferred replies: [`Reply::save`] moves the reply right out of the task into a [`Reply`]
//! capability, so that the server can receive other messages and answer later with
//! [`Reply::reply`], which uses the capability up. A Reply capability can be moved, never copied.
//!
//! Capabilities and words beyond the five in registers travel with messages through *IPC
//! buffers* ([`IpcBufferPage`], [`Task::set_ipc_buffer`]), when the message's [`Extra`] asks for
//! them: the `_with` forms ([`send_with`], [`call_with`], [`reply_with`], [`reply_recv_with`],
//! [`reply_to_with`] and the [`Endpoint`] and [`Reply`] methods of the same names) send extra
//! words the sender's buffer holds ([`IpcBufferPage::set_words`], at most [`MAX_EXTRA_WORDS`])
//! and, through an Endpoint capability with GRANT or with any reply (the reply right stands for
//! GRANT), a copy of the capability the buffer names, if the receiver's buffer says where to put
//! it. Every receive returns the [`Extra`] of what arrived in [`Message::extra`]
//! ([`IpcBufferPage::received_words`], [`IpcBufferPage::received`]). The plain forms send
//! nothing beyond the registers, and then the kernel touches neither buffer. Fault messages carry
//! nothing. The transfer is best effort: the message passes either way ([`abi::ipc`]).
//!
//! Faults: a task given a fault endpoint ([`Task::set_fault_endpoint`]) that faults sends a call on it,
//! on its own behalf, with the fault endpoint capability's badge and the words laid out in
//! [`abi::task::fault`]; it then waits for the reply, and runs on from the faulting instruction,
//! with its registers as the supervisor left them (see `task_write_regs`), or as a fault reply
//! sets them ([`fault_reply`], [`Endpoint::fault_reply_recv`], with a [`Resume`]).
//!
//! These calls are safe: the kernel checks every argument, and none of them reads or writes the
//! caller's memory or changes its mappings (the message travels in registers), except through an
//! IPC buffer: [`task_set_ipc_buffer`] is `unsafe` for that reason, and [`Task::set_ipc_buffer`]
//! is its safe form for an [`IpcBufferPage`]. None ends an object that could unmap anything:
//! [`reply_to`] deletes a Reply capability, which holds no reference, and
//! [`task_set_fault_endpoint`] may drop the last reference to an Endpoint, whose death only wakes
//! the tasks queued on it. [`Endpoint::delete`], [`Endpoint::revoke`] and [`Reply::delete`] are
//! the safe, checked forms of deletion (see [`safety`](crate::safety)). A blocking call may of
//! course wait forever if no partner ever comes.

use core::ops::Deref;
use core::sync::atomic::{AtomicU64, Ordering};

pub use abi::ipc::Extra;
use abi::ipc::{IpcBuffer, MAX_EXTRA_WORDS};
use abi::syscall::{ARG_REGS, Sysno};

use abi::object::Kind;

use crate::cap::{Cap, Memory, Slot, checked_delete, checked_revoke};
use crate::error::{Error, Result};
use crate::syscall::syscall;
use crate::task::Task;

/// Words in a message.
pub const MESSAGE_WORDS: usize = 5;

/// The words of a message.
pub type Words = [usize; MESSAGE_WORDS];

/// What a receive returns: the badge of the capability the sender used, its words, and what came
/// through the IPC buffer.
///
/// ```no_run
/// use sys::{Endpoint, Message};
///
/// # fn demo(service: Endpoint) -> sys::Result<()> {
/// // Clients hold capabilities minted with their own badges (`Cap::mint`).
/// let Message { badge, words, .. } = service.recv()?;
/// match badge {
///     0 => sys::println!("a message through the unbadged capability: {words:?}"),
///     client => sys::println!("client {client} sent {words:?}"),
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Message {
    /// The badge of the sender's Endpoint capability (0 if unbadged); for a fault message, the
    /// badge of the faulting task's fault endpoint capability.
    pub badge: usize,
    /// The five words sent.
    pub words: Words,
    /// What came with it through the receiver's IPC buffer: how many extra words are in it
    /// ([`IpcBufferPage::received_words`]), and whether a capability landed
    /// ([`IpcBufferPage::received`]). [`Extra::NONE`] for a plain message.
    pub extra: Extra,
}

impl Message {
    /// A message with nothing beyond its registers (what a plain send delivers).
    ///
    /// ```
    /// use sys::{Extra, Message};
    ///
    /// let m = Message::plain(3, [1, 2, 0, 0, 0]);
    /// assert_eq!((m.badge, m.words[1], m.extra), (3, 2, Extra::NONE));
    /// ```
    pub const fn plain(badge: usize, words: Words) -> Message {
        Message { badge, words, extra: Extra::NONE }
    }

    /// The message in the result registers of `recv` and friends: the badge, then the words;
    /// `extra` from the high half of `rax`.
    const fn from_results((out, extra): ([usize; ARG_REGS], Extra)) -> Message {
        Message { badge: out[0], words: [out[1], out[2], out[3], out[4], out[5]], extra }
    }
}

/// Makes an IPC syscall and returns its result registers.
fn ipc(number: Sysno, args: [usize; ARG_REGS]) -> Result<[usize; ARG_REGS]> {
    ipc_extra(number, Extra::NONE, args).map(|(out, _)| out)
}

/// Makes an IPC syscall with `extra` in the high half of `rax` (`Extra::NONE` for a call that
/// sends no message) and returns its result registers and the Extra of what it received (the
/// high half of `rax` on return; `Extra::NONE` for a call that receives nothing).
#[inline]
fn ipc_extra(number: Sysno, extra: Extra, args: [usize; ARG_REGS]) -> Result<([usize; ARG_REGS], Extra)> {
    // SAFETY: the IPC syscalls (and `task_set_fault_endpoint`) neither read nor write the
    // caller's memory nor change its mappings, whatever their arguments: the message is passed in
    // registers, and what goes through the IPC buffer goes through a page the task named with
    // `task_set_ipc_buffer`, whose contract covers it. So `syscall`'s memory contract holds.
    let (rax, out) = unsafe { syscall(number as usize | extra.to_rax() as usize, args) };
    Error::check(rax & 0xffff_ffff)?;
    Ok((out, Extra::received(rax as u64)))
}

/// The argument registers of a call that names `endpoint` and sends `words`.
const fn with_words(endpoint: usize, w: Words) -> [usize; ARG_REGS] {
    [endpoint, w[0], w[1], w[2], w[3], w[4]]
}

/// `endpoint_create(memory, dst_slot) -> slot`: makes an Endpoint in `dst_slot` (or
/// [`SLOT_AUTO`](abi::syscall::SLOT_AUTO)) of the caller's CSpace, charged one page to `memory`.
/// See [`Sysno::EndpointCreate`], and [`Endpoint::create`] for the typed form.
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
/// use sys::ipc::endpoint_create;
///
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let slot = endpoint_create(memory.slot(), SLOT_AUTO)?;
/// let endpoint = sys::Endpoint::at(slot);
/// # Ok(())
/// # }
/// ```
pub fn endpoint_create(memory: usize, dst_slot: usize) -> Result<usize> {
    Ok(ipc(Sysno::EndpointCreate, [memory, dst_slot, 0, 0, 0, 0])?[0])
}

/// `send(endpoint, w0..w4)`: gives `words` to a receiver of `endpoint`, waiting for one. See
/// [`Sysno::Send`].
///
/// ```no_run
/// # fn demo(log: sys::Endpoint) -> sys::Result<()> {
/// // Hand a log server an event code and two values, waiting until it takes them.
/// sys::ipc::send(log.slot(), [17, 0x2f8, 4, 0, 0])?;
/// # Ok(())
/// # }
/// ```
pub fn send(endpoint: usize, words: Words) -> Result<()> {
    ipc(Sysno::Send, with_words(endpoint, words)).map(drop)
}

/// [`send`] with what `extra` asks for through the IPC buffers: the first `extra.words` words of
/// the caller's buffer, and (through a capability with GRANT) the capability its `send_cap`
/// names. `InvalidArgument` for more than [`MAX_EXTRA_WORDS`] words.
///
/// ```no_run
/// # fn demo(log: sys::Endpoint) -> sys::Result<()> {
/// let extra = sys::thread::with_ipc_buffer(|b| b.set_words(&[1, 2, 3]))?;
/// sys::ipc::send_with(log.slot(), [17, 0, 0, 0, 0], extra)?;
/// # Ok(())
/// # }
/// ```
pub fn send_with(endpoint: usize, words: Words, extra: Extra) -> Result<()> {
    ipc_extra(Sysno::Send, extra, with_words(endpoint, words)).map(drop)
}

/// `nb_send(endpoint, w0..w4)`: [`send`] only if a receiver waits, else
/// [`WouldBlock`](abi::Error::WouldBlock). See [`Sysno::NbSend`].
///
/// ```no_run
/// use sys::abi::Error::WouldBlock;
///
/// # fn demo(log: sys::Endpoint) -> sys::Result<()> {
/// // Only if the log server is waiting right now; a busy server loses the event.
/// match sys::ipc::nb_send(log.slot(), [17, 0, 0, 0, 0]) {
///     Err(e) if e == WouldBlock => {}
///     other => other?,
/// }
/// # Ok(())
/// # }
/// ```
pub fn nb_send(endpoint: usize, words: Words) -> Result<()> {
    ipc(Sysno::NbSend, with_words(endpoint, words)).map(drop)
}

/// [`nb_send`] with what `extra` asks for, as [`send_with`].
///
/// ```no_run
/// # fn demo(log: sys::Endpoint) -> sys::Result<()> {
/// let extra = sys::thread::with_ipc_buffer(|b| b.set_words(&[9]))?;
/// let _ = sys::ipc::nb_send_with(log.slot(), [17, 0, 0, 0, 0], extra);
/// # Ok(())
/// # }
/// ```
pub fn nb_send_with(endpoint: usize, words: Words, extra: Extra) -> Result<()> {
    ipc_extra(Sysno::NbSend, extra, with_words(endpoint, words)).map(drop)
}

/// `recv(endpoint) -> (badge, w0..w4)`: takes a message from `endpoint`, waiting for one. See
/// [`Sysno::Recv`].
///
/// ```no_run
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// let msg = sys::ipc::recv(service.slot())?;
/// sys::println!("badge {}: {:?}", msg.badge, msg.words);
/// # Ok(())
/// # }
/// ```
pub fn recv(endpoint: usize) -> Result<Message> {
    ipc_extra(Sysno::Recv, Extra::NONE, [endpoint, 0, 0, 0, 0, 0]).map(Message::from_results)
}

/// `nb_recv(endpoint) -> (badge, w0..w4)`: [`recv`] only if a sender waits, else
/// [`WouldBlock`](abi::Error::WouldBlock). See [`Sysno::NbRecv`].
///
/// ```no_run
/// use sys::abi::Error::WouldBlock;
///
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// // Drain what is waiting, then go on.
/// loop {
///     match sys::ipc::nb_recv(service.slot()) {
///         Ok(msg) => sys::println!("queued: {:?}", msg.words),
///         Err(e) if e == WouldBlock => break,
///         Err(e) => return Err(e),
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub fn nb_recv(endpoint: usize) -> Result<Message> {
    ipc_extra(Sysno::NbRecv, Extra::NONE, [endpoint, 0, 0, 0, 0, 0]).map(Message::from_results)
}

/// `call(endpoint, w0..w4) -> (0, r0..r4)`: sends `words` on `endpoint`, then waits for the reply
/// and returns its words. See [`Sysno::Call`].
///
/// ```no_run
/// # fn demo(clock: sys::Endpoint) -> sys::Result<()> {
/// // Ask a clock server for the time; the answer is the reply's words.
/// const NOW: usize = 1;
/// let answer = sys::ipc::call(clock.slot(), [NOW, 0, 0, 0, 0])?;
/// sys::println!("{} s", answer[0]);
/// # Ok(())
/// # }
/// ```
pub fn call(endpoint: usize, words: Words) -> Result<Words> {
    let out = ipc(Sysno::Call, with_words(endpoint, words))?;
    Ok([out[1], out[2], out[3], out[4], out[5]])
}

/// [`call`] with what `extra` asks for, as [`send_with`]; returns the reply as a [`Message`]
/// (badge 0), whose `extra` says what the reply brought.
///
/// ```no_run
/// use sys::Slot;
///
/// # fn demo(files: sys::Endpoint) -> sys::Result<()> {
/// sys::thread::with_ipc_buffer(|b| {
///     let extra = b.set_words(&[0x2f, 0x6574]);
///     b.set_recv_slot(Some(Slot::Auto));
///     let reply = sys::ipc::call_with(files.slot(), [1, 10, 0, 0, 0], extra)?;
///     b.set_recv_slot(None);
///     let (words, n) = b.received_words(reply.extra);
///     sys::println!("{:?}, a capability: {:?}", &words[..n], b.received(reply.extra));
///     Ok(())
/// })?
/// # }
/// ```
pub fn call_with(endpoint: usize, words: Words, extra: Extra) -> Result<Message> {
    ipc_extra(Sysno::Call, extra, with_words(endpoint, words)).map(Message::from_results)
}

/// `reply(w0..w4)`: answers the call the caller received last, and still holds the reply right
/// for: the caller of [`Endpoint::call`] gets `words`. A fault message is answered the same way;
/// the faulted task then runs on from the faulting instruction (the words are ignored). See
/// [`Sysno::Reply`].
///
/// Errors: [`InvalidState`](abi::Error::InvalidState) if there is no call to answer (none
/// received, already answered, or its caller is gone).
///
/// ```no_run
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// let request = service.recv()?;
/// // Answer the call just received: its caller's `call` returns these words.
/// sys::ipc::reply([request.words[0] * 2, 0, 0, 0, 0])?;
/// # Ok(())
/// # }
/// ```
pub fn reply(words: Words) -> Result<()> {
    ipc(Sysno::Reply, [words[0], words[1], words[2], words[3], words[4], 0]).map(drop)
}

/// [`reply`] with what `extra` asks for, as [`send_with`] (a reply may always carry a
/// capability).
///
/// ```no_run
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// service.recv()?;
/// let extra = sys::thread::with_ipc_buffer(|b| b.set_words(&[4, 5, 6]))?;
/// sys::ipc::reply_with([0; 5], extra)?;
/// # Ok(())
/// # }
/// ```
pub fn reply_with(words: Words, extra: Extra) -> Result<()> {
    ipc_extra(Sysno::Reply, extra, [words[0], words[1], words[2], words[3], words[4], 0]).map(drop)
}

/// `reply_recv(endpoint, w0..w4) -> (badge, w0..w4)`: answers the last call received with
/// `words` (if there is one to answer), then receives on `endpoint`. The endpoint capability is
/// checked first: with a bad one, nobody is answered. See [`Sysno::ReplyRecv`].
///
/// ```no_run
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// // A server: one system call per request, answering the last and waiting for the next.
/// let mut request = sys::ipc::recv(service.slot())?;
/// loop {
///     let answer = [request.words[0] + request.words[1], 0, 0, 0, 0];
///     request = sys::ipc::reply_recv(service.slot(), answer)?;
/// }
/// # }
/// ```
pub fn reply_recv(endpoint: usize, words: Words) -> Result<Message> {
    ipc_extra(Sysno::ReplyRecv, Extra::NONE, with_words(endpoint, words)).map(Message::from_results)
}

/// [`reply_recv`] whose reply carries what `extra` asks for, as [`reply_with`].
///
/// ```no_run
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// let mut request = service.recv()?;
/// loop {
///     let extra = sys::thread::with_ipc_buffer(|b| b.set_words(&[request.words[0] as u64]))?;
///     request = sys::ipc::reply_recv_with(service.slot(), [0; 5], extra)?;
/// }
/// # }
/// ```
pub fn reply_recv_with(endpoint: usize, words: Words, extra: Extra) -> Result<Message> {
    ipc_extra(Sysno::ReplyRecv, extra, with_words(endpoint, words)).map(Message::from_results)
}

/// `task_set_fault_endpoint(task, endpoint)`: the task's faults go to `endpoint` as calls, with
/// that capability's badge; `endpoint` 0 removes it. Needs WRITE on both. See
/// [`Sysno::TaskSetFaultEndpoint`] and [`Task::set_fault_endpoint`].
///
/// ```no_run
/// use sys::{Endpoint, Slot, Task};
///
/// # fn demo(worker: Task) -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let faults = Endpoint::create(memory, Slot::Auto)?;
/// sys::ipc::task_set_fault_endpoint(worker.slot(), faults.slot())?;
/// // ... and 0 takes it away again.
/// sys::ipc::task_set_fault_endpoint(worker.slot(), 0)?;
/// # Ok(())
/// # }
/// ```
pub fn task_set_fault_endpoint(task: usize, endpoint: usize) -> Result<()> {
    ipc(Sysno::TaskSetFaultEndpoint, [task, endpoint, 0, 0, 0, 0]).map(drop)
}

/// `reply_save(dst_slot) -> slot`: moves the reply right of the last call received into a Reply
/// capability in `dst_slot` (or [`SLOT_AUTO`](abi::syscall::SLOT_AUTO)) of the caller's CSpace.
/// See [`Sysno::ReplySave`]
/// and [`Reply::save`].
///
/// Errors: [`InvalidState`](abi::Error::InvalidState) (no call to answer); slot errors as for
/// `cap_copy`.
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// let request = service.recv()?;
/// // Keep the right to answer this call in a slot, and serve others meanwhile.
/// let reply = sys::ipc::reply_save(SLOT_AUTO)?;
/// // ... later:
/// sys::ipc::reply_to(reply, [0; 5])?;
/// # Ok(())
/// # }
/// ```
pub fn reply_save(dst_slot: usize) -> Result<usize> {
    Ok(ipc(Sysno::ReplySave, [dst_slot, 0, 0, 0, 0, 0])?[0])
}

/// `reply_to(reply, w0..w4)`: answers through the Reply capability `reply`, which is used up
/// (its slot is empty afterwards). See [`Sysno::ReplyTo`] and [`Reply::reply`].
///
/// Errors: capability errors (a Reply capability); [`InvalidState`](abi::Error::InvalidState) if
/// its caller no longer waits for this reply.
///
/// ```no_run
/// use sys::abi::Error::InvalidState;
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// service.recv()?;
/// let reply = sys::ipc::reply_save(SLOT_AUTO)?;
/// match sys::ipc::reply_to(reply, [42, 0, 0, 0, 0]) {
///     // The caller is gone (or no longer waits): nobody to answer.
///     Err(e) if e == InvalidState => sys::println!("caller gone"),
///     other => other?,
/// }
/// # Ok(())
/// # }
/// ```
pub fn reply_to(reply: usize, words: Words) -> Result<()> {
    ipc(Sysno::ReplyTo, with_words(reply, words)).map(drop)
}

/// [`reply_to`] with what `extra` asks for, as [`reply_with`].
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// service.recv()?;
/// let reply = sys::ipc::reply_save(SLOT_AUTO)?;
/// let extra = sys::thread::with_ipc_buffer(|b| b.set_words(&[42]))?;
/// sys::ipc::reply_to_with(reply, [0; 5], extra)?;
/// # Ok(())
/// # }
/// ```
pub fn reply_to_with(reply: usize, words: Words, extra: Extra) -> Result<()> {
    ipc_extra(Sysno::ReplyTo, extra, with_words(reply, words)).map(drop)
}

/// `task_set_ipc_buffer(task, vaddr)`: makes the page at `vaddr` (page-aligned, or 0 for none) the
/// task's IPC buffer, an [`abi::ipc::IpcBuffer`] at the start of the page. See
/// [`Sysno::TaskSetIpcBuffer`]; [`Task::set_ipc_buffer`] is the safe form.
///
/// Errors: capability errors for `task` (WRITE needed); `InvalidArgument` (`vaddr` unaligned or
/// outside the user range).
///
/// # Safety
///
/// From then on, whenever the task receives a message or a reply that brings something through
/// the buffers (its sender's [`Extra`] was not `NONE`), the kernel may write the `received_slot`
/// field and the first `extra.words` of `words` (all within the first
/// `size_of::<IpcBuffer>()` bytes at `vaddr`) in the task's VSpace, and it reads the header and
/// the first `extra.words` words whenever the task sends, calls or replies with an Extra, and
/// `recv_slot` whenever a capability comes to it. If the task runs in the caller's address space, that memory
/// must be memory the kernel may read and write at those times with no live Rust reference to it
/// (other than through interior mutability that allows it, as [`IpcBufferPage`] does), for as
/// long as it is the task's buffer.
///
/// If `task` is a thread of the runtime's, the runtime notices: the next time the thread asks
/// for its own buffer ([`with_ipc_buffer`](crate::thread::with_ipc_buffer)) it makes that the
/// task's buffer again.
///
/// ```no_run
/// use sys::IpcBufferPage;
///
/// static BUFFER: IpcBufferPage = IpcBufferPage::new();
///
/// # fn demo() -> sys::Result<()> {
/// let me = sys::process::task().expect("the program has its Task");
/// // SAFETY: `BUFFER` is a static page of atomics: the kernel may read and write it at any
/// // time, through no reference of the program's, for as long as the program lives.
/// unsafe { sys::ipc::task_set_ipc_buffer(me.slot(), BUFFER.addr())? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn task_set_ipc_buffer(task: usize, vaddr: usize) -> Result<()> {
    // SAFETY: the caller's promise, passed on.
    let r = unsafe { set_ipc_buffer_raw(task, vaddr) };
    if r.is_ok() {
        crate::thread::ipc_buffer_replaced(task);
    }
    r
}

/// `task_set_ipc_buffer`, without telling the runtime (for the runtime itself).
///
/// # Safety
/// As [`task_set_ipc_buffer`].
pub(crate) unsafe fn set_ipc_buffer_raw(task: usize, vaddr: usize) -> Result<()> {
    // SAFETY: the call itself touches no memory of the caller; later transfers do, as the caller
    // vouches for.
    let (rax, _) = unsafe { syscall(Sysno::TaskSetIpcBuffer as usize, [task, vaddr, 0, 0, 0, 0]) };
    Error::check(rax)
}

/// What a fault reply sets in the faulted task ([`fault_reply`], [`Endpoint::fault_reply_recv`]):
/// each register given takes that value, every other keeps its own. The default sets nothing:
/// the task runs on from the faulting instruction, as after a plain [`reply`].
///
/// ```
/// use sys::ipc::Resume;
///
/// // Step over a 2-byte `ud2` and hand the task a result in `rax`.
/// let r = Resume { rax: Some(7), ..Resume::at(0x40_1002) };
/// assert_eq!((r.rip, r.rsp, r.rax, r.rdi), (Some(0x40_1002), None, Some(7), None));
/// assert_eq!(Resume::default().encode().0, 0, "the default sets nothing");
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Resume {
    /// Where the task resumes (a canonical user address, else `InvalidArgument`).
    pub rip: Option<usize>,
    /// Its stack pointer.
    pub rsp: Option<usize>,
    /// Its `rax`.
    pub rax: Option<usize>,
    /// Its `rdi` (the first argument register).
    pub rdi: Option<usize>,
}

impl Resume {
    /// Resume at `rip`, every other register as it is (to step over an instruction, say).
    ///
    /// ```
    /// use sys::ipc::Resume;
    ///
    /// assert_eq!(Resume::at(0x40_1000), Resume { rip: Some(0x40_1000), ..Resume::default() });
    /// ```
    pub const fn at(rip: usize) -> Resume {
        Resume { rip: Some(rip), rsp: None, rax: None, rdi: None }
    }

    /// The `set` mask and the four values, as the syscalls take them
    /// ([`abi::task::fault::reply`]).
    ///
    /// ```
    /// use sys::abi::task::fault::reply;
    /// use sys::ipc::Resume;
    ///
    /// let (set, values) = Resume { rdi: Some(3), ..Resume::at(0x40_1000) }.encode();
    /// assert_eq!(set, reply::RIP | reply::RDI);
    /// assert_eq!(values, [0x40_1000, 0, 0, 3], "rip, rsp, rax, rdi; unset ones 0");
    /// ```
    pub const fn encode(self) -> (usize, [usize; 4]) {
        use abi::task::fault::reply;
        let mut set = 0;
        let mut values = [0; 4];
        if let Some(v) = self.rip {
            set |= reply::RIP;
            values[0] = v;
        }
        if let Some(v) = self.rsp {
            set |= reply::RSP;
            values[1] = v;
        }
        if let Some(v) = self.rax {
            set |= reply::RAX;
            values[2] = v;
        }
        if let Some(v) = self.rdi {
            set |= reply::RDI;
            values[3] = v;
        }
        (set, values)
    }
}

/// `fault_reply(set, rip, rsp, rax, rdi)`: answers the fault message the caller received last,
/// setting the registers `resume` gives; the faulted task runs on from its (new) `rip`. See
/// [`Sysno::FaultReply`]. (A plain [`reply`] to a fault message still works: the task then runs
/// on with its registers as they are.)
///
/// Errors: [`InvalidArgument`](abi::Error::InvalidArgument) (a `rip` that is not a canonical
/// user address); [`InvalidState`](abi::Error::InvalidState) (no reply right, or one that
/// answers a plain call).
///
/// # Safety
///
/// As [`Task::write_regs`]: it decides what code the faulted task runs and on what stack (the
/// [code contract](crate::safety#the-code-contract)).
///
/// ```no_run
/// use sys::ipc::Resume;
///
/// # fn demo(faults: sys::Endpoint) -> sys::Result<()> {
/// let m = faults.recv()?;
/// let rip = m.words[sys::abi::task::fault::RIP];
/// // SAFETY: the faulted thread is ours; the instruction at `rip` is a 2-byte `ud2` it runs to
/// // ask for this, and the code after it is its own.
/// unsafe { sys::ipc::fault_reply(Resume::at(rip + 2))? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn fault_reply(resume: Resume) -> Result<()> {
    let (set, v) = resume.encode();
    ipc(Sysno::FaultReply, [set, v[0], v[1], v[2], v[3], 0]).map(drop)
}

/// An Endpoint capability: a rendezvous point for synchronous messages (see the
/// [module docs](self)).
///
/// ```no_run
/// use sys::{Endpoint, Slot};
///
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let adder = Endpoint::create(memory, Slot::Auto)?;
/// // A server thread that answers each call with the sum of its words.
/// sys::thread::spawn(move || -> sys::Result<()> {
///     let mut request = adder.recv()?;
///     loop {
///         request = adder.reply_recv([request.words.iter().sum(), 0, 0, 0, 0])?;
///     }
/// });
/// assert_eq!(adder.call([1, 2, 3, 0, 0])?[0], 6);
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint(Cap);

impl Endpoint {
    /// Treats `cap` as an Endpoint capability. Nothing is checked: the kernel checks the kind on
    /// each call.
    ///
    /// ```
    /// use sys::{Cap, Endpoint};
    ///
    /// // A slot learnt at run time: from the start page, a message, a configuration.
    /// let cap = Cap::new(12);
    /// let endpoint = Endpoint::new(cap);
    /// assert_eq!(endpoint.cap(), cap);
    /// ```
    pub const fn new(cap: Cap) -> Endpoint {
        Endpoint(cap)
    }

    /// Treats the capability in `slot` as an Endpoint capability (see [`new`](Self::new)).
    ///
    /// ```
    /// // The slot its starter documented, say 12.
    /// let endpoint = sys::Endpoint::at(12);
    /// assert_eq!(endpoint.slot(), 12);
    /// ```
    pub const fn at(slot: usize) -> Endpoint {
        Endpoint(Cap::new(slot))
    }

    /// The untyped capability address.
    ///
    /// ```
    /// let endpoint = sys::Endpoint::at(12);
    /// // The untyped address, for the raw wrappers and the generic calls.
    /// let cap: sys::Cap = endpoint.cap();
    /// assert_eq!(cap.slot(), 12);
    /// ```
    pub const fn cap(self) -> Cap {
        self.0
    }

    /// Makes an Endpoint in `dst` of the caller's CSpace, with all rights and no badge, charged
    /// one page to `memory` (which needs WRITE); the page is refunded when the Endpoint dies.
    ///
    /// Errors: as [`Memory::split`] (without `InvalidArgument`).
    ///
    /// ```no_run
    /// use sys::{Endpoint, Slot};
    /// use sys::abi::Error::QuotaExceeded;
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let service = match Endpoint::create(memory, Slot::Auto) {
    ///     Ok(e) => e,
    ///     Err(e) if e == QuotaExceeded => {
    ///         sys::println!("no page left for an Endpoint");
    ///         return Err(e);
    ///     }
    ///     Err(e) => return Err(e),
    /// };
    /// # Ok(())
    /// # }
    /// ```
    pub fn create(memory: Memory, dst: Slot) -> Result<Endpoint> {
        endpoint_create(memory.slot(), dst.raw()).map(Endpoint::at)
    }

    /// Gives `words` to a receiver, waiting for one if none waits; the receiver also gets this
    /// capability's badge. Needs WRITE.
    ///
    /// If the Endpoint dies while the caller waits, the wait ends with
    /// [`InvalidCapability`](abi::Error::InvalidCapability).
    ///
    /// ```no_run
    /// # fn demo(log: sys::Endpoint) -> sys::Result<()> {
    /// // Hand the log server an event, waiting until it takes it.
    /// const LINK_UP: usize = 3;
    /// log.send([LINK_UP, 1000, 0, 0, 0])?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send(self, words: Words) -> Result<()> {
        send(self.slot(), words)
    }

    /// [`send`](Self::send) with what `extra` asks for through the IPC buffers ([`send_with`]).
    ///
    /// ```no_run
    /// # fn demo(log: sys::Endpoint) -> sys::Result<()> {
    /// let extra = sys::thread::with_ipc_buffer(|b| b.set_words(&[1, 2]))?;
    /// log.send_with([17, 0, 0, 0, 0], extra)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn send_with(self, words: Words, extra: Extra) -> Result<()> {
        send_with(self.slot(), words, extra)
    }

    /// As [`send`](Endpoint::send), but only if a receiver is already waiting; else
    /// [`WouldBlock`](abi::Error::WouldBlock) and nothing is sent.
    ///
    /// ```no_run
    /// use sys::abi::Error::WouldBlock;
    ///
    /// # fn demo(log: sys::Endpoint) -> sys::Result<()> {
    /// // An interrupt path must not wait: the event goes only if the server is waiting.
    /// match log.nb_send([3, 0, 0, 0, 0]) {
    ///     Err(e) if e == WouldBlock => sys::println!("log server busy: event dropped"),
    ///     other => other?,
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn nb_send(self, words: Words) -> Result<()> {
        nb_send(self.slot(), words)
    }

    /// Takes a message, waiting for one if no sender waits. If the sender made a
    /// [`call`](Endpoint::call) (or faulted), the caller now holds the sender's reply right, until
    /// it [`reply`]s or receives another call. Needs READ.
    ///
    /// If the Endpoint dies while the caller waits, the wait ends with
    /// [`InvalidCapability`](abi::Error::InvalidCapability).
    ///
    /// ```no_run
    /// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
    /// let request = service.recv()?;
    /// sys::println!("badge {} asks {:?}", request.badge, request.words);
    /// // A call: answer it before receiving the next.
    /// sys::ipc::reply([0; 5])?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn recv(self) -> Result<Message> {
        recv(self.slot())
    }

    /// As [`recv`](Endpoint::recv), but only if a sender is already waiting; else
    /// [`WouldBlock`](abi::Error::WouldBlock).
    ///
    /// ```no_run
    /// use sys::abi::Error::WouldBlock;
    ///
    /// # fn demo(events: sys::Endpoint) -> sys::Result<()> {
    /// // Poll between other work.
    /// match events.nb_recv() {
    ///     Ok(event) => sys::println!("event {:?}", event.words),
    ///     Err(e) if e == WouldBlock => {}
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn nb_recv(self) -> Result<Message> {
        nb_recv(self.slot())
    }

    /// Sends `words` and waits for the reply: returns the words the receiver passed to [`reply`]
    /// (or [`reply_recv`](Endpoint::reply_recv)). Needs WRITE.
    ///
    /// Should the receiver never answer (it receives another call first, stops, or deletes the
    /// Reply capability it saved the right in), the call fails with
    /// [`NoReply`](abi::Error::NoReply): a client of a server that crashed learns of it.
    ///
    /// ```no_run
    /// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
    /// // A server the starter named in the start page.
    /// let clock = sys::Endpoint::new(boot.cap("clock").expect("the manifest grants `clock`"));
    /// const NOW: usize = 1;
    /// let [seconds, micros, ..] = clock.call([NOW, 0, 0, 0, 0])?;
    /// sys::println!("{seconds}.{micros:06}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn call(self, words: Words) -> Result<Words> {
        call(self.slot(), words)
    }

    /// [`call`](Self::call) with what `extra` asks for through the IPC buffers; the reply as a
    /// [`Message`], whose `extra` says what it brought ([`call_with`]).
    ///
    /// ```no_run
    /// # fn demo(disk: sys::Endpoint) -> sys::Result<()> {
    /// sys::thread::with_ipc_buffer(|b| {
    ///     let reply = disk.call_with([1, 0, 0, 0, 0], b.set_words(&[4096, 512]))?;
    ///     let (words, n) = b.received_words(reply.extra);
    ///     sys::println!("{:?}", &words[..n]);
    ///     Ok(())
    /// })?
    /// # }
    /// ```
    pub fn call_with(self, words: Words, extra: Extra) -> Result<Message> {
        call_with(self.slot(), words, extra)
    }

    /// Answers the last call received (if the caller holds a reply right) with `words`, then
    /// receives on this Endpoint as [`recv`](Endpoint::recv) does: one system call for a server's
    /// loop. Needs READ; the capability is checked before anyone is answered.
    ///
    /// ```no_run
    /// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
    /// let mut request = service.recv()?;
    /// loop {
    ///     let answer = [request.words[0].wrapping_mul(2), 0, 0, 0, 0];
    ///     request = service.reply_recv(answer)?;
    /// }
    /// # }
    /// ```
    pub fn reply_recv(self, words: Words) -> Result<Message> {
        reply_recv(self.slot(), words)
    }

    /// [`reply_recv`](Self::reply_recv) whose reply carries what `extra` asks for
    /// ([`reply_recv_with`]).
    ///
    /// ```no_run
    /// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
    /// let mut request = service.recv()?;
    /// loop {
    ///     let extra = sys::thread::with_ipc_buffer(|b| b.set_words(&[7]))?;
    ///     request = service.reply_recv_with([request.words[0], 0, 0, 0, 0], extra)?;
    /// }
    /// # }
    /// ```
    pub fn reply_recv_with(self, words: Words, extra: Extra) -> Result<Message> {
        reply_recv_with(self.slot(), words, extra)
    }

    /// A supervisor's loop in one call: answers the fault message received last (if the caller
    /// holds a reply right) as [`fault_reply`] does, then receives on this Endpoint as
    /// [`recv`](Endpoint::recv) does. Needs READ; the capability and `resume` are checked before
    /// anyone is answered. See [`Sysno::FaultReplyRecv`].
    ///
    /// Errors: capability errors; as [`fault_reply`] (a reply right to a plain call is
    /// [`InvalidState`](abi::Error::InvalidState), and nothing is done).
    ///
    /// # Safety
    ///
    /// As [`fault_reply`].
    ///
    /// ```no_run
    /// use sys::ipc::Resume;
    ///
    /// # fn demo(faults: sys::Endpoint) -> sys::Result<()> {
    /// let mut m = faults.recv()?;
    /// loop {
    ///     let rip = m.words[sys::abi::task::fault::RIP];
    ///     // SAFETY: every task faulting here is ours and faults only on a 2-byte `ud2` it runs
    ///     // on purpose, to be stepped over.
    ///     m = unsafe { faults.fault_reply_recv(Resume::at(rip + 2))? };
    /// }
    /// # }
    /// ```
    pub unsafe fn fault_reply_recv(self, resume: Resume) -> Result<Message> {
        let (set, v) = resume.encode();
        ipc_extra(Sysno::FaultReplyRecv, Extra::NONE, [self.slot(), set, v[0], v[1], v[2], v[3]])
            .map(Message::from_results)
    }
}

impl Deref for Endpoint {
    type Target = Cap;

    fn deref(&self) -> &Cap {
        &self.0
    }
}

impl From<Endpoint> for Cap {
    fn from(handle: Endpoint) -> Cap {
        handle.0
    }
}

checked_delete!(
    Endpoint,
    Kind::Endpoint,
    "an Endpoint",
    "endpoint",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let endpoint = sys::Endpoint::create(memory, sys::Slot::Auto)?;"
);
checked_revoke!(
    Endpoint,
    Kind::Endpoint,
    "an Endpoint",
    "endpoint",
    "let memory = sys::process::memory().expect(\"the program has a Memory\");",
    "let endpoint = sys::Endpoint::create(memory, sys::Slot::Auto)?;"
);

/// A Reply capability: a saved one-shot reply right ([`Reply::save`]), answered by
/// [`Reply::reply`]. It can be moved ([`Cap::move_to`]) but never copied or minted
/// ([`InvalidArgument`](abi::Error::InvalidArgument)), so only one ever answers a call.
///
/// ```no_run
/// use sys::{Endpoint, Note, Reply, Slot};
///
/// # fn demo(service: Endpoint, data_ready: Note) -> sys::Result<()> {
/// // A read that must wait for the device: keep the reply right, and answer once the data is
/// // there.
/// let read = service.recv()?;
/// let pending: Reply = Reply::save(Slot::Auto)?;
/// let bits = data_ready.wait()?;
/// pending.reply([bits, 0, 0, 0, 0])?;
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub struct Reply(Cap);

impl Reply {
    /// Treats `cap` as a Reply capability. Nothing is checked: the kernel checks the kind on each
    /// call.
    ///
    /// ```
    /// use sys::{Cap, Reply};
    ///
    /// // A Reply capability moved to this task: its slot, learnt from the message that brought it.
    /// let cap = Cap::new(12);
    /// let reply = Reply::new(cap);
    /// assert_eq!(reply.cap(), cap);
    /// ```
    pub const fn new(cap: Cap) -> Reply {
        Reply(cap)
    }

    /// Treats the capability in `slot` as a Reply capability (see [`new`](Self::new)).
    ///
    /// ```
    /// let reply = sys::Reply::at(12);
    /// assert_eq!(reply.slot(), 12);
    /// ```
    pub const fn at(slot: usize) -> Reply {
        Reply(Cap::new(slot))
    }

    /// The untyped capability address.
    ///
    /// ```
    /// let reply = sys::Reply::at(12);
    /// // The untyped address, for the raw wrappers and the generic calls.
    /// let cap: sys::Cap = reply.cap();
    /// assert_eq!(cap.slot(), 12);
    /// ```
    pub const fn cap(self) -> Cap {
        self.0
    }

    /// Moves the reply right of the last call the caller received into a Reply capability in
    /// `dst` of its CSpace: the caller no longer holds it (a plain [`reply`] finds nothing to
    /// answer), can receive other calls, and answers this one later with [`reply`](Self::reply).
    /// The task that called keeps waiting.
    ///
    /// Errors: [`InvalidState`](abi::Error::InvalidState) (no call to answer); slot errors as for
    /// [`Cap::copy`].
    ///
    /// ```no_run
    /// use sys::{Reply, Slot};
    /// use sys::abi::Error::InvalidState;
    ///
    /// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
    /// let request = service.recv()?;
    /// match Reply::save(Slot::Auto) {
    ///     // Answered later, here by another thread: this one serves the next request.
    ///     Ok(reply) => {
    ///         sys::thread::spawn(move || reply.reply([request.words[0], 0, 0, 0, 0]));
    ///     }
    ///     // A plain send, not a call: nobody waits for an answer.
    ///     Err(e) if e == InvalidState => {}
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn save(dst: Slot) -> Result<Reply> {
        reply_save(dst.raw()).map(Reply::at)
    }

    /// Answers the saved call with `words` (or, for a fault message, lets the faulted task run
    /// on), and uses the capability up: its slot is empty afterwards.
    ///
    /// Errors: capability errors; [`InvalidState`](abi::Error::InvalidState) if the caller no
    /// longer waits for this reply.
    ///
    /// ```no_run
    /// use sys::{Reply, Slot};
    ///
    /// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
    /// let request = service.recv()?;
    /// let reply = Reply::save(Slot::Auto)?;
    /// // ... other requests are served meanwhile ...
    /// reply.reply([request.words[0] + 1, 0, 0, 0, 0])?;
    /// assert!(reply.identify()?.is_null(), "used up");
    /// # Ok(())
    /// # }
    /// ```
    pub fn reply(self, words: Words) -> Result<()> {
        reply_to(self.slot(), words)
    }

    /// [`reply`](Self::reply) with what `extra` asks for through the IPC buffers
    /// ([`reply_to_with`]).
    ///
    /// ```no_run
    /// use sys::{Reply, Slot};
    ///
    /// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
    /// service.recv()?;
    /// let reply = Reply::save(Slot::Auto)?;
    /// let extra = sys::thread::with_ipc_buffer(|b| b.set_words(&[3, 4]))?;
    /// reply.reply_with([0; 5], extra)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn reply_with(self, words: Words, extra: Extra) -> Result<()> {
        reply_to_with(self.slot(), words, extra)
    }
}

impl Deref for Reply {
    type Target = Cap;

    fn deref(&self) -> &Cap {
        &self.0
    }
}

impl From<Reply> for Cap {
    fn from(handle: Reply) -> Cap {
        handle.0
    }
}

checked_delete!(
    Reply,
    Kind::Reply,
    "a Reply",
    "reply",
    "# let service = sys::Endpoint::at(9);",
    "let request = service.recv()?;",
    "let reply = sys::Reply::save(sys::Slot::Auto)?;"
);

/// A page to serve as a task's IPC buffer ([`Task::set_ipc_buffer`]): page-aligned, with the
/// [`abi::ipc::IpcBuffer`] fields at its start as atomics, which the kernel may read and write
/// whenever the task sends or receives a message whose [`Extra`] is not [`Extra::NONE`].
///
/// The `words` are one array for both directions: a message or reply received with words
/// overwrites the first `extra.words` of them, so words to send go in after the last receive
/// that matters ([`set_words`](Self::set_words)), and words received are read before the next
/// one ([`received_words`](Self::received_words)).
///
/// ```no_run
/// use sys::{Endpoint, Extra, IpcBufferPage, Slot};
///
/// static BUFFER: IpcBufferPage = IpcBufferPage::new();
///
/// # fn demo(server: Endpoint) -> sys::Result<()> {
/// let me = sys::process::task().expect("the program has its Task");
/// me.set_ipc_buffer(Some(&BUFFER))?;
/// // Call with a Note (through a capability with GRANT) and three words beyond the five.
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let note = sys::Note::create(memory, Slot::Auto)?;
/// BUFFER.set_send_cap(Some(note.cap()));
/// let extra = Extra { cap: true, ..BUFFER.set_words(&[10, 20, 30]) };
/// BUFFER.set_recv_slot(Some(Slot::Auto));
/// let reply = server.call_with([0; 5], extra)?;
/// // What the reply brought.
/// let (words, n) = BUFFER.received_words(reply.extra);
/// sys::println!("{:?}, and a capability in {:?}", &words[..n], BUFFER.received(reply.extra));
/// # Ok(())
/// # }
/// ```
#[repr(C, align(4096))]
#[derive(Debug)]
pub struct IpcBufferPage {
    send_cap: AtomicU64,
    recv_slot: AtomicU64,
    received_slot: AtomicU64,
    words: [AtomicU64; MAX_EXTRA_WORDS],
}

const _: () = {
    assert!(core::mem::size_of::<IpcBufferPage>() == abi::layout::PAGE_SIZE);
    assert!(core::mem::size_of::<IpcBuffer>() <= abi::layout::PAGE_SIZE);
    assert!(core::mem::offset_of!(IpcBufferPage, send_cap) == core::mem::offset_of!(IpcBuffer, send_cap));
    assert!(core::mem::offset_of!(IpcBufferPage, recv_slot) == core::mem::offset_of!(IpcBuffer, recv_slot));
    assert!(core::mem::offset_of!(IpcBufferPage, received_slot) == core::mem::offset_of!(IpcBuffer, received_slot));
    assert!(core::mem::offset_of!(IpcBufferPage, words) == core::mem::offset_of!(IpcBuffer, words));
};

impl IpcBufferPage {
    /// A buffer that names no capability to send and refuses every incoming one.
    ///
    /// ```
    /// use sys::{Extra, IpcBufferPage};
    ///
    /// // One per thread that transfers capabilities or extra words, alive for good.
    /// static BUFFER: IpcBufferPage = IpcBufferPage::new();
    /// assert_eq!(BUFFER.word(0), 0);
    /// assert_eq!(BUFFER.received(Extra { words: 0, cap: true }), None);
    /// ```
    pub const fn new() -> IpcBufferPage {
        IpcBufferPage {
            send_cap: AtomicU64::new(0),
            recv_slot: AtomicU64::new(0),
            received_slot: AtomicU64::new(0),
            words: [const { AtomicU64::new(0) }; MAX_EXTRA_WORDS],
        }
    }

    /// The capability the task's sends and calls (through an Endpoint capability with GRANT) and
    /// replies carry when their [`Extra`] asks for one (`cap: true`), as a child of `cap` with
    /// its rights and badge; `None` for none.
    ///
    /// ```no_run
    /// use sys::{Extra, IpcBufferPage};
    ///
    /// static BUFFER: IpcBufferPage = IpcBufferPage::new();
    ///
    /// # fn demo(client: sys::Endpoint, shared: sys::Page) -> sys::Result<()> {
    /// // Hand the server a Page to share (`client` carries GRANT).
    /// BUFFER.set_send_cap(Some(shared.cap()));
    /// client.call_with([1, 0, 0, 0, 0], Extra { words: 0, cap: true })?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_send_cap(&self, cap: Option<Cap>) {
        self.send_cap.store(cap.map_or(0, |c| c.slot()) as u64, Ordering::SeqCst);
    }

    /// Whether `send_cap` names a capability (what [`set_send_cap`](Self::set_send_cap) set).
    pub(crate) fn names_send_cap(&self) -> bool {
        self.send_cap.load(Ordering::SeqCst) != 0
    }

    /// Where an incoming capability goes in the task's CSpace: a slot, [`Slot::Auto`] for the
    /// lowest free one, or `None` to refuse it.
    ///
    /// ```no_run
    /// use sys::{IpcBufferPage, Slot};
    ///
    /// static BUFFER: IpcBufferPage = IpcBufferPage::new();
    ///
    /// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
    /// // Take one capability with the next message, wherever there is room; then refuse again.
    /// BUFFER.set_recv_slot(Some(Slot::Auto));
    /// service.recv()?;
    /// BUFFER.set_recv_slot(None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_recv_slot(&self, slot: Option<Slot>) {
        self.recv_slot.store(slot.map_or(0, Slot::raw) as u64, Ordering::SeqCst);
    }

    /// Where the capability that came with a message received with `extra` landed (`None` if
    /// `extra` says none came). The kernel writes `received_slot` only when one lands.
    ///
    /// ```no_run
    /// use sys::{IpcBufferPage, Page, Slot};
    ///
    /// static BUFFER: IpcBufferPage = IpcBufferPage::new();
    ///
    /// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
    /// BUFFER.set_recv_slot(Some(Slot::Auto));
    /// let m = service.recv()?;
    /// match BUFFER.received(m.extra) {
    ///     Some(cap) => {
    ///         let shared = Page::new(cap);
    ///         sys::println!("got a Page of {} pages", shared.info()?.count);
    ///     }
    ///     None => sys::println!("no capability came"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn received(&self, extra: Extra) -> Option<Cap> {
        if !extra.cap {
            return None;
        }
        match self.received_slot.load(Ordering::SeqCst) {
            0 => None,
            slot => Some(Cap::new(slot as usize)),
        }
    }

    /// Puts `words` at the start of the buffer's words, to be sent, and returns the [`Extra`]
    /// that sends them (`&[]`: none).
    ///
    /// # Panics
    ///
    /// If there are more than [`MAX_EXTRA_WORDS`].
    ///
    /// ```
    /// use sys::{Extra, IpcBufferPage};
    ///
    /// static BUFFER: IpcBufferPage = IpcBufferPage::new();
    ///
    /// /// Asks `disk` to read `len` bytes at `offset`: arguments beyond the five words.
    /// fn read(disk: sys::Endpoint, offset: u64, len: u64) -> sys::Result<usize> {
    ///     const READ: usize = 1;
    ///     let extra = BUFFER.set_words(&[offset, len]);
    ///     Ok(disk.call_with([READ, 0, 0, 0, 0], extra)?.words[0])
    /// }
    ///
    /// assert_eq!(BUFFER.set_words(&[4096, 512]), Extra::words(2));
    /// assert_eq!(BUFFER.word(1), 512);
    /// ```
    pub fn set_words(&self, words: &[u64]) -> Extra {
        assert!(words.len() <= MAX_EXTRA_WORDS, "{} extra words; at most {MAX_EXTRA_WORDS} travel", words.len());
        for (slot, &w) in self.words.iter().zip(words) {
            slot.store(w, Ordering::SeqCst);
        }
        Extra::words(words.len() as u8)
    }

    /// Word `i` of the buffer's words, as it is now (received, or put there to send).
    ///
    /// # Panics
    ///
    /// If `i` is not below [`MAX_EXTRA_WORDS`].
    ///
    /// ```
    /// use sys::IpcBufferPage;
    ///
    /// static BUFFER: IpcBufferPage = IpcBufferPage::new();
    ///
    /// BUFFER.set_words(&[0xdead, 0xbeef]);
    /// assert_eq!(BUFFER.word(1), 0xbeef);
    /// ```
    pub fn word(&self, i: usize) -> u64 {
        self.words[i].load(Ordering::SeqCst)
    }

    /// The extra words a message received with `extra` brought, and how many there are
    /// (`extra.words`, at most [`MAX_EXTRA_WORDS`]): the first that many of the array, the rest
    /// 0.
    ///
    /// ```no_run
    /// use sys::IpcBufferPage;
    ///
    /// static BUFFER: IpcBufferPage = IpcBufferPage::new();
    ///
    /// # fn demo(server: sys::Endpoint) -> sys::Result<()> {
    /// let reply = server.call_with([2, 0, 0, 0, 0], sys::Extra::NONE)?;
    /// // Read them before the next receive overwrites them.
    /// let (words, n) = BUFFER.received_words(reply.extra);
    /// let sum: u64 = words[..n].iter().sum();
    /// # Ok(())
    /// # }
    /// ```
    pub fn received_words(&self, extra: Extra) -> ([u64; MAX_EXTRA_WORDS], usize) {
        let len = usize::from(extra.words).min(MAX_EXTRA_WORDS);
        let mut out = [0; MAX_EXTRA_WORDS];
        for (o, w) in out.iter_mut().zip(&self.words[..len]) {
            *o = w.load(Ordering::SeqCst);
        }
        (out, len)
    }

    /// The page's address, as the kernel is given it.
    ///
    /// ```
    /// use sys::IpcBufferPage;
    ///
    /// static BUFFER: IpcBufferPage = IpcBufferPage::new();
    ///
    /// // Page-aligned: what `task_set_ipc_buffer` takes.
    /// assert_eq!(BUFFER.addr() % sys::abi::layout::PAGE_SIZE, 0);
    /// ```
    pub fn addr(&self) -> usize {
        core::ptr::from_ref(self).expose_provenance()
    }
}

impl Default for IpcBufferPage {
    fn default() -> IpcBufferPage {
        IpcBufferPage::new()
    }
}

impl Task {
    /// Makes `buffer` the task's IPC buffer (`None`: no buffer, so no capability and no extra
    /// words travel with its messages and replies, either way). Needs WRITE.
    ///
    /// The kernel looks the buffer up in the task's own VSpace, by address: this is meant for
    /// tasks that run in the caller's address space (threads). For a task in another VSpace,
    /// the kernel reads and writes whatever that VSpace has at the same address.
    ///
    /// ```no_run
    /// use sys::IpcBufferPage;
    ///
    /// static MAIN_BUFFER: IpcBufferPage = IpcBufferPage::new();
    ///
    /// # fn demo() -> sys::Result<()> {
    /// let me = sys::process::task().expect("the program has its Task");
    /// me.set_ipc_buffer(Some(&MAIN_BUFFER))?;
    /// // ... and none again: messages carry only their five words.
    /// me.set_ipc_buffer(None)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_ipc_buffer(self, buffer: Option<&'static IpcBufferPage>) -> Result<()> {
        // SAFETY: the kernel reads and writes only the `IpcBuffer` fields at the start of the
        // page, all atomics that allow it at any time; the buffer lives for good.
        unsafe { task_set_ipc_buffer(self.slot(), buffer.map_or(0, IpcBufferPage::addr)) }
    }

    /// Sends this task's faults to `endpoint`: each fault becomes a call on it, with that
    /// capability's badge and the words of [`abi::task::fault`]; the task waits for the reply and
    /// runs on from the faulting instruction, with whatever registers the supervisor wrote
    /// ([`Task::write_regs`]). `None` removes the fault endpoint (a fault then stops the task in
    /// [`State::Faulted`](abi::task::State::Faulted)). The task holds its own reference to the
    /// Endpoint: deleting the capability later does not take it away. Needs WRITE on both.
    ///
    /// Errors: `InvalidCapability`, `WrongKind`, `InsufficientRights` for the task, then for
    /// `endpoint`.
    ///
    /// ```no_run
    /// use sys::{Endpoint, Slot, rights};
    ///
    /// # fn demo(worker: sys::Task) -> sys::Result<()> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let cspace = sys::process::cspace().expect("the program has its CSpace");
    /// let faults = Endpoint::create(memory, Slot::Auto)?;
    /// // The worker's faults arrive with badge 3, to tell it from other watched tasks.
    /// let badged = Endpoint::new(faults.mint(cspace, Slot::Auto, rights::WRITE, 3)?);
    /// worker.set_fault_endpoint(Some(badged))?;
    /// badged.delete()?; // the task holds its own reference
    /// let fault = sys::fault::recv_fault(faults)?;
    /// assert_eq!(fault.badge, 3);
    /// // ... deal with it, then let the worker run on.
    /// fault.resume()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_fault_endpoint(self, endpoint: Option<Endpoint>) -> Result<()> {
        task_set_fault_endpoint(self.slot(), endpoint.map_or(0, |e| e.slot()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handles() {
        let e = Endpoint::at(9);
        assert_eq!(e.cap(), Cap::new(9));
        assert_eq!(e.slot(), 9);
        assert_eq!(Cap::from(Endpoint::new(Cap::new(4))), Cap::new(4));
    }

    #[test]
    fn ipc_buffer_page() {
        let cap = Extra { words: 0, cap: true };
        let b = IpcBufferPage::new();
        assert_eq!(b.addr() % 4096, 0);
        assert_eq!(b.received(cap), None);
        b.set_send_cap(Some(Cap::new(12)));
        b.set_recv_slot(Some(Slot::Auto));
        assert_eq!(b.send_cap.load(Ordering::SeqCst), 12);
        assert_eq!(b.recv_slot.load(Ordering::SeqCst), abi::syscall::SLOT_AUTO as u64);
        b.set_recv_slot(None);
        assert_eq!(b.recv_slot.load(Ordering::SeqCst), 0);
        b.received_slot.store(40, Ordering::SeqCst);
        assert_eq!(b.received(cap), Some(Cap::new(40)));
        // A slot from an earlier message is not this one's.
        assert_eq!(b.received(Extra::NONE), None);

        // Words to send: stored in order, the Extra their number; `&[]` leaves the words.
        assert_eq!(b.set_words(&[7, 8, 9]), Extra::words(3));
        assert_eq!([b.word(0), b.word(1), b.word(2), b.word(3)], [7, 8, 9, 0]);
        let all: [u64; MAX_EXTRA_WORDS] = core::array::from_fn(|i| i as u64 * 3 + 1);
        assert_eq!(b.set_words(&all), Extra::words(MAX_EXTRA_WORDS as u8));
        assert_eq!(b.word(MAX_EXTRA_WORDS - 1), all[MAX_EXTRA_WORDS - 1]);
        assert_eq!((b.set_words(&[]), b.word(0)), (Extra::NONE, 1));

        // Words received: the first `extra.words`, the rest 0; a length past the array is cut.
        assert_eq!(b.received_words(Extra::NONE), ([0; MAX_EXTRA_WORDS], 0));
        let (got, n) = b.received_words(Extra::words(2));
        assert_eq!((n, got[0], got[1], got[2]), (2, 1, 4, 0));
        assert_eq!(b.received_words(Extra::words(255)), (all, MAX_EXTRA_WORDS));
        assert_eq!(Reply::at(5).cap(), Cap::new(5));
    }

    #[test]
    #[should_panic(expected = "at most 64")]
    fn too_many_words() {
        IpcBufferPage::new().set_words(&[0; MAX_EXTRA_WORDS + 1]);
    }

    #[test]
    fn resume_encoding() {
        use abi::task::fault::reply;
        assert_eq!(Resume::default().encode(), (0, [0; 4]));
        assert_eq!(Resume::at(0x1234).encode(), (reply::RIP, [0x1234, 0, 0, 0]));
        let all = Resume { rip: Some(1), rsp: Some(2), rax: Some(3), rdi: Some(4) };
        assert_eq!(all.encode(), (reply::ALL, [1, 2, 3, 4]));
        let some = Resume { rsp: Some(8), rdi: Some(9), ..Resume::default() };
        assert_eq!(some.encode(), (reply::RSP | reply::RDI, [0, 8, 0, 9]));
    }

    #[test]
    fn registers() {
        assert_eq!(with_words(3, [1, 2, 3, 4, 5]), [3, 1, 2, 3, 4, 5]);
        assert_eq!(Message::from_results(([7, 1, 2, 3, 4, 5], Extra::NONE)), Message::plain(7, [1, 2, 3, 4, 5]));
        let m = Message::from_results(([7, 1, 2, 3, 4, 5], Extra::words(3)));
        assert_eq!((m.badge, m.extra), (7, Extra::words(3)));
    }
}
