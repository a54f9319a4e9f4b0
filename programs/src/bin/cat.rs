//! `cat [FILE...]`: writes each file, in order, to standard output; without files, standard
//! input, until its end (Ctrl-D at the terminal). Paths are relative to the working directory
//! (`PWD`).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use sys::io::{Channel, IoError, Read, Write};

sys::entry!(main);
sys::manifest!("src/bin/cat.ini");

fn main(boot: sys::Boot) -> usize {
    let Some(mut out) = sys::io::stdout() else { return 1 };
    let args: alloc::vec::Vec<&str> = boot.args().skip(1).collect();
    if args.is_empty() {
        let Some(mut input) = sys::io::stdin() else {
            programs::error("cat", format_args!("no standard input"));
            return 1;
        };
        return match copy(&mut input, &mut out) {
            Ok(()) => 0,
            Err(e) => programs::failed("cat", "standard input", e),
        };
    }
    let Some(files) = programs::files(&boot, "cat") else { return 1 };
    let mut status = 0;
    for arg in args {
        let path = programs::resolve(&boot, arg);
        let copied = files.open(&path).and_then(|mut f| {
            let r = copy(&mut f, &mut out);
            let _ = f.close();
            r
        });
        if let Err(e) = copied {
            status = programs::failed("cat", arg, e);
        }
    }
    status
}

/// Everything `from` has, to `to`.
fn copy(from: &mut Channel, to: &mut Channel) -> Result<(), IoError> {
    let mut buf = [0u8; sys::io::IO_MAX];
    loop {
        match from.read(&mut buf)? {
            0 => return Ok(()),
            n => to.write_all(&buf[..n])?,
        }
    }
}

extern crate alloc;
