//! `ls [PATH...]`: for each directory (the working directory without arguments), its entries
//! in name order, each with its size (a file's bytes; a directory's entries, its name ending in
//! `/`); for a file, its size and name. Paths are relative to the working directory (`PWD`).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

extern crate alloc;

use sys::io::proto::kind;

sys::entry!(main);
sys::manifest!("src/bin/ls.ini");

fn main(boot: sys::Boot) -> usize {
    let Some(files) = programs::files(&boot, "ls") else { return 1 };
    let mut args: alloc::vec::Vec<&str> = boot.args().skip(1).collect();
    if args.is_empty() {
        args.push(".");
    }
    let many = args.len() > 1;
    let mut status = 0;
    for (i, arg) in args.iter().enumerate() {
        let path = programs::resolve(&boot, arg);
        let stat = match files.stat(&path) {
            Ok(s) => s,
            Err(e) => {
                status = programs::failed("ls", arg, e);
                continue;
            }
        };
        if !stat.is_dir() {
            sys::println!("{:>8} {arg}", stat.size);
            continue;
        }
        if many {
            sys::println!("{}{arg}:", if i > 0 { "\n" } else { "" });
        }
        let listed = files.for_each_entry(&path, |e| {
            let slash = if e.kind == kind::DIRECTORY { "/" } else { "" };
            sys::println!("{:>8} {}{slash}", e.size, e.name);
        });
        if let Err(e) = listed {
            status = programs::failed("ls", arg, e);
        }
    }
    status
}
