//! System test: a client of the serial driver, started by Mercury from the system test's boot
//! configuration (`vulcan/system/boot.ini`), connected to the `serial` service its manifest
//! (`system-client.ini`) names.
//!
//! It opens COM1 through pcserial and writes one line, which must appear on the serial log once
//! (through the driver's UART, not the kernel's: COM1 belongs to pcserial by then). Then it makes,
//! writes, reads back, lists and removes a file through ramfs (the `files` service: the real
//! program, with its manifest's CSpace and Memory), and says so on COM1. It then sleeps
//! long enough, in the kernel's time, for Mercury to have given up on the crashing driver of the
//! same test, and exits with status 0; its boot configuration says `finish = yes`, so Mercury ends
//! the run with that status. Any failure is one line and a nonzero status.
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use sys::io::proto::open;
use sys::io::{Channel, IoError, Read, SeekFrom, Write};
use sys::{Endpoint, println};

sys::entry!(main);
sys::manifest!("src/bin/system-client.ini");

/// How long to wait for the crashing driver's five restarts (0.1 + 0.2 + 0.4 + 0.8 + 1.6 s)
/// and Mercury's giving up on it, with room to spare: timers run on the kernel's clock, so the
/// order of these events does not depend on the host's speed.
const WAIT_US: usize = 6_000_000;

fn main(boot: sys::Boot) -> usize {
    let Some(serial) = boot.cap("serial") else {
        println!("system-client: no `serial` service in my start page");
        return 2;
    };
    let mut com1 = match Channel::new(Endpoint::new(serial)).open("com1") {
        Ok(c) => c,
        Err(e) => {
            println!("system-client: open(com1) failed: {e}");
            return 3;
        }
    };
    if let Err(e) = com1.write_all(b"system-client: hello through pcserial\n") {
        println!("system-client: write to com1 failed: {e}");
        return 4;
    }
    let Some(files) = boot.cap("files") else {
        println!("system-client: no `files` service in my start page");
        return 7;
    };
    match ramfs_round_trip(Channel::new(Endpoint::new(files))) {
        Ok(()) => {
            if let Err(e) = com1.write_all(b"system-client: ramfs round trip ok\n") {
                println!("system-client: write to com1 failed: {e}");
                return 4;
            }
        }
        Err(e) => {
            println!("system-client: the ramfs round trip failed: {e}");
            return 8;
        }
    }
    if let Err(e) = sys::thread::sleep_us(WAIT_US) {
        println!("system-client: sleep failed: {e:?}");
        return 5;
    }
    if let Err(e) = com1.write_all(b"system-client: done\n") {
        println!("system-client: the second write to com1 failed: {e}");
        return 6;
    }
    0
}

/// A file made (its directory with it), written, read back from an offset, listed, and removed
/// again, through ramfs.
fn ramfs_round_trip(files: Channel) -> Result<(), IoError> {
    let mut f = files.open_with("/etc/motd", open::CREATE | open::TRUNCATE | open::PARENTS)?;
    f.write_all(b"hello from ramfs")?;
    f.seek(SeekFrom::Start(6))?;
    let mut buf = [0u8; 32];
    let n = f.read(&mut buf)?;
    f.close()?;
    let mut listed = false;
    files.for_each_entry("/etc", |e| listed |= e.name == "motd" && e.size == 16)?;
    if &buf[..n] != b"from ramfs" || files.stat("/etc/motd")?.size != 16 || !listed {
        return Err(IoError::Device);
    }
    files.unlink("/etc/motd")?;
    files.rmdir("/etc")
}
