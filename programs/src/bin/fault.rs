//! `fault`: writes to an address nothing maps, to show what a faulting program does to the
//! system: nothing, but its own end (the shell says how it ended, and the next command works).
#![no_std]
#![no_main]

sys::entry!(main);

fn main(_boot: sys::Boot) -> usize {
    let ptr = core::ptr::with_exposed_provenance_mut::<u64>(0x0000_5000_0000_0000);
    // SAFETY: deliberately unsound, to fault: nothing is mapped there, so the write raises a page
    // fault before it happens, and the program never runs past it.
    unsafe { core::ptr::write_volatile(ptr, 1) };
    1
}
