//! Mercury, Perihelion's driver environment and root task: for now, a placeholder init.
//!
//! The real Mercury comes later: the root task that supervises the system, reads the initramfs,
//! loads drivers from their manifests, restarts them when they crash, and serves the I/O protocol
//! (see the design brief). Until then, the normal system's init is this program: it prints a
//! banner and what the kernel handed it (boot protocol, memory, TSC frequency, the initramfs and
//! its members, the command line), each as one debug-console line, and exits with status 0
//! (1 if the kernel handed it no valid boot information).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use core::fmt;

use sys::abi::RootInfo;
use sys::abi::rootinfo::protocol;
use sys::{Boot, println};

use loader::tar::{Member, MemberKind, Walk};

sys::entry!(main);

/// Most initramfs members listed; the rest are counted.
const MAX_LISTED: usize = 64;

fn main(boot: Boot) -> usize {
    println!("Perihelion {} \u{2014} init (mercury placeholder)", env!("CARGO_PKG_VERSION"));
    let info = match boot.check_root_info() {
        Ok(info) => info,
        Err(why) => {
            println!("init: no boot information: {why}");
            return 1;
        }
    };
    print_machine(info);
    print_initramfs(&boot, info);
    println!("init: command line: \"{}\"", Escaped(info.cmdline()));
    println!("init: nothing else to do yet; exiting");
    0
}

fn print_machine(info: &RootInfo) {
    let proto = match info.boot_protocol {
        protocol::PVH => "PVH",
        protocol::LIMINE => "Limine",
        _ => "unknown",
    };
    println!("init: boot protocol: {proto} ({})", info.boot_protocol);
    println!("init: memory: {} MiB total, {} MiB free", info.mem_total >> 20, info.mem_free >> 20);
    if info.tsc_hz == 0 {
        println!("init: TSC: not measured");
    } else {
        println!("init: TSC: {} MHz", info.tsc_hz / 1_000_000);
    }
}

fn print_initramfs(boot: &Boot, info: &RootInfo) {
    println!("init: initramfs: {} bytes at {:#x}", info.initramfs_len, info.initramfs_addr);
    let Some(archive) = boot.initramfs() else {
        println!("init: initramfs: not mapped at a usable address");
        return;
    };
    let mut count = 0usize;
    let mut error = None;
    for member in Walk::new(archive) {
        let member = match member {
            Ok(member) => member,
            Err(err) => {
                error = Some(err);
                break;
            }
        };
        count += 1;
        if count <= MAX_LISTED {
            print_member(&member);
        }
    }
    if count > MAX_LISTED {
        println!("init:   ... and {} more", count - MAX_LISTED);
    }
    match error {
        None => println!("init: initramfs: {count} members"),
        Some(err) => println!("init: initramfs: {count} members, then stopped: {err}"),
    }
}

fn print_member(member: &Member<'_>) {
    let kind = match member.kind() {
        MemberKind::File => "file",
        MemberKind::Directory => "dir",
        MemberKind::Link => "link",
        MemberKind::Other(_) => "other",
    };
    println!("init:   {} ({kind}, {} bytes)", member.path(), member.data.len());
}

/// Displays bytes as text, escaping everything but printable ASCII (and `"` and `\`).
struct Escaped<'a>(&'a [u8]);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for &b in self.0 {
            fmt::Display::fmt(&core::ascii::escape_default(b), f)?;
        }
        Ok(())
    }
}
