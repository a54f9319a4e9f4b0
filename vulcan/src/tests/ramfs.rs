//! Tests of ramfs (`servers/ramfs`, `docs/ramfs.md`): its request handling (`ramfs::Ramfs`) runs
//! on a thread of Vulcan, as the program runs it on its endpoint, and the tests drive it through
//! `sys::io`'s client: files made, written, sought, read back and listed; directories made,
//! listed a page at a time, renamed and removed; every refusal with its error; a budget that
//! fills (`NoSpace`, and then everything still works); and a boot-time fill as Mercury will do it.
//!
//! Every test runs [`isolated`]: the server thread, its Endpoint, every handle's capability and
//! every byte of the tree come back; the server reports no handle left open and its tree's
//! figures agreeing with a recount.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use sys::io::proto::{kind, open};
use sys::io::server::{Op, Request};
use sys::io::{Channel, IO_MAX, IoError, Read, SeekFrom, Write};
use sys::thread::{self, JoinHandle};
use sys::{Boot, Endpoint, Slot, rights, root};

use super::support::{delete, isolated};
use crate::harness::{Reason, Test, TestResult, ensure, ensure_eq, fail, ok};

pub const TESTS: &[Test] = &[
    Test::new("ramfs_files_round_trip", |b| isolated(b, files_round_trip)),
    Test::new("ramfs_directories", |b| isolated(b, directories)),
    Test::new("ramfs_refusals", |b| isolated(b, refusals)),
    Test::new("ramfs_budget_fills_and_recovers", |b| isolated(b, budget_fills_and_recovers)),
    Test::new("ramfs_boot_fill", |b| isolated(b, boot_fill)),
];

/// The operation that stops the test server (not one of the protocol's).
const QUIT: usize = 0x7e;

/// The badge of the test's client channel, as Mercury would give one.
const CLIENT: usize = 1;

/// What the server says when it stops.
#[derive(Debug, PartialEq, Eq)]
struct Report {
    open_handles: usize,
    nodes: usize,
    audit: bool,
}

/// Runs ramfs on `ep` until asked to stop.
fn serve(ep: Endpoint, limit: usize) -> Result<Report, IoError> {
    let mut server = ramfs::Ramfs::new(ep, root::cspace(), limit)?;
    loop {
        let req = Request::receive(ep)?;
        if req.badge() == CLIENT && req.op() == Op::Invalid(QUIT) {
            let fs = server.fs();
            let report = Report { open_handles: server.open_handles(), nodes: fs.nodes(), audit: fs.audit().is_ok() };
            req.reply([0; 4])?;
            return Ok(report);
        }
        server.serve(req)?;
    }
}

/// ramfs on a thread of its own, and a client's channel to it.
struct Server {
    ep: Endpoint,
    thread: JoinHandle<Result<Report, IoError>>,
    files: Channel,
}

impl Server {
    fn start(limit: usize) -> Result<Server, Reason> {
        let ep = ok!(Endpoint::create(root::memory(), Slot::Auto), "endpoint_create");
        let thread = thread::spawn(move || serve(ep, limit));
        let client = ok!(ep.mint(root::cspace(), Slot::Auto, rights::WRITE | rights::GRANT, CLIENT), "cap_mint");
        Ok(Server { ep, thread, files: Channel::new(Endpoint::new(client)) })
    }

    /// Stops the server and checks what it reports: no handle open, `nodes` nodes, a sound tree.
    fn stop(self, nodes: usize) -> TestResult {
        let r = ok!(self.files.endpoint().call([QUIT, 0, 0, 0, 0]), "call(QUIT)");
        ensure_eq!(r[0], 0, "status of QUIT");
        match self.thread.join() {
            Ok(Ok(report)) => {
                ensure_eq!(report, Report { open_handles: 0, nodes, audit: true }, "the server's report")
            }
            other => fail!("the server thread: {other:?}"),
        }
        delete(self.files.cap())?;
        delete(self.ep.cap())
    }
}

