//! Timers: signal Note bits at a deadline, once or periodically, counted in local-APIC timer
//! ticks.
//!
//! Armed timers sit in a wheel of [`SLOTS`] buckets indexed by deadline modulo the wheel size,
//! linked through the timers; each tick looks at one bucket only. A bucket also holds timers due
//! in later rounds, which stay; the work per tick is the length of one bucket.

use abi::Error;

use super::{Ctx, Header, Kind, ObjRef, create, note};
use crate::sync::RacyCell;

/// Buckets in the wheel.
pub const SLOTS: usize = 64;

#[repr(C)]
struct TimerObj {
    hdr: Header,
    /// The Note it signals (a reference held while armed).
    note: Option<ObjRef>,
    bits: u64,
    deadline: u64,
    period: u64,
    armed: bool,
    next: Option<ObjRef>,
    prev: Option<ObjRef>,
}

struct Wheel {
    buckets: [Option<ObjRef>; SLOTS],
    now: u64,
}

static WHEEL: RacyCell<Wheel> = RacyCell::new(Wheel { buckets: [None; SLOTS], now: 0 });

fn wheel<'a>() -> &'a mut Wheel {
    // SAFETY: one CPU, interrupts off; each function takes the reference for its own duration.
    unsafe { &mut *WHEEL.get() }
}

fn obj<'a>(t: ObjRef) -> &'a mut TimerObj {
    debug_assert_eq!(t.kind(), Kind::Timer);
    // SAFETY: `t` is a live Timer (armed timers are live: a dying one leaves the wheel in
    // `on_death`); the reference is used within one operation.
    unsafe { &mut *t.cast::<TimerObj>() }
}

/// Makes a disarmed Timer charged to `memory`.
pub fn create_in(ctx: &mut Ctx<'_>, memory: ObjRef) -> Result<ObjRef, Error> {
    create::<TimerObj>(ctx, Kind::Timer, Some(memory), 1, 1)
}

fn insert(t: ObjRef) {
    let b = (obj(t).deadline % SLOTS as u64) as usize;
    let head = wheel().buckets[b];
    let tm = obj(t);
    tm.prev = None;
    tm.next = head;
    if let Some(h) = head {
        obj(h).prev = Some(t);
    }
    wheel().buckets[b] = Some(t);
}

fn remove(t: ObjRef) {
    let tm = obj(t);
    let b = (tm.deadline % SLOTS as u64) as usize;
    let (prev, next) = (tm.prev.take(), tm.next.take());
    match prev {
        Some(p) => obj(p).next = next,
        None => wheel().buckets[b] = next,
    }
    if let Some(n) = next {
        obj(n).prev = prev;
    }
}

/// Disarms `t`, returning the Note it held.
pub fn disarm(t: ObjRef) -> Option<ObjRef> {
    if !obj(t).armed {
        return None;
    }
    remove(t);
    let tm = obj(t);
    tm.armed = false;
    tm.note.take()
}

/// Arms `t` to signal `bits` on `n` (whose reference the caller passes in) after `delay` ticks,
/// then every `period` ticks (0: once). Returns the Note it held before.
pub fn arm(t: ObjRef, n: ObjRef, bits: u64, delay: u64, period: u64) -> Option<ObjRef> {
    let old = disarm(t);
    let now = wheel().now;
    let tm = obj(t);
    (tm.note, tm.bits, tm.deadline, tm.period, tm.armed) = (Some(n), bits, now + delay.max(1), period, true);
    insert(t);
    old
}

/// One timer tick: fires what is due in this tick's bucket. Notes of one-shot timers are
/// returned through `release` so the caller can drop their references.
pub fn tick(mut release: impl FnMut(ObjRef)) {
    let w = wheel();
    w.now += 1;
    let now = w.now;
    let mut at = w.buckets[(now % SLOTS as u64) as usize];
    while let Some(t) = at {
        at = obj(t).next;
        if obj(t).deadline > now {
            continue;
        }
        let (n, bits, period) = (obj(t).note, obj(t).bits, obj(t).period);
        if let Some(n) = n {
            note::signal(n, bits);
        }
        if period > 0 {
            remove(t);
            obj(t).deadline = now + period;
            insert(t);
        } else if let Some(n) = disarm(t) {
            release(n);
        }
    }
}

/// The timer is dying: it leaves the wheel at once; its Note reference goes in teardown.
pub fn on_death(t: ObjRef) {
    if obj(t).armed {
        remove(t);
        obj(t).armed = false;
    }
}

/// Teardown: drops the Note reference. O(1).
pub(super) fn teardown(ctx: &mut Ctx<'_>, t: ObjRef) {
    if let Some(n) = obj(t).note.take() {
        n.release(ctx.dead);
    }
}
