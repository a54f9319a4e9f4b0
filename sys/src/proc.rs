//! Programs starting programs: the client side of Mercury's `proc` service (`docs/mercury.md`,
//! "Spawning programs").
//!
//! A program whose manifest names the service `proc` (`[services] proc=`) finds it in its start
//! page ([`Proc::from_boot`]). [`Proc::spawn`] has Mercury start the initramfs program at a path
//! with arguments, and with up to three standard streams: I/O channels ([`crate::io::Channel`])
//! the child finds as `stdin`, `stdout` and `stderr` ([`crate::io::stdin`] and friends), so a
//! shell hands a child its terminal, a file, or one end of a pipe. The [`Child`] it returns
//! waits for the child's end ([`Child::wait`]: its exit status, or the fault that ended it) or
//! ends it ([`Child::kill`]). A child that faults is reported this way and nothing else is
//! disturbed: Mercury does not restart programs started through `proc`.
//!
//! The wire format: each request is a `call` (`crate::io`'s conventions: op in word 0, status in
//! the reply's word 0, [`IoError`] codes) on the `proc` capability or on a child's handle:
//!
//! | op | on | request | reply |
//! | --- | --- | --- | --- |
//! | [`SPAWN`] 0x20 | `proc` | data: the path, then each argument, each ending in a NUL | the child's handle (a capability) |
//! | [`STREAM`] 0x21 | a handle | word 1: 0 stdin, 1 stdout, 2 stderr; the channel as the request's capability | - |
//! | [`START`] 0x22 | a handle | - | - |
//! | [`WAIT`] 0x23 | a handle | - (answered when the child ends) | [`how`], status or vector, fault address, fault `rip` |
//! | [`KILL`] 0x24 | a handle | - | - |
//! | [`KILL`] 0x24 | `proc` | word 1: an index, as `list` numbers the table | - (`BadRequest`: not a child started through `proc`; `NotFound`: no such entry, or it has ended) |
//! | [`LIST`] 0x25 | `proc` | word 1: an index | state, pages charged, pages quota, name length; data: the name (`NotFound` past the last; entry 0 is Mercury itself, with the root Memory's pages) |
//! | [`POWEROFF`] 0x26 | `proc` | - | (no reply when it works: the machine is off) |
//! | [`RELEASE`] 0x27 | a handle | - (the client deletes the handle next) | - |
//! | [`ENV`] 0x28 | a handle | word 1: the data's length; data: `KEY=VALUE` entries, each ending in a NUL (at most 1024 bytes in all per child) | - |

use alloc::string::String;
use alloc::vec::Vec;

use crate::cap::{Cap, Slot};
use crate::io::{Channel, IO_MAX, IoError};
use crate::ipc::Endpoint;
use crate::rt::Boot;

/// `spawn`: prepare a child (not started).
pub const SPAWN: usize = 0x20;
/// `stream`: give a prepared child a standard stream.
pub const STREAM: usize = 0x21;
/// `start`: start a prepared child.
pub const START: usize = 0x22;
/// `wait`: wait for a child's end.
pub const WAIT: usize = 0x23;
/// `kill`: end a child.
pub const KILL: usize = 0x24;
/// `list`: one entry of Mercury's program table, by index.
pub const LIST: usize = 0x25;
/// `poweroff`: have Mercury power the machine off.
pub const POWEROFF: usize = 0x26;
/// `release`: the client lets a child's handle go (Mercury forgets the child once it ends).
pub const RELEASE: usize = 0x27;
/// `env`: add entries to a prepared child's environment.
///
/// ```
/// assert_eq!(sys::proc::ENV, 0x28);
/// ```
pub const ENV: usize = 0x28;

/// How a child ended (`wait`'s reply word 1).
pub mod how {
    /// It exited; word 2 is its status.
    pub const EXITED: usize = 1;
    /// It faulted; word 2 is the vector, words 3 and 4 the address and `rip`.
    pub const FAULTED: usize = 2;
    /// It was killed (`kill`).
    pub const KILLED: usize = 3;
}

