//! System test: a driver whose manifest asks for more Memory than there is
//! (`system-greedy.ini`). Mercury must refuse to start it, with one line, and start the others.
//! If it ever runs, it says so and fails the test.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sys::entry!(main);
sys::manifest!("src/bin/system-greedy.ini");

fn main(_boot: sys::Boot) -> usize {
    sys::println!("system-greedy: started, though its Memory cannot exist");
    1
}
