//! getty: the serial console's login line. It opens COM1 through the serial driver and runs a
//! shell there, its standard streams that channel, and starts a new shell whenever the last one
//! ends (Ctrl-D or `exit`).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use sys::io::{Channel, Write};
use sys::proc::Proc;
use sys::{Endpoint, println};

sys::entry!(main);
sys::manifest!("src/bin/getty.ini");

fn main(boot: sys::Boot) -> usize {
    let (Some(serial), Some(proc)) = (boot.cap("serial"), Proc::from_boot(&boot)) else {
        println!("getty: my start page lacks the `serial` or the `proc` service");
        return 1;
    };
    let mut term = match Channel::new(Endpoint::new(serial)).open("com1") {
        Ok(t) => t,
        Err(e) => {
            println!("getty: cannot open com1: {e}");
            return 1;
        }
    };
    loop {
        let _ = term.write_all(
            concat!("\nPerihelion ", env!("CARGO_PKG_VERSION"), " on com1. Type `help` for the commands.\n").as_bytes(),
        );
        let t = Some(term.cap());
        match proc.spawn("bin/sh", &[], [t, t, t]) {
            Ok(shell) => {
                let ended = shell.wait();
                shell.release();
                if let Ok(status) = ended
                    && !matches!(status, sys::proc::ExitStatus::Exited(_))
                {
                    let _ = term.write_all(alloc::format!("getty: the shell ended: {status:?}\n").as_bytes());
                }
            }
            Err(e) => {
                let _ = term.write_all(alloc::format!("getty: cannot start a shell: {e}\n").as_bytes());
                let _ = sys::thread::sleep_us(1_000_000);
            }
        }
    }
}

extern crate alloc;
