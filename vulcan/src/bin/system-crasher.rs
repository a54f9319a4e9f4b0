//! System test: a driver that reaches for what its manifest does not grant. Its only port is the
//! POST port 0x80 (`system-crasher.ini`). On its first start and every second restart (the
//! `restarts` Mercury puts in its environment is even) it reads the keyboard controller's status
//! port 0x64 with an `in` instruction, which the CPU refuses in user mode (a general protection
//! fault: the kernel grants ports through IoPort capabilities, never through the I/O permission
//! bitmap); on the others it writes to memory it was never given, a different page each time,
//! so each of those faults is one distinct log line. Mercury gets each fault, restarts it with
//! a growing delay, and gives up on it after `MAX_RESTARTS`, while the rest of the system runs
//! on.
#![no_std]
#![no_main]

sys::entry!(main);
sys::manifest!("src/bin/system-crasher.ini");

/// Where the odd restarts write: a user-half address nothing maps, plus one page per restart.
const UNGRANTED: usize = 0x0000_6000_0000_0000;

fn main(boot: sys::Boot) -> usize {
    let restarts = boot.env_var("restarts").and_then(|r| r.parse::<usize>().ok()).unwrap_or(0);
    if restarts % 2 == 1 {
        let target = core::ptr::with_exposed_provenance_mut::<u8>(UNGRANTED + restarts * 0x1000);
        // SAFETY: deliberately outside this program's memory: nothing is mapped there, so the
        // write faults before it stores anything, and the program never runs past it.
        unsafe { target.write_volatile(1) };
        sys::println!("system-crasher: wrote to {target:p}: the kernel let a driver reach memory it was not given");
        return 1;
    }
    let status: u8;
    // SAFETY: deliberately outside this program's rights: the `in` faults before it reads
    // anything, and the program never runs past it (Mercury ends it).
    unsafe { core::arch::asm!("in al, dx", in("dx") 0x64u16, out("al") status, options(nomem, nostack)) };
    sys::println!(
        "system-crasher: read port 0x64 ({status:#x}): the kernel let a driver reach a port it was not given"
    );
    1
}
