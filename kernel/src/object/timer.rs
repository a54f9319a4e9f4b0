//! Timers: signal Note bits at a deadline, once or periodically, counted in local-APIC timer
//! ticks.
//!
//! Armed timers sit in a wheel of [`SLOTS`] buckets indexed by deadline modulo the wheel size,
//! linked through the timers; each tick looks at one bucket only. A bucket also holds timers due
//! in later rounds, which stay; the work per tick is the length of one bucket.

use core::cell::Cell;

use abi::Error;

use super::{Ctx, Header, Kind, ObjRef, Object, create, note};
use crate::sync::Global;

/// Buckets in the wheel.
pub const SLOTS: usize = 64;

#[repr(C)]
struct TimerObj {
    hdr: Header,
    /// The Note it signals (a reference held while armed).
    note: Cell<Option<ObjRef>>,
    bits: Cell<u64>,
    deadline: Cell<u64>,
    period: Cell<u64>,
    armed: Cell<bool>,
    next: Cell<Option<ObjRef>>,
    prev: Cell<Option<ObjRef>>,
}

// SAFETY: `repr(C)`, starts with the header, changing fields are cells, zero is valid for each.
unsafe impl Object for TimerObj {
    const KIND: Kind = Kind::Timer;
}

struct Wheel {
    buckets: [Cell<Option<ObjRef>>; SLOTS],
    now: Cell<u64>,
}

static WHEEL: Global<Wheel> = Global::new(Wheel { buckets: [const { Cell::new(None) }; SLOTS], now: Cell::new(0) });

/// The timer behind `t` (armed timers are live: a dying one leaves the wheel in `on_death`).
fn obj<'a>(t: ObjRef) -> &'a TimerObj {
    t.get()
}

/// Makes a disarmed Timer charged to `memory`.
pub fn create_in(ctx: &mut Ctx<'_>, memory: ObjRef) -> Result<ObjRef, Error> {
    create::<TimerObj>(ctx, Some(memory), 1, 1)
}

fn bucket(deadline: u64) -> &'static Cell<Option<ObjRef>> {
    &WHEEL.buckets[(deadline % SLOTS as u64) as usize]
}

fn insert(t: ObjRef) {
    let tm = obj(t);
    let b = bucket(tm.deadline.get());
    let head = b.get();
    tm.prev.set(None);
    tm.next.set(head);
    if let Some(h) = head {
        obj(h).prev.set(Some(t));
    }
    b.set(Some(t));
}

fn remove(t: ObjRef) {
    let tm = obj(t);
    let (prev, next) = (tm.prev.take(), tm.next.take());
    match prev {
        Some(p) => obj(p).next.set(next),
        None => bucket(tm.deadline.get()).set(next),
    }
    if let Some(n) = next {
        obj(n).prev.set(prev);
    }
}

/// Disarms `t`, returning the Note it held.
pub fn disarm(t: ObjRef) -> Option<ObjRef> {
    let tm = obj(t);
    if !tm.armed.get() {
        return None;
    }
    remove(t);
    tm.armed.set(false);
    tm.note.take()
}

/// Arms `t` to signal `bits` on `n` (whose reference the caller passes in) after `delay` ticks,
/// then every `period` ticks (0: once). Returns the Note it held before.
pub fn arm(t: ObjRef, n: ObjRef, bits: u64, delay: u64, period: u64) -> Option<ObjRef> {
    let old = disarm(t);
    let tm = obj(t);
    tm.note.set(Some(n));
    tm.bits.set(bits);
    tm.deadline.set(WHEEL.now.get() + delay.max(1));
    tm.period.set(period);
    tm.armed.set(true);
    insert(t);
    old
}

/// One timer tick: fires what is due in this tick's bucket. Notes of one-shot timers are
/// returned through `release` so the caller can drop their references.
pub fn tick(mut release: impl FnMut(ObjRef)) {
    let now = WHEEL.now.get() + 1;
    WHEEL.now.set(now);
    let mut at = bucket(now).get();
    while let Some(t) = at {
        let tm = obj(t);
        at = tm.next.get();
        if tm.deadline.get() > now {
            continue;
        }
        if let Some(n) = tm.note.get() {
            note::signal(n, tm.bits.get());
        }
        let period = tm.period.get();
        if period > 0 {
            remove(t);
            tm.deadline.set(now + period);
            insert(t);
        } else if let Some(n) = disarm(t) {
            release(n);
        }
    }
}

/// The timer is dying: it leaves the wheel at once; its Note reference goes in teardown.
pub fn on_death(t: ObjRef) {
    let tm = obj(t);
    if tm.armed.get() {
        remove(t);
        tm.armed.set(false);
    }
}

/// Teardown: drops the Note reference. O(1).
pub(super) fn teardown(ctx: &mut Ctx<'_>, t: ObjRef) {
    if let Some(n) = obj(t).note.take() {
        n.release(ctx.dead);
    }
}
