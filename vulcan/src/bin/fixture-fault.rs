//! Test fixture: prints one line, then writes to an unmapped user address and so faults.
//!
//! For tests of fault delivery: the write must raise a page fault at [`FAULT_ADDR`], a canonical
//! user address that nothing maps (see `abi::layout`). This is the one place in Vulcan that
//! breaks a rule on purpose.
#![no_std]
#![no_main]

sys::entry!(main);

/// Where the fixture writes: canonical, in the user half, and never mapped by the kernel or the
/// loader (far from the image at 0x400000, the initramfs, the stack and the root info page).
const FAULT_ADDR: usize = 0x0000_5000_0000_0000;

/// The value written, so that a supervisor inspecting the fault can recognise it.
const FAULT_VALUE: u64 = 0xfa17_fa17_fa17_fa17;

fn main(_boot: sys::Boot) -> usize {
    sys::println!("fixture-fault: writing to unmapped address {FAULT_ADDR:#x}");
    let ptr = core::ptr::with_exposed_provenance_mut::<u64>(FAULT_ADDR);
    // SAFETY: this is not sound, and is not meant to be: the fixture exists to make this write
    // fault. `write_volatile` keeps the compiler from removing or reordering the store; the
    // address is aligned for `u64`, so the fault is a page fault, not an alignment check.
    unsafe { core::ptr::write_volatile(ptr, FAULT_VALUE) };
    sys::println!("fixture-fault: the write did not fault");
    1
}
