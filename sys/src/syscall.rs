//! The `syscall` instruction, and one wrapper per syscall.
//!
//! [`syscall`] is the only place in user space that executes the instruction. It follows the
//! register convention of [`abi::syscall`]: the number in `rax`, six arguments in `rdi`, `rsi`,
//! `rdx`, `r10`, `r8`, `r9`, results back in `rax` and the same six; `rcx` and `r11` are destroyed
//! by the instruction, and every other caller-saved register of the System V ABI, vector and x87
//! registers included, is declared clobbered (the kernel returns them zeroed).
//!
//! The wrappers turn `rax` into a [`Result`] and never fault for bad arguments: the kernel checks
//! every argument and returns a typed error. They take and return plain numbers (capability
//! addresses, rights masks) and make exactly one syscall each, so a `Restart` reaches the caller;
//! [`cap`](crate::cap) is the typed layer over them. They are safe, but for [`cap_delete`] and
//! [`cap_revoke`]: these end objects' lives, and a dying Page is unmapped (see
//! [`safety`](crate::safety) for every call).

use abi::syscall::{ARG_REGS, Sysno};

use crate::error::{Error, Result};

/// Makes syscall `number` with `args` and returns `rax` and the six result registers as the
/// kernel left them.
///
/// Nothing is checked or decoded here: an undefined `number` is passed to the kernel as it is
/// (and the kernel answers [`abi::Error::UnknownSyscall`]). Arguments a syscall does not use
/// should be zero.
///
/// # Safety
///
/// The syscall must not break Rust's rules for the caller's memory: memory the kernel writes on
/// this call must be memory the caller may write through at this point; a mapping the call
/// removes or changes, at once or through the objects it ends, must not back memory in use; and
/// code it lets run in the caller's address space must keep these rules too.
/// [`safety`](crate::safety) says which calls do what. Every undefined number meets this whatever
/// its arguments, and so do `debug_write` (it only reads), `exit` (it ends the task), and the
/// capability, Memory and CSpace calls that end no object's life (`cap_identify`, `cap_copy`,
/// `cap_mint`, `cap_move`, `memory_split`, `memory_info`, `cspace_create`: they touch only kernel
/// objects). `cap_delete` and `cap_revoke` need the
/// [teardown contract](crate::safety#the-teardown-contract); calls that write the caller's
/// memory (such as `task_read_regs`) need the buffer to be writable by the caller for the whole
/// call.
///
/// ```no_run
/// use sys::abi::syscall::Sysno;
/// use sys::{Error, syscall::syscall};
///
/// // SAFETY: no syscall has this number, and an undefined number meets the contract whatever
/// // its arguments.
/// let (rax, _) = unsafe { syscall(0xfff, [0; 6]) };
/// assert_eq!(Error::check(rax), Err(sys::abi::Error::UnknownSyscall.into()));
///
/// // SAFETY: `cap_identify` touches only kernel objects.
/// let (rax, out) = unsafe { syscall(Sysno::CapIdentify as usize, [1, 0, 0, 0, 0, 0]) };
/// if Error::check(rax).is_ok() {
///     sys::println!("slot 1 holds kind {}", out[0]);
/// }
/// ```
#[inline]
pub unsafe fn syscall(number: usize, args: [usize; ARG_REGS]) -> (usize, [usize; ARG_REGS]) {
    let rax: usize;
    let mut out = [0usize; ARG_REGS];
    // SAFETY: the caller upholds the memory contract above. The instruction itself changes only
    // the registers declared here: `rcx` and `r11` by the instruction, the six argument/result
    // registers and `rax` as outputs, and the rest of the System V caller-saved set (vector and
    // x87 registers included) through `clobber_abi`. The kernel runs on its own stack, so the
    // user stack and its red zone are untouched (`nostack`). Memory is not declared untouched:
    // the kernel may read (and, for later syscalls, write) the caller's buffers.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") number => rax,
            inlateout("rdi") args[0] => out[0],
            inlateout("rsi") args[1] => out[1],
            inlateout("rdx") args[2] => out[2],
            inlateout("r10") args[3] => out[3],
            inlateout("r8") args[4] => out[4],
            inlateout("r9") args[5] => out[5],
            lateout("rcx") _,
            lateout("r11") _,
            clobber_abi("sysv64"),
            options(nostack),
        );
    }
    (rax, out)
}

