//! `kill ID...`: ends each program started through `proc` whose ID `ps` shows. Programs of the
//! boot configuration are Mercury's to supervise, and are refused.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sys::entry!(main);
sys::manifest!("src/bin/kill.ini");

fn main(boot: sys::Boot) -> usize {
    let Some(proc) = sys::proc::Proc::from_boot(&boot) else {
        programs::error("kill", format_args!("no `proc` service"));
        return 1;
    };
    let mut status = 0;
    let mut any = false;
    for arg in boot.args().skip(1) {
        any = true;
        let Ok(id) = arg.parse::<usize>() else {
            programs::error("kill", format_args!("{arg}: not an ID (see ps)"));
            status = 2;
            continue;
        };
        match proc.kill(id) {
            Ok(()) => {}
            Err(sys::io::IoError::BadRequest) => {
                programs::error("kill", format_args!("{id}: not a program a shell started"));
                status = 1;
            }
            Err(e) => status = programs::failed("kill", arg, e),
        }
    }
    if !any {
        programs::error("kill", format_args!("usage: kill ID..."));
        return 2;
    }
    status
}