/// The standard streams, as `stream`'s word 1 numbers them.
///
/// ```
/// assert_eq!(sys::proc::Stream::Out as usize, 1);
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Stream {
    /// What the child reads (`stdin`).
    In = 0,
    /// What it writes (`stdout`).
    Out = 1,
    /// Where its errors go (`stderr`).
    Err = 2,
}

/// How a child ended.
///
/// ```no_run
/// # fn demo(child: sys::proc::Child) -> Result<(), sys::io::IoError> {
/// if let sys::proc::ExitStatus::Exited(0) = child.wait()? {
///     sys::println!("it went well");
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// It exited with this status.
    Exited(usize),
    /// It faulted: the vector, the faulting address (page faults) and `rip`.
    Faulted {
        /// The exception vector.
        vector: usize,
        /// The address touched, for a page fault.
        address: usize,
        /// Where it faulted.
        rip: usize,
    },
    /// It was killed.
    Killed,
}

impl ExitStatus {
    /// The status a shell reports in `$?`: the exit status, 128 + the vector for a fault, 137 for
    /// a kill (as Unix shells do for signals).
    ///
    /// ```
    /// use sys::proc::ExitStatus;
    /// assert_eq!(ExitStatus::Exited(3).code(), 3);
    /// assert_eq!(ExitStatus::Faulted { vector: 14, address: 0, rip: 0 }.code(), 142);
    /// assert_eq!(ExitStatus::Killed.code(), 137);
    /// ```
    pub fn code(&self) -> usize {
        match *self {
            ExitStatus::Exited(s) => s,
            ExitStatus::Faulted { vector, .. } => 128 + vector,
            ExitStatus::Killed => 137,
        }
    }
}

/// One entry of Mercury's program table ([`Proc::list`]).
///
/// ```no_run
/// # fn demo(proc: sys::proc::Proc) -> Result<(), sys::io::IoError> {
/// let first = proc.list(0)?;
/// sys::println!("{} uses {} of {} pages", first.name, first.used, first.quota);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The program's name.
    pub name: String,
    /// Its state: 1 running, 2 stopped (waiting to restart, or given up on), 3 prepared.
    pub state: usize,
    /// Pages charged to its Memory now.
    pub used: usize,
    /// Its Memory's quota.
    pub quota: usize,
    /// Its place in the table.
    pub id: usize,
}

/// Mercury's `proc` service (see the module docs).
///
/// ```no_run
/// # fn demo(boot: sys::Boot) -> Result<(), sys::io::IoError> {
/// let proc = sys::proc::Proc::from_boot(&boot).expect("my manifest names `proc`");
/// proc.spawn("bin/echo", &["hi"], [None; 3])?.release();
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Proc(Endpoint);

/// A child started through [`Proc::spawn`].
///
/// ```no_run
/// # fn demo(proc: sys::proc::Proc) -> Result<(), sys::io::IoError> {
/// let child = proc.spawn("bin/sleeper", &[], [None; 3])?;
/// child.kill()?;
/// assert_eq!(child.wait()?, sys::proc::ExitStatus::Killed);
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Child(Endpoint);

impl Proc {
    /// The service, from the capability named `proc` in the program's start page.
    ///
    /// ```no_run
    /// # fn demo(boot: sys::Boot) {
    /// let Some(proc) = sys::proc::Proc::from_boot(&boot) else { return };
    /// # let _ = proc;
    /// # }
    /// ```
    pub fn from_boot(boot: &Boot) -> Option<Proc> {
        boot.cap("proc").map(|c| Proc(Endpoint::new(c)))
    }

    /// The service over `endpoint`.
    ///
    /// ```no_run
    /// # fn demo(e: sys::Endpoint) {
    /// let proc = sys::proc::Proc::new(e);
    /// # let _ = proc;
    /// # }
    /// ```
    pub const fn new(endpoint: Endpoint) -> Proc {
        Proc(endpoint)
    }

