//! System test: a client of the serial driver, started by Mercury from the system test's boot
//! configuration (`vulcan/system/boot.ini`), connected to the `serial` service its manifest
//! (`system-client.ini`) names.
//!
//! It opens COM1 through pcserial and writes one line, which must appear on the serial log once
//! (through the driver's UART, not the kernel's: COM1 belongs to pcserial by then). Then it makes,
//! writes, reads back, lists and removes a file through ramfs (the `files` service: the real
//! program, with its manifest's CSpace and Memory, which Mercury filled at boot: `/etc/boot.ini`
//! and `/bin` must be there), and says so on COM1. It checks `proc`'s children, and that a
//! server which crashes with its call in hand (`system-flaky`) answers it with `NoReply`, fails
//! calls while it is down and is reached again once Mercury restarted it ([`flaky`]). It then
//! sleeps long enough, in the kernel's time, for Mercury to have given up on the crashing driver
//! of the same test, and exits with status 0; its boot configuration says `finish = yes`, so
//! Mercury ends the run with that status. Any failure is one line and a nonzero status.
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

/// Starts `system-child` twice through Mercury's `proc` service, its standard output this
/// program's COM1 channel: once to print and exit 7, once to fault; checks what `wait` reports,
/// then `system-com2`, which reads a line typed into COM2; and that `list` knows pcserial and has
/// forgotten the released children. Returns a line saying what went wrong, if anything did.
fn children(boot: &sys::Boot, com1: sys::Cap) -> Result<(), alloc::string::String> {
    use alloc::format;
    use sys::proc::{ExitStatus, Proc};
    let proc =
        Proc::from_boot(boot).ok_or_else(|| alloc::string::String::from("system-client: no `proc` service\n"))?;
    let child = proc
        .spawn("bin/system-child", &["one", "two"], [None, Some(com1), None])
        .map_err(|e| format!("system-client: spawn failed: {e}\n"))?;
    let status = child.wait().map_err(|e| format!("system-client: wait failed: {e}\n"))?;
    if status != ExitStatus::Exited(7) {
        return Err(format!("system-client: the child ended {status:?}, not with status 7\n"));
    }
    child.release();
    let faulty = proc
        .spawn("bin/system-child", &["fault"], [None, Some(com1), None])
        .map_err(|e| format!("system-client: spawn (fault) failed: {e}\n"))?;
    match faulty.wait() {
        Ok(ExitStatus::Faulted { vector: 14, address: 0x0000_5000_0000_0000, .. }) => {}
        other => return Err(format!("system-client: the faulting child ended {other:?}\n")),
    }
    faulty.release();
    match proc.spawn("bin/no-such-program", &[], [None; 3]) {
        Err(sys::io::IoError::NotFound) => {}
        other => return Err(format!("system-client: spawning a missing program: {:?}\n", other.map(drop))),
    }
    // A third child reads a line xtask types into COM2 (the socket behind QEMU's second port).
    let reader = proc
        .spawn("bin/system-com2", &[], [None, Some(com1), None])
        .map_err(|e| format!("system-client: spawn (system-com2) failed: {e}\n"))?;
    let status = reader.wait().map_err(|e| format!("system-client: wait (system-com2) failed: {e}\n"))?;
    reader.release();
    if status != ExitStatus::Exited(0) {
        return Err(format!("system-client: system-com2 ended {status:?}, not with status 0\n"));
    }
    let mut names = alloc::vec::Vec::new();
    while let Ok(e) = proc.list(names.len()) {
        names.push(e.name);
    }
    if !names.iter().any(|n| n == "pcserial") {
        return Err(format!("system-client: proc's list lacks pcserial: {names:?}\n"));
    }
    // The children ended and were released: Mercury has forgotten them.
    if names.iter().any(|n| n == "system-child" || n == "system-com2") {
        return Err(format!("system-client: proc's list still has a released child: {names:?}\n"));
    }
    let mut com1 = Channel::new(Endpoint::new(com1));
    com1.write_all(b"system-client: the children ended as they should\n").map_err(|e| format!("{e}\n"))
}

extern crate alloc;

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
    if let Err(why) = children(&boot, com1.cap()) {
        let _ = com1.write_all(why.as_bytes());
        return 9;
    }
    match flaky(&boot) {
        Ok(lines) => {
            if let Err(e) = com1.write_all(lines.as_bytes()) {
                println!("system-client: write to com1 failed: {e}");
                return 4;
            }
        }
        Err(why) => {
            let _ = com1.write_all(why.as_bytes());
            return 10;
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

/// The `flaky` service (`system-flaky`): its first start takes the first call and crashes, so
/// the call must fail with `NoReply`; until Mercury has restarted it (after 100 ms) a call must
/// fail, not wait (the capability went with the crashed server's Endpoint); once it runs again,
/// the same capability slot must reach it (Mercury puts a capability to the new Endpoint there),
/// and it answers with its restart count, 1. Returns the lines to write on COM1.
fn flaky(boot: &sys::Boot) -> Result<alloc::string::String, alloc::string::String> {
    use alloc::format;
    use sys::abi::Error::{InvalidCapability, NoReply};
    let Some(cap) = boot.cap("flaky") else {
        return Err(alloc::string::String::from("system-client: no `flaky` service in my start page\n"));
    };
    let flaky = Endpoint::new(cap);
    let mut lines = alloc::string::String::new();
    match flaky.call([1, 0, 0, 0, 0]) {
        Err(sys::Error::Abi(NoReply)) => lines.push_str("system-client: flaky: no reply, it crashed\n"),
        other => return Err(format!("system-client: the call flaky crashed on gave {other:?}, not NoReply\n")),
    }
    match flaky.call([2, 0, 0, 0, 0]) {
        Err(sys::Error::Abi(InvalidCapability)) => {
            lines.push_str("system-client: flaky: a call while it is down fails\n")
        }
        other => return Err(format!("system-client: a call to flaky while it is down gave {other:?}\n")),
    }
    // Mercury restarts it after 100 ms (of the kernel's clock); 500 ms leave room.
    sys::thread::sleep_us(500_000).map_err(|e| format!("system-client: sleep failed: {e:?}\n"))?;
    match flaky.call([3, 0, 0, 0, 0]) {
        Ok([1, ..]) => lines.push_str("system-client: flaky: answered after its restart (restart 1)\n"),
        other => return Err(format!("system-client: a call to the restarted flaky gave {other:?}\n")),
    }
    Ok(lines)
}

/// The boot configuration Mercury copied into ramfs at boot is there; a file made (its directory
/// with it), written, read back from an offset, listed, and removed again, through ramfs.
fn ramfs_round_trip(files: Channel) -> Result<(), IoError> {
    if !files.stat("/etc/boot.ini")?.is_file() || !files.stat("/bin/system-child")?.is_file() {
        return Err(IoError::Device);
    }
    let mut f = files.open_with("/home/motd", open::CREATE | open::TRUNCATE | open::PARENTS)?;
    f.write_all(b"hello from ramfs")?;
    f.seek(SeekFrom::Start(6))?;
    let mut buf = [0u8; 32];
    let n = f.read(&mut buf)?;
    f.close()?;
    let mut listed = false;
    files.for_each_entry("/home", |e| listed |= e.name == "motd" && e.size == 16)?;
    if &buf[..n] != b"from ramfs" || files.stat("/home/motd")?.size != 16 || !listed {
        return Err(IoError::Device);
    }
    files.unlink("/home/motd")?;
    files.rmdir("/home")
}