/// Writes `buf` to the kernel's debug console through the root task's console capability
/// ([`ROOT_DEBUG_CONSOLE`](abi::bootcaps::ROOT_DEBUG_CONSOLE)), as one unit: no other output lands
/// inside it.
///
/// That slot is where the kernel puts the console in the *root task's* CSpace
/// ([`abi::bootcaps`]); a task started with another layout writes through its own capability with
/// [`DebugConsole::write`](crate::cap::DebugConsole::write).
///
/// Returns the number of bytes written, which is `buf.len()`. A buffer longer than
/// [`DEBUG_WRITE_MAX`](abi::syscall::DEBUG_WRITE_MAX) bytes is refused whole with
/// [`abi::Error::InvalidArgument`], not split: splitting would break the one-unit promise. Use
/// [`print!`](crate::print) and [`println!`](crate::println) for formatted text.
///
/// ```no_run
/// use sys::abi::Error::InvalidArgument;
/// use sys::abi::syscall::DEBUG_WRITE_MAX;
///
/// # fn demo() -> sys::Result<()> {
/// // In the root task.
/// assert_eq!(sys::debug_write(b"init: up\n")?, 9);
/// // Too long for one unit: refused whole, not split.
/// let long = [b'x'; DEBUG_WRITE_MAX + 1];
/// assert_eq!(sys::debug_write(&long), Err(InvalidArgument.into()));
/// # Ok(())
/// # }
/// ```
pub fn debug_write(buf: &[u8]) -> Result<usize> {
    debug_write_raw(buf.as_ptr().expose_provenance(), buf.len())
}

/// [`debug_write`] with an arbitrary address and length, for callers (such as the kernel test
/// suite) that must hand the kernel pointers that name nothing. Writes through the root task's
/// console slot, [`ROOT_DEBUG_CONSOLE`](abi::bootcaps::ROOT_DEBUG_CONSOLE).
///
/// This is safe for any `ptr` and `len`: the kernel never dereferences a user address; it looks
/// the range up in the caller's address space, reads the bytes through its own mapping, and
/// returns [`abi::Error::BadAddress`] if any byte is not mapped readable (or
/// [`abi::Error::InvalidArgument`] if `len` is too long). Nothing in this program is read or
/// written by Rust code, so no Rust invariant is at stake.
///
/// ```no_run
/// use sys::abi::Error::BadAddress;
///
/// // The kernel checks the range: page 0 is never mapped, and the kernel half is not the
/// // caller's. Nothing is read by Rust code either way.
/// assert_eq!(sys::debug_write_raw(0, 8), Err(BadAddress.into()));
/// assert_eq!(sys::debug_write_raw(0xffff_8000_0000_0000, 8), Err(BadAddress.into()));
/// ```
pub fn debug_write_raw(ptr: usize, len: usize) -> Result<usize> {
    debug_write_console_raw(abi::bootcaps::ROOT_DEBUG_CONSOLE, ptr, len)
}

/// The `debug_write` syscall exactly as the ABI defines it: `console` is the capability address
/// of a DebugConsole capability with WRITE, and `ptr` and `len` are passed as they are.
///
/// Safe for any arguments, for the reasons given at [`debug_write_raw`]. Errors, in the order the
/// kernel checks them: [`InvalidCapability`](abi::Error::InvalidCapability),
/// [`WrongKind`](abi::Error::WrongKind), [`InsufficientRights`](abi::Error::InsufficientRights)
/// for `console`; then `InvalidArgument` for the length and `BadAddress` for the range.
///
/// ```no_run
/// # fn demo(boot: &sys::Boot) -> sys::Result<()> {
/// let console = boot.console().expect("the program has a console");
/// let text = b"driver: up\n";
/// sys::debug_write_console_raw(console.slot(), text.as_ptr().addr(), text.len())?;
/// # Ok(())
/// # }
/// ```
pub fn debug_write_console_raw(console: usize, ptr: usize, len: usize) -> Result<usize> {
    // SAFETY: `debug_write` only reads the caller's memory, whatever its arguments are (see
    // `syscall`'s contract).
    let (rax, out) = unsafe { syscall(Sysno::DebugWrite as usize, [console, ptr, len, 0, 0, 0]) };
    Error::check(rax)?;
    Ok(out[0])
}

