//! `uptime`: how long the machine has run, from the time-stamp counter and the rate Mercury tells
//! every program (`tsc_hz` in its environment).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sys::entry!(main);

fn main(boot: sys::Boot) -> usize {
    let Some(hz) = boot.env_var("tsc_hz").and_then(|v| v.parse::<u64>().ok()).filter(|&h| h > 0) else {
        sys::println!("uptime: no TSC rate in my environment");
        return 1;
    };
    let secs = sys::clock::tsc() / hz;
    sys::println!("up {}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    0
}
