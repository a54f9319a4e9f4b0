//! Endpoint syscalls: decode the endpoint capability and the message, then hand over to
//! `object::endpoint`. A call that leaves the caller waiting returns `None`: its results are
//! written by whoever wakes it.

use abi::Error;
use abi::ipc::Extra;
use abi::object::{Kind, rights};

use super::fastpath::{self, Path};
use super::{Results, caps, one};
use crate::arch::context::is_user_canonical;
use crate::object::ObjRef;
use crate::object::endpoint::{self, Resume, Sent};
use crate::object::task::{TaskObj, get};
use crate::object::{cdt, cspace, global};
use crate::sched;

/// The Endpoint the caller's capability `cap` names, with the rights in `need`, and its badge.
/// `endpoint_create`.
pub fn create(task: &TaskObj, memory: u64, dst_slot: u64) -> Result<Results, Error> {
    caps::make(task, memory, dst_slot, Kind::Endpoint, true, endpoint::create_in)
}

/// How a message is sent: as a `call` (the sender then waits for the reply), whether it blocks
/// for a receiver, and what it carries through the IPC buffers.
#[derive(Copy, Clone, Debug)]
pub struct How {
    /// A `call`.
    pub call: bool,
    /// `send` and `call` wait for a receiver; `nb_send` does not.
    pub block: bool,
    /// What goes through the IPC buffers.
    pub extra: Extra,
}

/// `send`, `nb_send` and `call`.
pub fn send(me: ObjRef, task: &TaskObj, cap: u64, words: [u64; 5], how: How) -> Result<Option<Results>, Error> {
    let (call, block) = (how.call, how.block);
    let (e, c) = caps::need_object(task, cap, Kind::Endpoint, rights::WRITE)?;
    let badge = c.badge;
    let grant = usize::from(c.rights) & rights::GRANT != 0;
    set_message(me, words, badge, call, false, grant, how.extra);
    match endpoint::send(me, e, block)? {
        Sent::Delivered if !call => Ok(Some(one(0))),
        _ => Ok(None),
    }
}

/// `recv` and `nb_recv`. The results are in the caller's registers already, or it waits.
pub fn recv(me: ObjRef, task: &TaskObj, cap: u64, block: bool) -> Result<Option<Results>, Error> {
    let (e, _) = caps::need_object(task, cap, Kind::Endpoint, rights::READ)?;
    endpoint::recv(me, e, block)?;
    Ok(None)
}

/// `reply`.
pub fn reply(me: ObjRef, words: [u64; 5], extra: Extra) -> Result<Option<Results>, Error> {
    endpoint::reply(me, words, extra, false)?;
    Ok(Some(one(0)))
}

/// The fast path of `call`: when the caller's capability is an Endpoint with WRITE and nothing
/// waits to be destroyed ([`caps::fast`]), `endpoint::call_fast` decides the rest and, if it
/// takes it, the CPU goes straight to the receiver. Returns only if the fast path does not apply, with nothing changed.
#[inline]
pub fn call_fast(me: ObjRef, task: &TaskObj) {
    let Some((e, badge)) = caps::fast(task, Kind::Endpoint, rights::WRITE) else { return };
    if let Some(next) = endpoint::call_fast(me, e, badge) {
        fastpath::taken(Path::Call);
        sched::switch_to(next);
    }
}

/// The fast path of `send`, on the same terms as [`call_fast`]: `endpoint::send_fast` decides;
/// the send succeeds, and the CPU goes straight to the receiver, which outranks the caller.
/// Returns only if the fast path does not apply, with nothing changed.
#[inline]
pub fn send_fast(me: ObjRef, task: &TaskObj) {
    let Some((e, badge)) = caps::fast(task, Kind::Endpoint, rights::WRITE) else { return };
    if let Some(next) = endpoint::send_fast(me, e, badge) {
        task.ctx.set_results([0; 6]);
        fastpath::taken(Path::Send);
        sched::preempt_to(me, next);
    }
}

/// The fast path of `reply_recv`, on the same terms as [`call_fast`] (an Endpoint with READ):
/// `endpoint::reply_recv_fast` decides, and the CPU goes straight to the task answered (a caller,
/// or a faulted task given a plain reply). Returns only if the fast path does not apply, with
/// nothing changed.
#[inline]
pub fn reply_recv_fast(me: ObjRef, task: &TaskObj) {
    let Some((e, _)) = caps::fast(task, Kind::Endpoint, rights::READ) else { return };
    if let Some(next) = endpoint::reply_recv_fast(me, e) {
        fastpath::taken(Path::ReplyRecv);
        sched::switch_to(next);
    }
}

/// The fast path of `fault_reply_recv`, on the same terms as [`reply_recv_fast`], its arguments
/// valid too: `endpoint::fault_reply_recv_fast` decides, and the CPU goes straight to the faulted
/// task, its registers set. Returns only if the fast path does not apply, with nothing changed.
#[inline(never)]
pub fn fault_reply_recv_fast(me: ObjRef, task: &TaskObj) {
    let Some((e, _)) = caps::fast(task, Kind::Endpoint, rights::READ) else { return };
    let a = task.ctx.args();
    let Ok(r) = resume(a[1], [a[2], a[3], a[4], a[5]]) else { return };
    if let Some(next) = endpoint::fault_reply_recv_fast(me, e, r) {
        fastpath::taken(Path::FaultReply);
        sched::switch_to(next);
    }
}

