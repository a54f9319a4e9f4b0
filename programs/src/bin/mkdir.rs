//! `mkdir [-p] DIR...`: makes each directory; with `-p`, the missing ones on the way too, and
//! one already there is no error. Paths are relative to the working directory (`PWD`).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sys::entry!(main);
sys::manifest!("src/bin/mkdir.ini");

fn main(boot: sys::Boot) -> usize {
    let Some(files) = programs::files(&boot, "mkdir") else { return 1 };
    let mut parents = false;
    let mut status = 0;
    let mut any = false;
    for arg in boot.args().skip(1) {
        if arg == "-p" {
            parents = true;
            continue;
        }
        any = true;
        let path = programs::resolve(&boot, arg);
        let made = if parents { files.mkdir_all(&path) } else { files.mkdir(&path) };
        if let Err(e) = made {
            status = programs::failed("mkdir", arg, e);
        }
    }
    if !any {
        programs::error("mkdir", format_args!("usage: mkdir [-p] DIR..."));
        return 2;
    }
    status
}