/// `log_read(console, seq, buf, len) -> (read, next, lost)`: copies the kernel log from byte
/// `seq` on into the `len` bytes at `buf`. See [`Sysno::LogRead`];
/// [`DebugConsole::read_log`](crate::cap::DebugConsole::read_log) is the safe, typed form.
///
/// # Safety
///
/// The kernel writes up to `len` bytes at `buf`: they must be memory the caller may have
/// overwritten, with no reference to it live (as for any `&mut [u8]` handed out).
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// let mut buf = [0u8; 128];
/// // SAFETY: `buf` is a local array the kernel may overwrite, with no other reference to it.
/// let (read, next, lost) = unsafe {
///     sys::syscall::log_read(sys::root::console().slot(), 0, buf.as_mut_ptr().expose_provenance(), buf.len())?
/// };
/// # let _ = (read, next, lost);
/// # Ok(())
/// # }
/// ```
pub unsafe fn log_read(console: usize, seq: u64, buf: usize, len: usize) -> Result<(usize, u64, u64)> {
    // SAFETY: the caller vouches for `[buf, buf + len)`; nothing else of its memory is touched.
    let (rax, out) = unsafe { syscall(Sysno::LogRead as usize, [console, seq as usize, buf, len, 0, 0]) };
    Error::check(rax)?;
    Ok((out[0], out[1] as u64, out[2] as u64))
}

/// Makes a syscall that touches no memory of the caller and returns its result registers.
fn call(number: Sysno, args: [usize; ARG_REGS]) -> Result<[usize; ARG_REGS]> {
    // SAFETY: callers pass only syscalls that neither read nor write the caller's memory nor
    // change its mappings, and end no object's life (the capability, Memory and CSpace calls
    // below but `cap_delete` and `cap_revoke`), so the memory contract of `syscall` holds
    // whatever the arguments are.
    let (rax, out) = unsafe { syscall(number as usize, args) };
    Error::check(rax)?;
    Ok(out)
}

/// `cap_copy(src, dst_cspace, dst_slot, rights) -> slot`: copies the capability in `src` into
/// `dst_slot` (or [`SLOT_AUTO`](abi::syscall::SLOT_AUTO)) of the CSpace that `dst_cspace` names,
/// keeping only the rights in the mask `rights`; returns the slot used. See
/// [`Sysno::CapCopy`] for the errors, and [`Cap::copy`](crate::cap::Cap::copy) for the typed form.
///
/// ```no_run
/// use sys::abi::bootcaps::{ROOT_CSPACE, ROOT_DEBUG_CONSOLE};
/// use sys::abi::object::rights;
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo() -> sys::Result<()> {
/// // In the root task: a second, write-only console capability.
/// let slot = sys::syscall::cap_copy(ROOT_DEBUG_CONSOLE, ROOT_CSPACE, SLOT_AUTO, rights::WRITE)?;
/// # Ok(())
/// # }
/// ```
pub fn cap_copy(src: usize, dst_cspace: usize, dst_slot: usize, rights: usize) -> Result<usize> {
    Ok(call(Sysno::CapCopy, [src, dst_cspace, dst_slot, rights, 0, 0])?[0])
}

/// `cap_mint(src, dst_cspace, dst_slot, rights, badge) -> slot`: as [`cap_copy`], and sets the
/// badge. See [`Sysno::CapMint`].
///
/// ```no_run
/// use sys::abi::object::rights;
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo(service: sys::Endpoint, own: sys::CSpace) -> sys::Result<()> {
/// let client7 = sys::syscall::cap_mint(service.slot(), own.slot(), SLOT_AUTO, rights::WRITE, 7)?;
/// # Ok(())
/// # }
/// ```
pub fn cap_mint(src: usize, dst_cspace: usize, dst_slot: usize, rights: usize, badge: usize) -> Result<usize> {
    Ok(call(Sysno::CapMint, [src, dst_cspace, dst_slot, rights, badge, 0])?[0])
}

/// `cap_move(src, dst_cspace, dst_slot) -> slot`: moves the capability in `src`, keeping its
/// place in the derivation tree. See [`Sysno::CapMove`].
///
/// ```no_run
/// # fn demo(lease: sys::Memory, child: sys::CSpace) -> sys::Result<()> {
/// // Into the child's slot 2; `lease`'s slot is empty afterwards.
/// sys::syscall::cap_move(lease.slot(), child.slot(), 2)?;
/// # Ok(())
/// # }
/// ```
pub fn cap_move(src: usize, dst_cspace: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::CapMove, [src, dst_cspace, dst_slot, 0, 0, 0])?[0])
}

