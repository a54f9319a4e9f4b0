//! System test: reads a line typed into COM2. The system test's client starts it through `proc`,
//! its standard output the client's COM1 channel. It opens COM2 through pcserial (its own
//! connection to the `serial` service: pcserial binds one port per connection), says on COM1
//! that it is listening (xtask then types a line into COM2's socket), reads up to the line's
//! end, repeats it on COM1 and answers on COM2. Status 0 if all of that worked.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::vec::Vec;

use sys::io::{Channel, Read, Write};
use sys::{Endpoint, println};

sys::entry!(main);
sys::manifest!("src/bin/system-com2.ini");

/// The longest line it waits for.
const MAX_LINE: usize = 256;

fn main(boot: sys::Boot) -> usize {
    let Some(serial) = boot.cap("serial") else {
        println!("system-com2: no `serial` service in my start page");
        return 2;
    };
    let mut com2 = match Channel::new(Endpoint::new(serial)).open("com2") {
        Ok(c) => c,
        Err(e) => {
            println!("system-com2: open(com2) failed: {e}");
            return 3;
        }
    };
    println!("system-com2: listening on COM2");
    let mut line = Vec::new();
    let mut buf = [0u8; 64];
    while !line.ends_with(b"\r") && !line.ends_with(b"\n") {
        match com2.read(&mut buf) {
            Ok(0) => {
                println!("system-com2: COM2 ended before a whole line");
                return 4;
            }
            Ok(n) => line.extend_from_slice(&buf[..n]),
            Err(e) => {
                println!("system-com2: read(com2) failed: {e}");
                return 5;
            }
        }
        if line.len() > MAX_LINE {
            println!("system-com2: no line end in {} bytes", line.len());
            return 6;
        }
    }
    let text = core::str::from_utf8(&line).unwrap_or("(not UTF-8)").trim_end();
    println!("system-com2: COM2 said: {text}");
    match com2.write_all(b"system-com2: pong\n") {
        Ok(()) => 0,
        Err(e) => {
            println!("system-com2: write(com2) failed: {e}");
            7
        }
    }
}