    /// Starts the program at `path` (an initramfs member, such as `bin/echo`) with `args` (after
    /// its name) and the standard `streams` it is given (each a channel capability, or none).
    ///
    /// # Errors
    /// `BadRequest` if the path and arguments take more than [`IO_MAX`] bytes or contain a NUL;
    /// as Mercury says (`NotFound`: no such program; `NoSpace`: no memory or no room in its
    /// table; `Device`: the program could not be started: a bad ELF file or manifest).
    ///
    /// ```no_run
    /// use sys::proc::{ExitStatus, Proc};
    /// # fn demo(proc: Proc, terminal: sys::Cap) -> Result<(), sys::io::IoError> {
    /// let child = proc.spawn("bin/echo", &["hello"], [None, Some(terminal), Some(terminal)])?;
    /// assert_eq!(child.wait()?, ExitStatus::Exited(0));
    /// # Ok(())
    /// # }
    /// ```
    pub fn spawn(&self, path: &str, args: &[&str], streams: [Option<Cap>; 3]) -> Result<Child, IoError> {
        self.spawn_with(path, args, &[], streams)
    }

    /// As [`spawn`](Proc::spawn), with `env`: `KEY=VALUE` entries the child finds in its
    /// environment ([`Boot::env_var`]) after its manifest's. The shell gives every program its
    /// working directory this way, as `PWD`.
    ///
    /// # Errors
    /// As [`spawn`](Proc::spawn); `BadRequest` also for an entry without `=` or with a NUL, or
    /// entries of more than [`IO_MAX`] bytes; `NoSpace` if they pass Mercury's limit.
    ///
    /// ```no_run
    /// # fn demo(proc: sys::proc::Proc, terminal: sys::Cap) -> Result<(), sys::io::IoError> {
    /// let child = proc.spawn_with("bin/ls", &[], &["PWD=/tmp"], [None, Some(terminal), Some(terminal)])?;
    /// child.wait()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn spawn_with(
        &self,
        path: &str,
        args: &[&str],
        env: &[&str],
        streams: [Option<Cap>; 3],
    ) -> Result<Child, IoError> {
        let mut environment = Vec::new();
        for entry in env {
            if entry.as_bytes().contains(&0) || !entry.contains('=') || entry.starts_with('=') {
                return Err(IoError::BadRequest);
            }
            environment.extend_from_slice(entry.as_bytes());
            environment.push(0);
        }
        if environment.len() > IO_MAX {
            return Err(IoError::BadRequest);
        }
        let mut data = Vec::new();
        for part in core::iter::once(&path).chain(args) {
            if part.as_bytes().contains(&0) {
                return Err(IoError::BadRequest);
            }
            data.extend_from_slice(part.as_bytes());
            data.push(0);
        }
        if data.len() > IO_MAX {
            return Err(IoError::BadRequest);
        }
        let channel = Channel::new(self.0);
        let handle = channel.request(
            [SPAWN, data.len(), 0, 0, 0],
            &data,
            |b| b.set_recv_slot(Some(Slot::Auto)),
            |b, reply| (reply[0] == 0).then(|| b.received()).flatten(),
        )?;
        let child = Child(Endpoint::new(handle.ok_or(IoError::Unsupported)?));
        let prepared = (|| {
            if !environment.is_empty() {
                let words = [ENV, environment.len(), 0, 0, 0];
                Channel::new(child.0).request(words, &environment, |_| {}, |_, r| *r)?;
            }
            for (n, stream) in streams.into_iter().enumerate() {
                if let Some(cap) = stream {
                    child.request([STREAM, n, 0, 0, 0], Some(cap))?;
                }
            }
            child.request([START, 0, 0, 0, 0], None)
        })();
        if let Err(e) = prepared {
            // Mercury forgets the child it prepared.
            child.release();
            return Err(e);
        }
        Ok(child)
    }

    /// Entry `index` of Mercury's program table (`ps`); `Err(NotFound)` past the last.
    ///
    /// # Errors
    /// `NotFound` past the last entry; the call's own errors.
    ///
    /// ```no_run
    /// # fn demo(proc: sys::proc::Proc) {
    /// let mut i = 0;
    /// while let Ok(e) = proc.list(i) {
    ///     sys::println!("{:>3} {:<16} {} of {} pages", e.id, e.name, e.used, e.quota);
    ///     i += 1;
    /// }
    /// # }
    /// ```
    pub fn list(&self, index: usize) -> Result<Entry, IoError> {
        let mut name = [0u8; IO_MAX];
        let (words, len) = Channel::new(self.0).request(
            [LIST, index, 0, 0, 0],
            &[],
            |_| {},
            |b, reply| {
                let (w, n) = b.received_words();
                let len = crate::io::proto::unpack(&w[..n], reply[4], &mut name);
                (*reply, len)
            },
        )?;
        Ok(Entry {
            name: String::from(core::str::from_utf8(&name[..len]).unwrap_or("?")),
            state: words[1],
            used: words[2],
            quota: words[3],
            id: index,
        })
    }
}