/// Runs `body` against a fresh server with budget `limit`, then stops it, expecting `nodes`
/// nodes left.
fn with_server(limit: usize, nodes: usize, body: impl FnOnce(Channel) -> TestResult) -> TestResult {
    let server = Server::start(limit)?;
    let r = body(server.files);
    let stopped = server.stop(nodes);
    r?;
    stopped
}

/// Bytes that differ from place to place.
fn pattern(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32).map(|i| (i.wrapping_mul(31).wrapping_add(seed) % 251) as u8).collect()
}

/// Reads everything left in `file`.
fn read_to_end(file: &mut Channel) -> Result<Vec<u8>, IoError> {
    let mut all = Vec::new();
    let mut buf = [0u8; 300];
    loop {
        match file.read(&mut buf)? {
            0 => return Ok(all),
            n => all.extend_from_slice(&buf[..n]),
        }
    }
}

/// A file made, written across many requests, read back after seeks, appended to, truncated:
/// its size and bytes as written at every step; handles have offsets of their own.
fn files_round_trip(_: &Boot) -> TestResult {
    with_server(1 << 20, 1, |files| {
        let mut f = ok!(files.open_with("/notes", open::CREATE | open::EXCLUSIVE), "open(create)");
        ensure!(f.cap() != files.cap(), "open handed back the channel it was called on");
        let data = pattern(3000, 7);
        ok!(f.write_all(&data), "write_all(3000 bytes)");
        let st = ok!(files.stat("/notes"), "stat");
        ensure_eq!((st.kind, st.size), (kind::FILE, 3000), "stat after writing");
        ensure_eq!(ok!(f.stat(""), "stat of the handle").id, st.id, "the handle's node");
        ensure_eq!(ok!(f.seek(SeekFrom::Start(0)), "seek(start)"), 0, "offset");
        ensure!(ok!(read_to_end(&mut f), "read back") == data, "the bytes read back differ from those written");
        ensure_eq!(ok!(f.seek(SeekFrom::End(-10)), "seek(end - 10)"), 2990, "offset");
        let mut tail = [0u8; 64];
        ensure_eq!(ok!(f.read(&mut tail), "read the tail"), 10, "bytes at the end");
        ensure_eq!(&tail[..10], &data[2990..], "the tail");
        ensure_eq!(ok!(f.read(&mut tail), "read at the end"), 0, "the end of the file");
        ensure_eq!(ok!(f.seek(SeekFrom::Current(-1000)), "seek(back 1000)"), 2000, "offset");
        ok!(f.write_all(b"XYZ"), "overwrite");
        // A second handle starts at 0 and sees the change; writing past the end leaves zeros.
        let mut g = ok!(files.open("/notes"), "open again");
        let mut head = [0u8; 4];
        ok!(g.read_exact(&mut head), "read through the second handle");
        ensure_eq!(&head[..], &data[..4], "the second handle's first bytes");
        ok!(g.seek(SeekFrom::Start(2000)), "seek the second handle");
        ok!(g.read_exact(&mut head[..3]), "read the overwrite");
        ensure_eq!(&head[..3], b"XYZ", "what the first handle wrote");
        ok!(g.seek(SeekFrom::Start(5000)), "seek past the end");
        ok!(g.write_all(b"!"), "write past the end");
        ensure_eq!(ok!(files.stat("/notes"), "stat").size, 5001, "size after the write past the end");
        ok!(g.seek(SeekFrom::Start(3000)), "seek to the gap");
        let gap = ok!(read_to_end(&mut g), "read the gap");
        ensure!(gap.len() == 2001 && gap[..2000].iter().all(|&b| b == 0) && gap[2000] == b'!', "the gap is zeros");
        // Append: every write goes to the end, wherever the offset is.
        let mut a = ok!(files.open_with("/notes", open::APPEND), "open(append)");
        ok!(a.write_all(b"end"), "append");
        ensure_eq!(ok!(files.stat("/notes"), "stat").size, 5004, "size after the append");
        let st = ok!(a.status(), "status");
        ensure_eq!(st.readable, 0, "an append handle's offset is the end");
        // Truncate empties it; the old handles see the new size.
        let t = ok!(files.open_with("notes", open::TRUNCATE), "open(truncate)");
        ensure_eq!(ok!(files.stat("notes"), "stat").size, 0, "size after truncation");
        ensure_eq!(ok!(f.seek(SeekFrom::End(0)), "seek(end)"), 0, "the end after truncation");
        for h in [f, g, a, t] {
            ok!(h.close(), "close");
        }
        ok!(files.unlink("/notes"), "unlink");
        Ok(())
    })
}

