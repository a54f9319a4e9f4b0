//! ramfs: directories and files in memory, served over the I/O protocol (`docs/io.md`,
//! `docs/ramfs.md`) on its endpoint.
//!
//! Its capabilities are its manifest's (`manifest.ini`): the endpoint it serves, its own CSpace
//! (to mint a capability per open handle), its VSpace and a Memory (the heap that holds the
//! files). The tree's budget is a share of that Memory ([`ramfs::budget`]), so a client that
//! fills it gets `NoSpace`, and ramfs goes on serving.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use sys::io::server::Request;
use sys::{Boot, Endpoint, println};

sys::entry!(main);
sys::manifest!();

fn main(boot: Boot) -> usize {
    let (Some(endpoint), Some(cspace), Some(memory)) =
        (boot.cap("endpoint@0").map(Endpoint::new), boot.cspace(), boot.memory())
    else {
        println!("ramfs: my start page lacks the endpoint, my CSpace or my Memory");
        return 1;
    };
    let free = match memory.info() {
        Ok(info) => info.free() * sys::abi::layout::PAGE_SIZE,
        Err(e) => {
            println!("ramfs: cannot read my Memory: {e:?}");
            return 1;
        }
    };
    let limit = ramfs::budget(free);
    let mut server = match ramfs::Ramfs::new(endpoint, cspace, limit) {
        Ok(s) => s,
        Err(e) => {
            println!("ramfs: cannot make the root: {e}");
            return 1;
        }
    };
    println!("ramfs: serving, {} KiB for files", limit / 1024);
    loop {
        match Request::receive(endpoint) {
            Ok(req) => {
                if let Err(e) = server.serve(req) {
                    println!("ramfs: a reply failed: {e}");
                }
            }
            Err(e) => println!("ramfs: receive failed: {e}"),
        }
    }
}