impl Proc {
    /// Ends the program that is entry `index` of Mercury's table (as [`list`](Proc::list) numbers
    /// them: `ps`'s ID), if it is a child started through `proc`. Entries move up when a program
    /// before them is forgotten, so an index is only good right after the listing that showed it.
    ///
    /// # Errors
    /// `BadRequest`: a boot program (Mercury supervises those); `NotFound`: no such entry, or it
    /// has ended; the call's own errors.
    ///
    /// ```no_run
    /// # fn demo(proc: sys::proc::Proc) -> Result<(), sys::io::IoError> {
    /// proc.kill(7)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn kill(&self, index: usize) -> Result<(), IoError> {
        Channel::new(self.0).request([KILL, index, 0, 0, 0], &[], |_| {}, |_, _| ())
    }

    /// Has Mercury power the machine off (ACPI S5). Returns only if it could not.
    ///
    /// # Errors
    /// As Mercury says (`Unsupported`: the machine has no way to power off).
    ///
    /// ```no_run
    /// # fn demo(proc: sys::proc::Proc) -> Result<(), sys::io::IoError> {
    /// sys::println!("powering off");
    /// proc.power_off()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn power_off(&self) -> Result<(), IoError> {
        Channel::new(self.0).request([POWEROFF, 0, 0, 0, 0], &[], |_| {}, |_, _| ())
    }
}

impl Child {
    /// One request on the handle, with `cap` sent along.
    fn request(&self, words: [usize; 5], cap: Option<Cap>) -> Result<[usize; 5], IoError> {
        Channel::new(self.0).request(words, &[], |b| b.set_send_cap(cap), |_, r| *r)
    }

    /// Waits for the child to end, and says how; the handle stays (wait again: the same answer).
    ///
    /// # Errors
    /// The call's own errors (Mercury is gone).
    ///
    /// ```no_run
    /// # fn demo(child: sys::proc::Child) -> Result<(), sys::io::IoError> {
    /// match child.wait()? {
    ///     sys::proc::ExitStatus::Faulted { vector, rip, .. } => sys::println!("fault {vector} at {rip:#x}"),
    ///     other => sys::println!("ended: {other:?}"),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn wait(&self) -> Result<ExitStatus, IoError> {
        let r = self.request([WAIT, 0, 0, 0, 0], None)?;
        Ok(match r[1] {
            how::EXITED => ExitStatus::Exited(r[2]),
            how::FAULTED => ExitStatus::Faulted { vector: r[2], address: r[3], rip: r[4] },
            _ => ExitStatus::Killed,
        })
    }

    /// Ends the child (a waiter learns [`ExitStatus::Killed`]).
    ///
    /// # Errors
    /// The call's own errors.
    ///
    /// ```no_run
    /// # fn demo(child: sys::proc::Child) -> Result<(), sys::io::IoError> {
    /// child.kill()?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn kill(&self) -> Result<(), IoError> {
        self.request([KILL, 0, 0, 0, 0], None).map(drop)
    }

    /// Lets the handle go: the child runs on, and Mercury forgets it when it ends (at once if it
    /// has ended already, or was never started).
    ///
    /// ```no_run
    /// # fn demo(child: sys::proc::Child) {
    /// child.release(); // a background job
    /// # }
    /// ```
    pub fn release(self) {
        // Mercury may be gone, or the child forgotten already: there is nothing to do either way.
        let _ = self.request([RELEASE, 0, 0, 0, 0], None);
        let _ = self.0.delete();
    }
}