/// Directories: made one at a time and all at once, listed (in name order, a page at a time
/// when they are long), moved, and removed when empty.
fn directories(_: &Boot) -> TestResult {
    with_server(1 << 20, 1, |files| {
        ok!(files.mkdir("/etc"), "mkdir(/etc)");
        ok!(files.mkdir_all("/usr/share/doc"), "mkdir_all(/usr/share/doc)");
        ok!(files.mkdir_all("/usr/share"), "mkdir_all of what exists");
        ensure!(ok!(files.stat("/usr/share/doc"), "stat").is_dir(), "/usr/share/doc is a directory");
        // Enough long names that a listing takes several replies.
        let mut want = Vec::new();
        for i in 0..40 {
            let name = format!("a-rather-long-file-name-number-{i:02}");
            let mut f = ok!(files.open_with(&format!("/etc/{name}"), open::CREATE), "create");
            ok!(f.write_all(&pattern(i, 1)), "write");
            ok!(f.close(), "close");
            want.push((name, i as u64));
        }
        let st = ok!(files.stat("/etc"), "stat(/etc)");
        ensure_eq!((st.kind, st.size), (kind::DIRECTORY, 40), "stat of a directory: its entries");
        let first = ok!(files.read_dir("/etc", 0), "read_dir");
        ensure!(
            !first.is_last() && first.count > 0 && first.count < 40,
            "a long listing takes pages ({})",
            first.count
        );
        ensure_eq!(first.total, 40, "total");
        let mut got: Vec<(String, u64)> = Vec::new();
        ok!(files.for_each_entry("/etc", |e| got.push((String::from(e.name), e.size))), "for_each_entry");
        ensure!(got == want, "the listing: got {got:?}");
        // A directory handle lists with an empty path.
        let d = ok!(files.open_with("/usr", open::DIRECTORY), "open(/usr, DIRECTORY)");
        let page = ok!(d.read_dir("", 0), "read_dir through the handle");
        let names: Vec<&str> = page.entries().map(|e| e.name).collect();
        ensure_eq!(names, ["share"], "/usr's entries");
        ensure!(page.entries().all(|e| e.kind == kind::DIRECTORY), "share is a directory");
        ok!(d.close(), "close");
        // Moves: a file across directories, onto another file, and a whole directory.
        ok!(files.rename("/etc/a-rather-long-file-name-number-05", "/usr/five"), "rename across");
        ok!(files.rename("/etc/a-rather-long-file-name-number-06", "/usr/five"), "rename onto a file");
        ensure_eq!(ok!(files.stat("/usr/five"), "stat").size, 6, "the file that replaced the other");
        ok!(files.rename("/usr/share", "/opt"), "rename a directory");
        ensure!(ok!(files.stat("/opt/doc"), "stat").is_dir(), "the moved directory's child");
        ensure_eq!(files.stat("/usr/share").map(|_| ()), Err(IoError::NotFound), "the old name");
        // Remove everything again.
        ok!(files.unlink("/usr/five"), "unlink");
        ok!(files.rmdir("/opt/doc"), "rmdir");
        for dir in ["/opt", "/usr"] {
            ok!(files.rmdir(dir), "rmdir");
        }
        for (name, _) in &want[..] {
            if name.ends_with("05") || name.ends_with("06") {
                continue;
            }
            ok!(files.unlink(&format!("/etc/{name}")), "unlink");
        }
        ok!(files.rmdir("/etc"), "rmdir(/etc)");
        ensure_eq!(ok!(files.read_dir("/", 0), "read_dir(/)").total, 0, "entries left in the root");
        Ok(())
    })
}

