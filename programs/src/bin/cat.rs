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
            Err(Failed::Read(e)) => programs::failed("cat", "standard input", e),
            Err(Failed::Write(e)) => programs::failed("cat", "standard output", e),
        };
    }
    let Some(files) = programs::files(&boot, "cat") else { return 1 };
    let mut status = 0;
    for arg in args {
        let path = programs::resolve(&boot, arg);
        let copied = files.open(&path).map_err(Failed::Read).and_then(|mut f| {
            let r = copy(&mut f, &mut out);
            let _ = f.close();
            r
        });
        match copied {
            Ok(()) => {}
            Err(Failed::Read(e)) => status = programs::failed("cat", arg, e),
            // The files after it would fail the same way.
            Err(Failed::Write(e)) => return programs::failed("cat", "standard output", e),
        }
    }
    status
}

/// Which side of a copy failed.
enum Failed {
    Read(IoError),
    Write(IoError),
}

/// Everything `from` has, to `to`.
fn copy(from: &mut Channel, to: &mut Channel) -> Result<(), Failed> {
    let mut buf = [0u8; sys::io::IO_MAX];
    loop {
        match from.read(&mut buf).map_err(Failed::Read)? {
            0 => return Ok(()),
            n => to.write_all(&buf[..n]).map_err(Failed::Write)?,
        }
    }
}

extern crate alloc;
