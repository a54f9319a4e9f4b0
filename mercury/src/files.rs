//! Filling the file server at boot: once the program that provides `files` (ramfs) has started,
//! Mercury copies into it, through the I/O protocol like any client, the initramfs members
//! `loader::files` picks: every program to `/bin/NAME`, the boot configuration to
//! `/etc/boot.ini`, and makes `/tmp`.
//!
//! The copies are for looking at (`ls /bin`, `cat /etc/boot.ini`): programs are still started
//! from the initramfs, which is mapped already and cannot change (`docs/ramfs.md`).
//!
//! Mercury waits for each answer (a `call`), so it copies before it starts the programs after
//! the file server; a file server that fails an operation (its quota full) is one line per file,
//! and the boot goes on.

use alloc::string::String;

use loader::files::{DIRECTORIES, destination};
use loader::tar::Archive;
use sys::io::proto::open::{CREATE, PARENTS, TRUNCATE};
use sys::io::{Channel, IoError, Write};
use sys::{Endpoint, println};

/// Copies the chosen members of `archive` into the file server on `files`; says how many files
/// it copied and how many bytes, or, per file that failed, why.
pub fn fill(archive: &Archive<'_>, files: Endpoint) {
    let server = Channel::new(files);
    for dir in DIRECTORIES {
        if let Err(e) = server.mkdir_all(dir) {
            println!("mercury: files: cannot make {dir}: {e}");
        }
    }
    let (mut copied, mut bytes) = (0usize, 0usize);
    for member in archive.members() {
        if member.kind() != loader::tar::MemberKind::File {
            continue;
        }
        let Some(to) = path_of(&member).as_deref().and_then(destination) else { continue };
        match copy(&server, &to, member.data) {
            Ok(()) => {
                copied += 1;
                bytes += member.data.len();
            }
            Err(e) => println!("mercury: files: cannot copy {to}: {e}"),
        }
    }
    println!("mercury: files: copied {copied} files ({} KiB) from the initramfs", bytes.div_ceil(1024));
}

/// A member's path, `prefix/name`, if it is UTF-8.
fn path_of(member: &loader::tar::Member<'_>) -> Option<String> {
    let name = core::str::from_utf8(member.name).ok()?;
    if member.prefix.is_empty() {
        return Some(String::from(name));
    }
    let prefix = core::str::from_utf8(member.prefix).ok()?;
    Some(alloc::format!("{prefix}/{name}"))
}

/// Writes `data` as the file `to` (made, with its directories, or emptied), and closes it. A
/// failed write removes the partial file.
fn copy(server: &Channel, to: &str, data: &[u8]) -> Result<(), IoError> {
    let mut file = server.open_with(to, CREATE | TRUNCATE | PARENTS)?;
    let written = file.write_all(data);
    let closed = file.close();
    if written.is_err() {
        let _ = server.unlink(to);
    }
    written.and(closed)
}
