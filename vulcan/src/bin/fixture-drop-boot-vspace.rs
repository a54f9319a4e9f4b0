//! Test fixture: the root task lets go of its boot address space.
//!
//! It makes an empty VSpace, deletes its capability to the VSpace the kernel built for it at
//! boot, and then moves itself into the new one. The boot VSpace loses its last reference and is
//! torn down by the kernel's reaper (its page tables and frames are the kernel's own accounting),
//! and the root task returns from `task_set_space` into an address space where nothing is mapped:
//! it takes a page fault, which, for the root task, ends the run (QEMU status 37) with the
//! ordinary "root task stopped" line. A kernel that frees the boot space's tables under a lock it
//! already holds never gets that far.
#![no_std]
#![no_main]

use sys::abi::bootcaps::ROOT_CSPACE;
use sys::task::{root_task, task_set_space};
use sys::{Slot, VSpace, root};

sys::entry!(main);

fn main(_boot: sys::Boot) -> usize {
    let fresh = match VSpace::create(root::memory(), Slot::Auto) {
        Ok(v) => v,
        Err(e) => {
            sys::println!("fixture-drop-boot-vspace: vspace_create: {e:?}");
            return 1;
        }
    };
    // Not the last reference: the root task's Task holds its VSpace until it moves out.
    if let Err(e) = VSpace::root().delete() {
        sys::println!("fixture-drop-boot-vspace: cap_delete(ROOT_VSPACE): {e:?}");
        return 1;
    }
    sys::println!("fixture-drop-boot-vspace: moving into an empty VSpace");
    // The call returns into the empty space, where even the next instruction is not mapped.
    // SAFETY: not sound, and not meant to be: the root task leaves the address space its code,
    // stack and data are in, and its boot VSpace dies. Returning into the empty space faults at
    // the first instruction fetch, which ends the run; the line below runs only on a kernel that
    // failed to move the task.
    let r = unsafe { task_set_space(root_task().slot(), ROOT_CSPACE, fresh.slot()) };
    sys::println!("fixture-drop-boot-vspace: still running after task_set_space: {r:?}");
    1
}
