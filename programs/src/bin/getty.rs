//! getty: a console's login line. It opens a console (`getty [SERVICE DEVICE]`: by default
//! `com1` through the serial driver, the `serial` service; `screen screen` is the framebuffer
//! terminal) and runs a shell there, its standard streams that channel, and starts a new shell
//! whenever the last one ends (Ctrl-D or `exit`). A console its driver does not have (a machine
//! without a screen) is one line, and getty ends with status 0.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use sys::io::{Channel, Write};
use sys::proc::Proc;
use sys::{Endpoint, println};

sys::entry!(main);
sys::manifest!("src/bin/getty.ini");

fn main(boot: sys::Boot) -> usize {
    let mut args = boot.args().skip(1);
    let (service, device) = (args.next().unwrap_or("serial"), args.next().unwrap_or("com1"));
    let (Some(console), Some(proc)) = (boot.cap(service), Proc::from_boot(&boot)) else {
        println!("getty: my start page lacks the `{service}` or the `proc` service");
        return 1;
    };
    let mut term = match Channel::new(Endpoint::new(console)).open(device) {
        Ok(t) => t,
        Err(sys::io::IoError::NotFound) => {
            println!("getty: there is no {device} here");
            return 0;
        }
        Err(e) => {
            println!("getty: cannot open {device}: {e}");
            return 1;
        }
    };
    loop {
        let banner =
            alloc::format!("\nPerihelion {} on {device}. Type `help` for the commands.\n", env!("CARGO_PKG_VERSION"));
        let _ = term.write_all(banner.as_bytes());
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
