//! `echo ARGS...`: prints its arguments, separated by spaces, and a newline.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

sys::entry!(main);

fn main(boot: sys::Boot) -> usize {
    let args: alloc::vec::Vec<&str> = boot.args().skip(1).collect();
    sys::println!("{}", args.join(" "));
    0
}
