//! System test: a driver that touches an I/O port its manifest does not grant. Its only port is
//! the POST port 0x80 (`system-crasher.ini`); it reads the keyboard controller's status port 0x64
//! with an `in` instruction, which the CPU refuses in user mode (a general protection fault: the
//! kernel grants ports through IoPort capabilities, never through the I/O permission bitmap).
//! Mercury gets the fault, restarts it with a growing delay, and gives up on it after
//! `MAX_RESTARTS`, while the rest of the system runs on.
#![no_std]
#![no_main]

sys::entry!(main);
sys::manifest!("src/bin/system-crasher.ini");

fn main(_boot: sys::Boot) -> usize {
    let status: u8;
    // SAFETY: deliberately outside this program's rights: the `in` faults before it reads
    // anything, and the program never runs past it (Mercury ends it).
    unsafe { core::arch::asm!("in al, dx", in("dx") 0x64u16, out("al") status, options(nomem, nostack)) };
    sys::println!(
        "system-crasher: read port 0x64 ({status:#x}): the kernel let a driver reach a port it was not given"
    );
    1
}