/// `cap_delete(slot)`: empties `slot` of the caller's CSpace. See [`Sysno::CapDelete`];
/// [`Cap::delete`](crate::cap::Cap::delete) is the typed form, and the typed handles' `delete`
/// the safe, checked ones.
///
/// # Safety
///
/// The [teardown contract](crate::safety#the-teardown-contract): if this is the last capability
/// to its object, the object dies, and with it perhaps more; no Page mapped in the caller's
/// VSpace whose memory is in use may die of it.
///
/// ```no_run
/// # fn demo() -> sys::Result<()> {
/// let memory = sys::process::memory().expect("the program has a Memory");
/// let note = sys::Note::create(memory, sys::Slot::Auto)?;
/// // SAFETY: the slot holds a Note (made just now), whose death unmaps nothing.
/// unsafe { sys::syscall::cap_delete(note.slot())? };
/// # Ok(())
/// # }
/// ```
pub unsafe fn cap_delete(slot: usize) -> Result<()> {
    // SAFETY: `cap_delete` reads and writes no memory of the caller; the mappings the deaths it
    // causes remove are the caller's promise (the teardown contract).
    let (rax, _) = unsafe { syscall(Sysno::CapDelete as usize, [slot, 0, 0, 0, 0, 0]) };
    Error::check(rax)
}

/// `cap_revoke(slot)`, one bounded step: deletes capabilities derived from `slot`, and returns
/// [`abi::Error::Restart`] if some are left. See [`Sysno::CapRevoke`];
/// [`Cap::revoke`](crate::cap::Cap::revoke) repeats the call until it is done, and the typed
/// handles' `revoke` are the safe, checked forms.
///
/// # Safety
///
/// The [teardown contract](crate::safety#the-teardown-contract), for every capability the step
/// deletes: for a Memory capability, every capability to every object made from it (or from
/// Memory split off it).
///
/// ```no_run
/// use sys::abi::Error::Restart;
///
/// # fn demo(service: sys::Endpoint) -> sys::Result<()> {
/// // Take back every copy of `service` handed out, a bounded step at a time.
/// loop {
///     // SAFETY: `service` is an Endpoint capability: everything derived from it names the same
///     // Endpoint, which `service` keeps alive, so nothing dies.
///     match unsafe { sys::syscall::cap_revoke(service.slot()) } {
///         Err(e) if e == Restart => continue,
///         done => break done?,
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub unsafe fn cap_revoke(slot: usize) -> Result<()> {
    // SAFETY: as for `cap_delete`: no memory of the caller is read or written, and the caller
    // vouches for the mappings the deaths remove.
    let (rax, _) = unsafe { syscall(Sysno::CapRevoke as usize, [slot, 0, 0, 0, 0, 0]) };
    Error::check(rax)
}

