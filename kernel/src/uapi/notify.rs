//! Note and Timer syscalls: decode and check, then `object::note` and `object::timer`.

use abi::Error;
use abi::object::{Kind, rights};
use abi::syscall::TICK_US;

use super::fastpath::{self, Path};
use super::{Results, caps, one};
use crate::object::task::TaskObj;
use crate::object::{ObjRef, global, irq, note, timer};
use crate::sched;

/// Longest timer delay or period: one day.
const MAX_US: u64 = 86_400_000_000;

/// `note_create`.
pub fn note_create(task: &TaskObj, memory: u64, dst_slot: u64) -> Result<Results, Error> {
    caps::make(task, memory, dst_slot, Kind::Note, true, note::create_in)
}

/// `note_signal`: the capability's badge is signalled with the bits.
pub fn note_signal(task: &TaskObj, cap: u64, bits: u64) -> Result<Results, Error> {
    let (n, c) = caps::need_object(task, cap, Kind::Note, rights::WRITE)?;
    note::signal(n, bits | c.badge);
    Ok(one(0))
}

/// The fast path of `note_signal`: when the caller's capability is a Note with WRITE and
/// nothing waits to be destroyed, `note::signal_fast` decides the rest (a waiter above the
/// caller); the signal succeeds and the CPU goes straight to the waiter. Returns only if the
/// fast path does not apply, with nothing changed.
#[inline]
pub fn note_signal_fast(me: ObjRef, task: &TaskObj) {
    let Some((n, badge)) = caps::fast(task, Kind::Note, rights::WRITE) else { return };
    if let Some(next) = note::signal_fast(me, n, task.ctx.args()[1] | badge) {
        task.ctx.set_results([0; 6]);
        fastpath::taken(Path::Signal);
        sched::preempt_to(me, next);
    }
}

/// `note_wait`: `None` when the caller now waits.
pub fn note_wait(me: ObjRef, task: &TaskObj, cap: u64) -> Result<Option<Results>, Error> {
    let (n, _) = caps::need_object(task, cap, Kind::Note, rights::READ)?;
    Ok(note::wait(me, n).map(one))
}

/// `note_poll`.
pub fn note_poll(task: &TaskObj, cap: u64) -> Result<Results, Error> {
    let (n, _) = caps::need_object(task, cap, Kind::Note, rights::READ)?;
    Ok(one(note::take_bits(n).unwrap_or(0)))
}

/// `note_bind`.
pub fn note_bind(task: &TaskObj, cap: u64, t: u64) -> Result<Results, Error> {
    let (t, _) = caps::need_object(task, t, Kind::Task, rights::WRITE)?;
    let n = if cap == 0 { None } else { Some(caps::need_object(task, cap, Kind::Note, rights::READ)?.0) };
    note::bind(n, t)?;
    Ok(one(0))
}

/// `timer_create`.
pub fn timer_create(task: &TaskObj, memory: u64, dst_slot: u64) -> Result<Results, Error> {
    caps::make(task, memory, dst_slot, Kind::Timer, true, timer::create_in)
}

fn ticks(us: u64) -> u64 {
    us.div_ceil(TICK_US as u64)
}

/// `timer_arm`.
pub fn timer_arm(task: &TaskObj, t: u64, cap: u64, bits: u64, delay_us: u64, period_us: u64) -> Result<Results, Error> {
    let (t, _) = caps::need_object(task, t, Kind::Timer, rights::WRITE)?;
    let (n, _) = caps::need_object(task, cap, Kind::Note, rights::WRITE)?;
    if bits == 0 || delay_us > MAX_US || period_us > MAX_US {
        return Err(Error::InvalidArgument);
    }
    n.acquire();
    let old = timer::arm(t, n, bits, ticks(delay_us), ticks(period_us));
    if let Some(o) = old {
        global::with(|ctx| o.release(ctx.dead));
    }
    Ok(one(0))
}

/// `timer_disarm`.
pub fn timer_disarm(task: &TaskObj, t: u64) -> Result<Results, Error> {
    let (t, _) = caps::need_object(task, t, Kind::Timer, rights::WRITE)?;
    if let Some(o) = timer::disarm(t) {
        global::with(|ctx| o.release(ctx.dead));
    }
    Ok(one(0))
}

/// `irq_bind`.
pub fn irq_bind(
    task: &TaskObj,
    control: u64,
    line: u64,
    cap: u64,
    bits: u64,
    memory: u64,
    dst_slot: u64,
) -> Result<Results, Error> {
    caps::need(task, control, Kind::IrqControl, rights::WRITE)?;
    let (n, _) = caps::need_object(task, cap, Kind::Note, rights::WRITE)?;
    let ok = bits != 0 && irq::route_of(line).is_some_and(|(gsi, _)| crate::arch::ioapic::for_gsi(gsi).is_some());
    caps::make(task, memory, dst_slot, Kind::IrqHandler, ok, |ctx, m| irq::bind(ctx, m, line, n, bits))
}

/// `irq_ack`.
pub fn irq_ack(task: &TaskObj, cap: u64) -> Result<Results, Error> {
    let (h, _) = caps::need_object(task, cap, Kind::IrqHandler, rights::WRITE)?;
    irq::ack(h);
    Ok(one(0))
}
