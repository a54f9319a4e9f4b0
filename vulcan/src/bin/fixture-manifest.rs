//! Test fixture: a program that carries a driver manifest (`fixture-manifest.ini` beside it) in
//! its ELF section `.manifest`, put there by `sys::manifest!` as every driver's is.
//!
//! `cargo xtask build` reads the built file with Mercury's ELF front end and checks that the
//! section holds that file byte for byte. Run, it prints one line and exits with status 0.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

sys::entry!(main);
sys::manifest!("src/bin/fixture-manifest.ini");

fn main(_boot: sys::Boot) -> usize {
    sys::println!("fixture-manifest: a program with a manifest");
    0
}
