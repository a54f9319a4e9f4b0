//! `mv FROM TO`: moves (renames) `FROM` to `TO`, or into `TO` if that is a directory. Paths are
//! relative to the working directory (`PWD`).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

sys::entry!(main);
sys::manifest!("src/bin/mv.ini");

fn main(boot: sys::Boot) -> usize {
    let Some(files) = programs::files(&boot, "mv") else { return 1 };
    let args: alloc::vec::Vec<&str> = boot.args().skip(1).collect();
    let [from, to] = args[..] else {
        programs::error("mv", format_args!("usage: mv FROM TO"));
        return 2;
    };
    let source = programs::resolve(&boot, from);
    let mut target = programs::resolve(&boot, to);
    if files.stat(&target).is_ok_and(|s| s.is_dir()) {
        let name = source.rsplit('/').next().unwrap_or_default();
        target = shell_core::path::resolve(&target, name);
    }
    match files.rename(&source, &target) {
        Ok(()) => 0,
        Err(e) => programs::failed("mv", from, e),
    }
}
