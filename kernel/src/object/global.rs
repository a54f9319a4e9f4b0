//! The kernel's one set of objects: the page allocator and dead list that every object
//! operation runs against.
#![forbid(unsafe_code)]

use super::{Ctx, DeadList, REAP_BUDGET, reap};
use crate::mem::FRAMES;
use crate::sync::Global;

static DEAD: Global<DeadList> = Global::new(DeadList::new());

/// Runs `f` with the object context: the page allocator locked (for the whole of `f`: nothing `f`
/// calls may take it again, see `mem::FRAMES`), and the dead list.
pub fn with<R>(f: impl FnOnce(&mut Ctx<'_>) -> R) -> R {
    let mut frames = FRAMES.lock();
    let mut ctx = Ctx { pages: &mut *frames, dead: &DEAD };
    f(&mut ctx)
}

/// Whether nothing waits to be destroyed.
#[inline]
pub fn nothing_to_reap() -> bool {
    DEAD.is_empty()
}

/// Destroys dead objects for one kernel entry's budget. Returns whether none are left.
///
/// Inlined: every kernel entry calls it, and almost always finds nothing to do, which is one
/// load and one branch without the allocator's lock.
#[inline]
pub fn reap_some() -> bool {
    DEAD.is_empty() || reap_step()
}

/// One entry's budget of destruction.
#[inline(never)]
fn reap_step() -> bool {
    with(|ctx| reap(ctx, REAP_BUDGET))
}