/// The registers a fault reply sets: `set` a mask of `abi::task::fault::reply` bits, `values`
/// the new `rip`, `rsp`, `rax` and `rdi`, each used if its bit is set. `InvalidArgument` for
/// other bits, or a `rip` to set that is not a canonical user address.
fn resume(set: u64, values: [u64; 4]) -> Result<Resume, Error> {
    use abi::task::fault::reply;
    if set & !(reply::ALL as u64) != 0 {
        return Err(Error::InvalidArgument);
    }
    let pick = |bit: usize, v: u64| (set & bit as u64 != 0).then_some(v);
    let r = Resume {
        rip: pick(reply::RIP, values[0]),
        rsp: pick(reply::RSP, values[1]),
        rax: pick(reply::RAX, values[2]),
        rdi: pick(reply::RDI, values[3]),
    };
    if r.rip.is_some_and(|rip| !is_user_canonical(rip)) {
        return Err(Error::InvalidArgument);
    }
    Ok(r)
}

/// `fault_reply(set, rip, rsp, rax, rdi)`.
pub fn fault_reply(me: ObjRef, a: [u64; 6]) -> Result<Option<Results>, Error> {
    let r = resume(a[0], [a[1], a[2], a[3], a[4]])?;
    endpoint::reply_fault(me, r)?;
    Ok(Some(one(0)))
}

/// `fault_reply_recv(endpoint, set, rip, rsp, rax, rdi)`: the endpoint, then the arguments, are
/// checked first; a reply right to a plain call is `InvalidState` before anything is done.
pub fn fault_reply_recv(me: ObjRef, task: &TaskObj, a: [u64; 6]) -> Result<Option<Results>, Error> {
    let (e, _) = caps::need_object(task, a[0], Kind::Endpoint, rights::READ)?;
    let r = resume(a[1], [a[2], a[3], a[4], a[5]])?;
    if endpoint::answers_call(me) {
        return Err(Error::InvalidState);
    }
    match endpoint::reply_fault(me, r) {
        Ok(()) | Err(Error::InvalidState) => {}
        Err(e) => return Err(e),
    }
    endpoint::recv(me, e, true)?;
    Ok(None)
}

/// The fast path of fault delivery: `me` just faulted with `words` (the fault message); its
/// fault endpoint has a receiver waiting that is the scheduler's next choice
/// (`endpoint::fault_fast`), and nothing waits to be reaped: the receiver gets the
/// message and the CPU, and `me` waits for the reply. Returns only if the fast path does not
/// apply, with nothing changed.
#[inline]
pub fn fault_fast(me: ObjRef, words: [u64; 5]) {
    let m = get(me);
    let Some(e) = m.fault_ep.get() else { return };
    if !global::nothing_to_reap() {
        return;
    }
    if let Some(next) = endpoint::fault_fast(me, e, m.fault_badge.get(), words) {
        fastpath::taken(Path::Fault);
        sched::switch_to(next);
    }
}

/// `reply_recv`: the endpoint is checked first, so a bad capability answers nobody.
pub fn reply_recv(
    me: ObjRef,
    task: &TaskObj,
    cap: u64,
    words: [u64; 5],
    extra: Extra,
) -> Result<Option<Results>, Error> {
    let (e, _) = caps::need_object(task, cap, Kind::Endpoint, rights::READ)?;
    match endpoint::reply(me, words, extra, true) {
        Ok(()) | Err(Error::InvalidState) => {}
        Err(e) => return Err(e),
    }
    endpoint::recv(me, e, true)?;
    Ok(None)
}

/// Sends the fault message of `me` (which just faulted) to its fault endpoint, as a call: it
/// waits for the supervisor's reply. Returns `false` if it has no fault endpoint.
pub fn deliver_fault(me: ObjRef, vector: u64, address: u64, rip: u64, error: u64) -> bool {
    let m = get(me);
    let Some(e) = m.fault_ep.get() else { return false };
    set_message(me, [vector, address, rip, error, 0], m.fault_badge.get(), true, true, false, Extra::NONE);
    // A blocking send cannot fail.
    let _ = endpoint::send(me, e, true);
    true
}

/// Puts the message `me` sends next in its task.
fn set_message(me: ObjRef, words: [u64; 5], badge: u64, call: bool, fault: bool, grant: bool, extra: Extra) {
    let m = get(me);
    m.msg_extra.set(extra);
    m.msg.set(words);
    m.msg_badge.set(badge);
    m.msg_call.set(call);
    m.msg_fault.set(fault);
    m.msg_grant.set(grant);
}

/// `reply_save`.
pub fn reply_save(me: ObjRef, task: &TaskObj, dst_slot: u64) -> Result<Results, Error> {
    let (dst, index) = cspace::destination(super::cspace_of(task)?, dst_slot)?;
    let c = endpoint::take_reply_right(me)?;
    let cap = cdt::Cap { kind: Kind::Reply, rights: rights::ALL as u8, badge: 0, obj: Some(c) };
    // Cannot fail: the slot is empty and a root capability has no depth limit.
    cspace::insert(None, dst, &cap)?;
    Ok(one(index))
}

/// `reply_to`: answers through a saved Reply capability, which is used up.
pub fn reply_to(me: ObjRef, task: &TaskObj, cap: u64, words: [u64; 5], extra: Extra) -> Result<Option<Results>, Error> {
    let (slot, c) = caps::need(task, cap, Kind::Reply, 0)?;
    endpoint::reply_saved(me, caps::object(&c)?, words, extra)?;
    global::with(|ctx| cspace::delete(ctx, slot))?;
    Ok(Some(one(0)))
}
