//! System test: a program the system test's client starts through Mercury's `proc` service, with
//! its standard output the client's channel to COM1 (through pcserial). It prints its arguments
//! there (`print!` goes to the standard output when there is one) and exits with status 7, which
//! the client's `wait` must report; with the argument `fault` it writes to an unmapped address
//! instead, and the client's `wait` must report the page fault.
#![no_std]
#![no_main]

sys::entry!(main);

fn main(boot: sys::Boot) -> usize {
    let args: alloc::vec::Vec<&str> = boot.args().skip(1).collect();
    if args.first() == Some(&"fault") {
        let ptr = core::ptr::with_exposed_provenance_mut::<u64>(0x0000_5000_0000_0000);
        // SAFETY: deliberately unsound, to fault: nothing is mapped there, so the write raises a
        // page fault before it happens, and the program never runs past it.
        unsafe { core::ptr::write_volatile(ptr, 1) };
        return 1;
    }
    sys::println!("system-child: hello from a spawned program (arguments: {})", args.join(" "));
    7
}

extern crate alloc;
