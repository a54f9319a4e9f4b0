//! Capability transfer with IPC messages, through the sender's and receiver's IPC buffers
//! (`abi::ipc`). Called by `endpoint` at the moment a message passes; best effort by design: a
//! capability that cannot travel (no GRANT, no buffer, an empty `send_cap`, a receiver that
//! refuses or has no room) stays behind and the message is delivered without it.

use abi::ipc::{IPC_BUFFER_BYTES, IpcBuffer};
use abi::object::rights;

use super::ObjRef;
use super::cspace;
use super::task::{TaskObj, get};
use super::vspace;

fn task<'a>(t: ObjRef) -> &'a mut TaskObj {
    // SAFETY: the sender and receiver of a message in flight are live; each use is short.
    unsafe { get(t) }
}

/// Reads a task's IPC buffer header, if it has a readable one.
fn read_buffer(t: ObjRef) -> Option<IpcBuffer> {
    let tk = task(t);
    if tk.ipc_buffer == 0 {
        return None;
    }
    let space = vspace::space(tk.vspace?);
    let mut bytes = [0u8; IPC_BUFFER_BYTES];
    let mut at = 0;
    let ok = space.user_bytes(tk.ipc_buffer, IPC_BUFFER_BYTES as u64, false, |pieces| {
        for p in pieces {
            bytes[at..at + p.len()].copy_from_slice(p);
            at += p.len();
        }
    });
    // SAFETY: `IpcBuffer` is `repr(C)` plain data: every bit pattern is valid.
    ok.then(|| unsafe { core::ptr::read_unaligned(bytes.as_ptr().cast()) })
}

/// Writes the receiver's `received_slot`.
fn write_received(t: ObjRef, slot: u64) {
    let tk = task(t);
    let Some(v) = tk.vspace else { return };
    if tk.ipc_buffer == 0 {
        return;
    }
    let at = tk.ipc_buffer + core::mem::offset_of!(IpcBuffer, received_slot) as u64;
    vspace::space(v).copy_to_user(at, &slot.to_le_bytes());
}

/// Whether the receiver's `received_slot` can be written (its buffer page is user-writable).
fn write_received_ok(t: ObjRef) -> bool {
    let tk = task(t);
    let Some(v) = tk.vspace else { return false };
    let at = tk.ipc_buffer + core::mem::offset_of!(IpcBuffer, received_slot) as u64;
    tk.ipc_buffer != 0 && vspace::space(v).copy_to_user(at, &0u64.to_le_bytes())
}

/// Moves a copy of the sender's `send_cap` into the receiver's CSpace, if everything allows.
pub fn transfer(sender: ObjRef, receiver: ObjRef) {
    let landed = try_transfer(sender, receiver).unwrap_or(0);
    write_received(receiver, landed);
}

fn try_transfer(sender: ObjRef, receiver: ObjRef) -> Option<u64> {
    if !task(sender).msg_grant {
        return None;
    }
    let send_cap = read_buffer(sender)?.send_cap;
    let recv_slot = read_buffer(receiver)?.recv_slot;
    if send_cap == 0 || recv_slot == 0 {
        return None;
    }
    // The receiver must be able to learn where the capability lands.
    if !write_received_ok(receiver) {
        return None;
    }
    let (src, _) = cspace::lookup(task(sender).cspace?, send_cap).ok()?;
    let (dst, index) = cspace::destination(task(receiver).cspace?, recv_slot).ok()?;
    cspace::derive(src, dst, rights::ALL as u8, None).ok()?;
    Some(index)
}