/// `cap_identify(slot) -> (kind, rights, badge)`, the numbers as the kernel returned them (kind 0
/// for an empty slot). See [`Sysno::CapIdentify`] and [`Cap::identify`](crate::cap::Cap::identify).
///
/// ```no_run
/// use sys::abi::object::Kind;
///
/// # fn demo() -> sys::Result<()> {
/// let (kind, rights, badge) = sys::syscall::cap_identify(2)?;
/// if kind == Kind::Memory as usize {
///     sys::println!("slot 2: Memory, rights {rights:#b}, badge {badge}");
/// }
/// # Ok(())
/// # }
/// ```
pub fn cap_identify(slot: usize) -> Result<(usize, usize, usize)> {
    let out = call(Sysno::CapIdentify, [slot, 0, 0, 0, 0, 0])?;
    Ok((out[0], out[1], out[2]))
}

/// `memory_split(memory, pages, dst_slot) -> slot`: makes a child Memory capability with a quota
/// of `pages`, charging the parent `pages + 1`. See [`Sysno::MemorySplit`].
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo(memory: sys::Memory) -> sys::Result<()> {
/// let child = sys::syscall::memory_split(memory.slot(), 64, SLOT_AUTO)?;
/// # Ok(())
/// # }
/// ```
pub fn memory_split(memory: usize, pages: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::MemorySplit, [memory, pages, dst_slot, 0, 0, 0])?[0])
}

/// `memory_info(memory) -> (quota, used)`, one bounded step: returns [`abi::Error::Restart`]
/// while destruction from earlier deletions is still pending. See [`Sysno::MemoryInfo`];
/// [`Memory::info`](crate::cap::Memory::info) repeats the call until it answers.
///
/// ```no_run
/// use sys::abi::Error::Restart;
///
/// # fn demo(memory: sys::Memory) -> sys::Result<()> {
/// let (quota, used) = loop {
///     match sys::syscall::memory_info(memory.slot()) {
///         Err(e) if e == Restart => continue, // destruction still pending
///         other => break other?,
///     }
/// };
/// # Ok(())
/// # }
/// ```
pub fn memory_info(memory: usize) -> Result<(usize, usize)> {
    let out = call(Sysno::MemoryInfo, [memory, 0, 0, 0, 0, 0])?;
    Ok((out[0], out[1]))
}

/// `cspace_create(memory, radix, dst_slot) -> slot`: makes a CSpace of `2^radix` empty slots,
/// charged [`cspace_pages(radix)`](abi::object::cspace_pages) to `memory`. See
/// [`Sysno::CSpaceCreate`].
///
/// ```no_run
/// use sys::abi::syscall::SLOT_AUTO;
///
/// # fn demo(memory: sys::Memory) -> sys::Result<()> {
/// // 2^8 = 256 slots.
/// let cspace = sys::CSpace::at(sys::syscall::cspace_create(memory.slot(), 8, SLOT_AUTO)?);
/// # Ok(())
/// # }
/// ```
pub fn cspace_create(memory: usize, radix: usize, dst_slot: usize) -> Result<usize> {
    Ok(call(Sysno::CSpaceCreate, [memory, radix, dst_slot, 0, 0, 0])?[0])
}

/// `nop()`: a system call that does nothing and succeeds. See [`Sysno::Nop`].
///
/// ```no_run
/// // The shortest defined system call: what entering and leaving the kernel costs.
/// sys::syscall::nop().expect("nop always succeeds");
/// ```
pub fn nop() -> Result<()> {
    call(Sysno::Nop, [0; ARG_REGS]).map(drop)
}

/// Ends the calling task with `status`. For the root task, the kernel then ends the run (under
/// QEMU: exit code 33 for status 0, 35 otherwise; see [`abi::testexit`]).
///
/// ```no_run
/// /// A hand-made task's last act: only this task ends (`sys::exit` ends the whole program).
/// fn finish(ok: bool) -> ! {
///     sys::syscall::exit(if ok { 0 } else { 1 })
/// }
/// ```
pub fn exit(status: usize) -> ! {
    loop {
        // SAFETY: `exit` writes no memory of the caller; it ends the task. Should a broken kernel
        // ever return from it, the loop asks again rather than run on.
        unsafe {
            syscall(Sysno::Exit as usize, [status, 0, 0, 0, 0, 0]);
        }
    }
}
