//! Mercury, Perihelion's root task and driver environment.
//!
//! It reads the initramfs (a ustar archive the kernel mapped for it), reads the boot
//! configuration `boot.ini` there (`docs/manifest.md`), and starts each program it lists, in
//! order: drivers sandboxed to exactly the capabilities their manifests (their `.manifest`
//! sections) list, programs connected to the services they name ([`spawn`]). Then it supervises
//! them for good, restarting those that crash ([`supervise`]). The first driver that asks for
//! COM1's ports takes COM1 from the kernel and drains the kernel log to it, Mercury's own lines
//! included ([`console`]). The first program that provides `files` (ramfs) is filled from the
//! initramfs before the programs after it start ([`files`]).
//!
//! Mercury itself is a program on the user runtime (`sys`): its heap, its mappings and its lines
//! come from there. It denies `unsafe` everywhere but [`spawn`], which makes the `sys` calls that
//! give a program its address space and registers, and take it apart.
#![no_std]
#![no_main]
#![deny(unsafe_code)]

extern crate alloc;

mod console;
mod files;
mod proc;
mod screen;
mod spawn;
mod supervise;

use loader::bootconf::{BOOT_CONFIG_PATH, BootConfig};
use loader::tar::Archive;
use sys::abi::rootinfo::protocol;
use sys::{Boot, println};

sys::entry!(main);

fn main(boot: Boot) -> usize {
    println!("Perihelion {} \u{2014} Mercury", env!("CARGO_PKG_VERSION"));
    let info = match boot.check_root_info() {
        Ok(info) => info,
        Err(why) => {
            println!("mercury: no boot information: {why}");
            return 1;
        }
    };
    let proto = if info.boot_protocol == protocol::LIMINE { "Limine" } else { "PVH" };
    println!(
        "mercury: booted by {proto}; {} MiB of memory, {} MiB free; TSC {} MHz",
        info.mem_total >> 20,
        info.mem_free >> 20,
        info.tsc_hz / 1_000_000
    );
    let Some(bytes) = boot.initramfs() else {
        println!("mercury: no initramfs");
        return 1;
    };
    let archive = match Archive::new(bytes) {
        Ok(a) => a,
        Err(e) => {
            println!("mercury: the initramfs is not a valid archive: {e}");
            return 1;
        }
    };
    let Some(config) = archive.find(BOOT_CONFIG_PATH) else {
        println!("mercury: no {BOOT_CONFIG_PATH} in the initramfs: nothing to start");
        return 0;
    };
    let config = match BootConfig::parse(config.data) {
        Ok(c) => c,
        Err(refusals) => {
            for r in refusals.iter() {
                println!("mercury: {BOOT_CONFIG_PATH}:{}: {}", r.line, r.reason);
            }
            return 1;
        }
    };
    let screen = match screen::find(&info.framebuffer) {
        Ok(s) => {
            println!("mercury: screen: {}", s.describe());
            Some(s)
        }
        Err(why) => {
            println!("mercury: no screen: {why}; the console is serial only");
            None
        }
    };
    supervise::run(archive, &config, info.tsc_hz, screen)
}