/// A refusal: what was done, what it answered, what it should have.
type Case = (&'static str, Result<(), IoError>, Result<(), IoError>);

/// Every refusal, with its error; the server goes on serving after each.
fn refusals(_: &Boot) -> TestResult {
    with_server(1 << 20, 3, |files| {
        ok!(files.mkdir("/d"), "mkdir");
        let mut f = ok!(files.open_with("/d/f", open::CREATE), "create");
        ok!(f.write_all(b"x"), "write");
        let cases: [Case; 14] = [
            ("open of nothing", files.open("/nothing").map(|_| ()), Err(IoError::NotFound)),
            ("create under nothing", files.open_with("/no/f", open::CREATE).map(|_| ()), Err(IoError::NotFound)),
            ("create under a file", files.open_with("/d/f/g", open::CREATE).map(|_| ()), Err(IoError::NotADirectory)),
            (
                "exclusive create",
                files.open_with("/d/f", open::CREATE | open::EXCLUSIVE).map(|_| ()),
                Err(IoError::Exists),
            ),
            (
                "a file as a directory",
                files.open_with("/d/f", open::DIRECTORY).map(|_| ()),
                Err(IoError::NotADirectory),
            ),
            ("truncate a directory", files.open_with("/d", open::TRUNCATE).map(|_| ()), Err(IoError::IsADirectory)),
            ("unknown open flags", files.open_with("/d/f", 0x1000).map(|_| ()), Err(IoError::BadRequest)),
            ("a `..` component", files.stat("/d/../d").map(|_| ()), Err(IoError::BadRequest)),
            ("mkdir of a name taken", files.mkdir("/d"), Err(IoError::Exists)),
            ("unlink of a directory", files.unlink("/d"), Err(IoError::IsADirectory)),
            ("rmdir of a file", files.rmdir("/d/f"), Err(IoError::NotADirectory)),
            ("rmdir of a full directory", files.rmdir("/d"), Err(IoError::NotEmpty)),
            ("a directory into itself", files.rename("/d", "/d/e"), Err(IoError::BadRequest)),
            ("remove the root", files.rmdir("/"), Err(IoError::BadRequest)),
        ];
        for (what, got, want) in cases {
            ensure_eq!(got, want, "{what}");
        }
        let long = String::from_utf8(alloc::vec![b'a'; IO_MAX + 1]).unwrap_or_default();
        ensure_eq!(files.stat(&long).map(|_| ()), Err(IoError::BadRequest), "a path longer than IO_MAX");
        ensure_eq!(files.rename(&long[..300], &long[..300]), Err(IoError::BadRequest), "two paths over IO_MAX");
        // Handle operations through the channel, which is no handle.
        let mut plain = files;
        ensure_eq!(plain.write(b"abc"), Err(IoError::Closed), "write through the channel");
        ensure_eq!(plain.seek(SeekFrom::Start(0)), Err(IoError::Closed), "seek through the channel");
        ensure_eq!(f.notify(None, 1), Err(IoError::Unsupported), "notify of a file");
        ensure_eq!(f.seek(SeekFrom::Current(-5)), Err(IoError::BadRequest), "seek before the start");
        let d = ok!(files.open("/d"), "open a directory");
        ensure_eq!(d.try_read(&mut [0u8; 4]), Err(IoError::IsADirectory), "read of a directory");
        ok!(d.close(), "close");
        // A removed file's handles are closed; a moved file's stay good.
        ok!(files.rename("/d/f", "/d/g"), "rename");
        ok!(f.seek(SeekFrom::Start(0)), "seek after the rename");
        ensure_eq!(ok!(f.read(&mut [0u8; 4]), "read after the rename"), 1, "bytes read");
        ok!(files.unlink("/d/g"), "unlink");
        ensure_eq!(f.write(b"late"), Err(IoError::Closed), "write to a removed file");
        ensure_eq!(f.stat("").map(|_| ()), Err(IoError::Closed), "stat of a removed file's handle");
        ok!(f.close(), "close");
        ok!(files.open_with("/d/h", open::CREATE).and_then(Channel::close), "create and close");
        Ok(())
    })
}

/// A small budget fills: writes then fail with NoSpace and change nothing, making files fails,
/// reads and listings go on; removing a file gives its room back and writes work again.
fn budget_fills_and_recovers(_: &Boot) -> TestResult {
    const LIMIT: usize = 48 * 1024;
    with_server(LIMIT, 1, |files| {
        let mut f = ok!(files.open_with("/big", open::CREATE), "create");
        let chunk = pattern(IO_MAX, 3);
        let mut written = 0usize;
        let refused = loop {
            match f.write(&chunk) {
                Ok(n) => written += n,
                Err(e) => break e,
            }
            ensure!(written <= LIMIT, "wrote {written} bytes with a budget of {LIMIT}");
        };
        ensure_eq!(refused, IoError::NoSpace, "the write that does not fit");
        ensure!(written > LIMIT / 2, "only {written} bytes fitted a budget of {LIMIT}");
        ensure_eq!(ok!(files.stat("/big"), "stat").size, written as u64, "size: the refused write changed nothing");
        // Making things fails too, once there is no room for a name.
        let mut made = 0;
        let refused = loop {
            match files.mkdir(&format!("/dir-with-a-name-that-takes-room-{made}")) {
                Ok(()) => made += 1,
                Err(e) => break e,
            }
            ensure!(made < 10_000, "mkdir never ran out of room");
        };
        ensure_eq!(refused, IoError::NoSpace, "a mkdir that does not fit");
        // Reads and listings still work.
        ok!(f.seek(SeekFrom::Start(0)), "seek");
        let back = ok!(read_to_end(&mut f), "read back");
        ensure!(back.len() == written && back.chunks(IO_MAX).all(|c| c == &chunk[..c.len()]), "the bytes read back");
        ensure_eq!(ok!(files.read_dir("/", 0), "read_dir").total, made + 1, "entries");
        // Room again.
        ok!(f.close(), "close");
        ok!(files.unlink("/big"), "unlink");
        let mut g = ok!(files.open_with("/again", open::CREATE), "create after the unlink");
        ok!(g.write_all(&pattern(4096, 9)), "write after the unlink");
        ok!(g.close(), "close");
        ok!(files.unlink("/again"), "unlink");
        for i in 0..made {
            ok!(files.rmdir(&format!("/dir-with-a-name-that-takes-room-{i}")), "rmdir");
        }
        Ok(())
    })
}

/// The fill Mercury will do at boot: every member written as /bin/NAME or /etc/NAME, the
/// directories made on the way by the open itself, in one pass; then listed with sizes.
fn boot_fill(_: &Boot) -> TestResult {
    let members: [(&str, usize); 5] =
        [("bin/echo", 1500), ("bin/cat", 700), ("bin/ls", 0), ("etc/boot.ini", 321), ("etc/rc/motd", 12)];
    with_server(1 << 20, 1, |files| {
        for (i, &(name, size)) in members.iter().enumerate() {
            let flags = open::CREATE | open::TRUNCATE | open::PARENTS;
            let mut f = ok!(files.open_with(&format!("/{name}"), flags), "open({name})");
            ok!(f.write_all(&pattern(size, i as u32)), "write({name})");
            ok!(f.close(), "close({name})");
        }
        let mut bin = Vec::new();
        ok!(files.for_each_entry("/bin", |e| bin.push((String::from(e.name), e.size))), "list /bin");
        ensure_eq!(
            bin,
            [(String::from("cat"), 700), (String::from("echo"), 1500), (String::from("ls"), 0)],
            "/bin's entries and sizes"
        );
        for (i, &(name, size)) in members.iter().enumerate() {
            let mut f = ok!(files.open(name), "open({name})");
            ensure!(ok!(read_to_end(&mut f), "read({name})") == pattern(size, i as u32), "{name}'s bytes");
            ok!(f.close(), "close");
        }
        for (name, _) in members {
            ok!(files.unlink(name), "unlink({name})");
        }
        for dir in ["/etc/rc", "/etc", "/bin"] {
            ok!(files.rmdir(dir), "rmdir({dir})");
        }
        Ok(())
    })
}
