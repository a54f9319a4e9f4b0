//! `rm [-d] PATH...`: removes each file; with `-d`, each empty directory instead. Paths are
//! relative to the working directory (`PWD`).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sys::entry!(main);
sys::manifest!("src/bin/rm.ini");

fn main(boot: sys::Boot) -> usize {
    let Some(files) = programs::files(&boot, "rm") else { return 1 };
    let mut dirs = false;
    let mut status = 0;
    let mut any = false;
    for arg in boot.args().skip(1) {
        if arg == "-d" {
            dirs = true;
            continue;
        }
        any = true;
        let path = programs::resolve(&boot, arg);
        let removed = if dirs { files.rmdir(&path) } else { files.unlink(&path) };
        if let Err(e) = removed {
            status = programs::failed("rm", arg, e);
        }
    }
    if !any {
        programs::error("rm", format_args!("usage: rm [-d] PATH..."));
        return 2;
    }
    status
}
