//! The kernel's one set of objects: the page allocator and dead list that every object
//! operation runs against.

use super::{Ctx, DeadList, REAP_BUDGET, reap};
use crate::mem::FRAMES;
use crate::sync::RacyCell;

static DEAD: RacyCell<DeadList> = RacyCell::new(DeadList::new());

/// Runs `f` with the object context: the page allocator locked, and the dead list.
pub fn with<R>(f: impl FnOnce(&mut Ctx<'_>) -> R) -> R {
    let mut frames = FRAMES.lock();
    // SAFETY: one CPU, interrupts off, and `with` is never re-entered: the dead list has no other
    // user while `f` runs.
    let dead = unsafe { &mut *DEAD.get() };
    let mut ctx = Ctx { pages: &mut *frames, dead };
    f(&mut ctx)
}

/// Destroys dead objects for one kernel entry's budget. Returns whether none are left.
pub fn reap_some() -> bool {
    // SAFETY: one CPU, interrupts off; a read of the list head, with no other user of it now.
    if unsafe { (*DEAD.get()).is_empty() } {
        return true;
    }
    with(|ctx| reap(ctx, REAP_BUDGET))
}
