//! Syscall numbers and the register convention.
//!
//! A syscall is made with the `syscall` instruction:
//!
//! | register | on entry | on return |
//! | --- | --- | --- |
//! | `rax` | syscall number ([`Sysno`]) | `0` on success, else an [`Error`](crate::Error) code |
//! | `rdi`, `rsi`, `rdx`, `r10`, `r8`, `r9` | arguments 0-5 | results 0-5 |
//!
//! The syscalls that send a message (`send`, `nb_send`, `call`, `reply`, `reply_recv`,
//! `reply_to`) take its [`Extra`](crate::ipc::Extra) in the high half of `rax`, and the receives
//! return the Extra of what arrived in the high half of `rax`, the low half 0
//! ([`ipc`](crate::ipc)). For every other number the high half is 0 both ways: a number with
//! bits set there is `UnknownSyscall`.
//!
//! `rcx` and `r11` are overwritten by the instruction itself. Every other caller-saved register of
//! the System V ABI, all vector registers included, is clobbered: the kernel returns them zeroed
//! rather than preserved. `rbx`, `rbp`, `rsp`, `r12`-`r15`, the MXCSR and the x87 control word are
//! preserved. On an error, the argument registers come back unchanged.
//!
//! A *capability address* (`cap`, `slot`) is a slot index in the caller's CSpace. Slot 0 of every
//! CSpace is the null slot: it never holds a capability, and naming it (as a source or a
//! destination) is `InvalidCapability`; `cap_identify` reports it empty. Where a call puts a new
//! capability in a slot, [`SLOT_AUTO`] asks the kernel to pick the lowest free one; the slot used
//! is returned. In the root task's CSpace, automatic choice starts at
//! [`FIRST_FREE`](crate::bootcaps::FIRST_FREE).
//!
//! Numbers are grouped by object: 0x00 the task itself, 0x10 capabilities, 0x20 Memory, 0x30
//! CSpace, 0x40 Page and VSpace, 0x50 Task, 0x60 Endpoint, 0x70 Note, 0x80 Timer, 0x90 IRQ,
//! 0xa0 I/O ports.

/// Number of argument (and result) registers.
pub const ARG_REGS: usize = 6;

/// As a destination slot: let the kernel pick the lowest free slot.
pub const SLOT_AUTO: usize = usize::MAX;

macro_rules! sysnos {
    ($( $(#[$doc:meta])* $name:ident = $value:expr, )*) => {
        /// Syscall numbers, passed in `rax`.
        ///
        /// ```
        /// use abi::syscall::Sysno;
        ///
        /// // How a kernel dispatches: `rax` to a syscall, or `UnknownSyscall`.
        /// fn dispatch(rax: usize) -> Result<&'static str, abi::Error> {
        ///     match Sysno::from_number(rax) {
        ///         Some(Sysno::DebugWrite) => Ok("debug_write"),
        ///         Some(Sysno::Exit) => Ok("exit"),
        ///         Some(_) => Ok("another"),
        ///         None => Err(abi::Error::UnknownSyscall),
        ///     }
        /// }
        /// assert_eq!(dispatch(Sysno::DebugWrite as usize), Ok("debug_write"));
        /// assert_eq!(dispatch(0xfff), Err(abi::Error::UnknownSyscall));
        /// ```
        #[repr(usize)]
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub enum Sysno {
            $( $(#[$doc])* $name = $value, )*
        }

        impl Sysno {
            /// Every syscall, in number order.
            pub const ALL: &'static [Sysno] = &[$(Sysno::$name),*];

            /// One past the highest syscall number: every number from here on is undefined.
            pub const LIMIT: usize = {
                let all = [$($value),*];
                let mut limit = 0;
                let mut i = 0;
                while i < all.len() {
                    if all[i] + 1 > limit {
                        limit = all[i] + 1;
                    }
                    i += 1;
                }
                limit
            };

            /// The syscall numbered `n` (a `match`, which compiles to a jump table).
            ///
            /// ```
            /// use abi::syscall::Sysno;
            ///
            /// assert_eq!(Sysno::from_number(0x61), Some(Sysno::Send));
            /// assert_eq!(Sysno::from_number(0x0f), None);
            /// assert!(Sysno::ALL.iter().all(|&s| Sysno::from_number(s as usize) == Some(s)));
            /// ```
            #[expect(non_upper_case_globals, reason = "one constant per variant, named after it")]
            // Always: the kernel's dispatch is this jump table, and it must not become a call
            // when the decoder is used in more than one place.
            #[inline(always)]
            pub const fn from_number(n: usize) -> Option<Sysno> {
                $( const $name: usize = Sysno::$name as usize; )*
                match n {
                    $( $name => Some(Sysno::$name), )*
                    _ => None,
                }
            }
        }
    };
}

sysnos! {
    /// `debug_write(console, ptr, len) -> written`: write `len` bytes at `ptr` to the kernel's
    /// debug console as one unit (no kernel line lands inside it). `console` is a DebugConsole
    /// capability with WRITE. At most [`DEBUG_WRITE_MAX`] bytes per call.
    ///
    /// Errors, in the order checked: `InvalidCapability`, `WrongKind`, `InsufficientRights` for
    /// `console`; `InvalidArgument` if `len > DEBUG_WRITE_MAX`; `BadAddress` if any byte of
    /// `[ptr, ptr + len)` is not mapped readable in the caller's user address space. `len == 0`
    /// succeeds for any `ptr`.
    DebugWrite = 0,
    /// `exit(status) -> !`: end the calling task with `status`. Never returns.
    Exit = 1,
    /// `log_read(console, seq, buf, len) -> (read, next, lost)`: copy the kernel log from byte
    /// `seq` on (the log counts every byte since boot, kernel lines and `debug_write`s alike, and
    /// keeps the last [`LOG_RING_BYTES`]) into the `len` bytes at `buf`: `read` bytes were copied,
    /// `next` is the sequence number after them (pass it next time) and `lost` says how many
    /// bytes from `seq` on were overwritten before they could be read (reading resumed at the
    /// oldest kept). Needs READ on the DebugConsole. At most [`LOG_READ_MAX`] bytes per call.
    ///
    /// Errors: capability errors for `console`; `InvalidArgument` (`len > LOG_READ_MAX`, or `seq`
    /// beyond the log's end); `BadAddress` (a byte of `[buf, buf + read)` not mapped writable).
    LogRead = 2,
    /// `log_set_note(control, note, bits)`: from now on, whenever bytes are added to the kernel
    /// log, signal `bits` (and the Note capability's badge) on `note` before returning to user
    /// mode, so whoever drains the log to COM1 after `console_release` waits instead of polling.
    /// `note` 0 removes it. The kernel holds its own reference to the Note. Needs WRITE on the
    /// IoPortControl (the authority over COM1) and on `note`.
    ///
    /// Errors: capability errors for `control`, then `note`; `InvalidArgument` (`bits` is 0).
    LogSetNote = 3,
    /// `console_release(control)`: hand COM1 over: the kernel stops writing its log and the
    /// `debug_write`s to COM1 (the log goes on, into the ring `log_read` reads), and
    /// `ioport_create` may now make IoPorts on COM1's ports ([`CONSOLE_PORTS`](crate::ioport::CONSOLE_PORTS)). Once only. A
    /// kernel panic still writes straight to COM1. Needs WRITE on the IoPortControl.
    ///
    /// Errors: capability errors for `control`; `InvalidState` (COM1 was released already).
    ConsoleRelease = 4,
    /// `power_off(control)`: power the machine off (ACPI sleep state S5, from the FADT's PM1
    /// control ports and the DSDT's `\_S5` values). Does not return when it works. Needs WRITE
    /// on the IoPortControl (the PM1 ports are I/O ports).
    ///
    /// Errors: capability errors for `control`; `InvalidState` (the ACPI tables give no way to
    /// power off, or the machine stayed on).
    PowerOff = 5,
    /// `nop()`: does nothing and succeeds (every result 0). The shortest defined system call:
    /// what the general entry and exit cost, measured by `cargo xtask bench` as `nop_syscall`.
    Nop = 6,

    /// `cap_copy(src, dst_cspace, dst_slot, rights) -> slot`: copy the capability in `src` into
    /// `dst_slot` (or [`SLOT_AUTO`]) of the CSpace `dst_cspace` names, keeping only the rights in
    /// the mask `rights`. The copy is a child of `src` in the derivation tree.
    ///
    /// Errors: `InvalidCapability` (`src` empty or out of range, `dst_cspace` likewise, `dst_slot`
    /// out of range); `WrongKind` (`dst_cspace` not a CSpace); `InsufficientRights` (`dst_cspace`
    /// without WRITE); `SlotOccupied`; `NoFreeSlot`; `InvalidArgument` (a Reply capability, which
    /// can be moved but never copied); `DerivationTooDeep`.
    CapCopy = 0x10,
    /// `cap_mint(src, dst_cspace, dst_slot, rights, badge) -> slot`: as `cap_copy`, and set the
    /// badge. Only Endpoint and Note capabilities carry badges, and only an unbadged capability
    /// can be badged; `badge` must be 0 otherwise (`InvalidArgument`).
    CapMint = 0x11,
    /// `cap_move(src, dst_cspace, dst_slot) -> slot`: move the capability, keeping its place in the
    /// derivation tree. Errors as `cap_copy` (without `DerivationTooDeep`); moving a slot onto
    /// itself is `SlotOccupied`.
    CapMove = 0x12,
    /// `cap_delete(slot)`: empty `slot` in the caller's CSpace. Capabilities derived from it stay,
    /// as children of its parent. When it named an object for the last time, the object is
    /// destroyed and its pages refunded to the Memory capability it was made from (in bounded
    /// steps on this and later kernel entries; see `memory_info`).
    ///
    /// Errors: `InvalidCapability`.
    CapDelete = 0x13,
    /// `cap_revoke(slot)`: delete every capability derived from `slot` (not `slot` itself). Works
    /// in bounded steps: `Restart` means part is done; call again until it returns success.
    ///
    /// Errors: `InvalidCapability`, `Restart`.
    CapRevoke = 0x14,
    /// `cap_identify(slot) -> (kind, rights, badge)`: what the capability in `slot` is
    /// ([`object::Kind`](crate::object::Kind) as a number; 0 for an empty slot).
    ///
    /// Errors: `InvalidCapability` (out of range only; slot 0 and empty slots report kind 0).
    CapIdentify = 0x15,

    /// `memory_split(memory, pages, dst_slot) -> slot`: make a child Memory capability with a
    /// quota of `pages`. The parent is charged `pages + 1` (the child's quota and its own page),
    /// refunded when the child is destroyed.
    ///
    /// Errors: `InvalidCapability`, `WrongKind`, `InsufficientRights` (WRITE needed) for
    /// `memory`; `InvalidArgument` (`pages` is 0 or above [`MAX_QUOTA`](crate::object::MAX_QUOTA));
    /// slot errors as for `cap_copy`; `DerivationTooDeep`; `QuotaExceeded`; `OutOfMemory` (in this
    /// order; every object-creating call checks the same way).
    MemorySplit = 0x20,
    /// `memory_info(memory) -> (quota, used)`: the quota and the pages charged to it, in pages.
    /// Destruction still pending from earlier deletions is finished first, in bounded steps:
    /// `Restart` means call again.
    ///
    /// Errors: `InvalidCapability`, `WrongKind`, `InsufficientRights` (READ needed), `Restart`.
    MemoryInfo = 0x21,

    /// `cspace_create(memory, radix, dst_slot) -> slot`: make a CSpace of `2^radix` empty slots
    /// (`1 <= radix <= MAX_RADIX`), charged [`cspace_pages(radix)`](crate::object::cspace_pages)
    /// to `memory`.
    ///
    /// Errors: as `memory_split`, with `InvalidArgument` for a radix out of range.
    CSpaceCreate = 0x30,

    /// `vspace_create(memory, dst_slot) -> slot`: make an empty user address space, charged two
    /// pages (its header and top-level table).
    ///
    /// Errors: as `task_create`.
    VSpaceCreate = 0x40,
    /// `page_create(memory, count, dst_slot) -> slot`: make a Page of `count` zeroed, physically
    /// contiguous pages (`count` a power of two, at most 512), charged `count + 1` (one for its
    /// header).
    ///
    /// Errors: as `memory_split`, with `InvalidArgument` for `count`.
    PageCreate = 0x41,
    /// `page_map(page, vspace, vaddr, access, memory)`: map the Page at `vaddr` (page-aligned,
    /// user range) in the VSpace. `access` is a rights mask: READ is implied, WRITE and EXECUTE
    /// may be added, each only if the Page capability has it. Page tables the map needs are
    /// charged to `memory` (one page each) and refunded when the VSpace dies. A Page is mapped
    /// in at most one place. Needs READ on `page`, WRITE on `vspace` and `memory`.
    ///
    /// Errors: capability errors for `page`, `vspace`, `memory`; `InvalidArgument` (access bits
    /// other than READ, WRITE, EXECUTE); `InsufficientRights` (access beyond the Page
    /// capability's rights); `InvalidArgument` (`vaddr` unaligned or outside the user range);
    /// `InvalidState` (the Page is mapped already); `SlotOccupied` (something is mapped there);
    /// `QuotaExceeded`, `OutOfMemory` (tables; also when the VSpace holds its 240 tables). Tables
    /// made before a failure stay, charged, for later maps.
    PageMap = 0x42,
    /// `page_unmap(page)`: remove the Page's mapping. Needs READ.
    ///
    /// Errors: capability errors; `InvalidState` (not mapped).
    PageUnmap = 0x43,
    /// `page_protect(page, access)`: change the access of the Page's mapping, as for `page_map`.
    ///
    /// Errors: capability errors; `InsufficientRights`; `InvalidArgument`; `InvalidState` (not
    /// mapped).
    PageProtect = 0x44,
    /// `page_info(page) -> (phys, count, vaddr)`: the physical address (for DMA), the page count,
    /// and where it is mapped (0 if not). Needs READ.
    ///
    /// Errors: capability errors.
    PageInfo = 0x45,
    /// `page_create_device(control, phys, count, memory, dst_slot) -> slot`: make a Page over the
    /// device memory `[phys, phys + count * 4096)` (memory-mapped I/O: not RAM, not the kernel's
    /// own devices; `phys` page-aligned, `count` a power of two up to 512), charged one page (its
    /// header) to `memory`. It is mapped uncached, is not zeroed, and its frames are never given
    /// to the page allocator. Needs WRITE on the DeviceControl.
    ///
    /// Errors: capability errors for `control`; creation errors, with `InvalidArgument` for
    /// `count` or a range that is not device memory.
    PageCreateDevice = 0x46,

    /// `task_create(memory, dst_slot) -> slot`: make an inactive Task, charged
    /// [`TASK_PAGES`](crate::task::TASK_PAGES) to `memory`, with priority 0 and maximum
    /// controlled priority 0, no CSpace, no VSpace, and zeroed registers.
    ///
    /// Errors: as `memory_split` (without `InvalidArgument`).
    TaskCreate = 0x50,
    /// `task_set_space(task, cspace, vspace)`: give the task the CSpace its capability addresses
    /// index and the VSpace it runs in (each a capability of the caller, which the task then
    /// holds a reference to). Needs WRITE on all three.
    ///
    /// Errors: `InvalidCapability`, `WrongKind`, `InsufficientRights` for `task`, `cspace`,
    /// `vspace` in that order.
    TaskSetSpace = 0x51,
    /// `task_set_priority(task, authority, priority, max_priority)`: set the task's priority and
    /// its maximum controlled priority (the highest it may give any task). Both must be at most
    /// the maximum controlled priority of the task `authority` names (`InvalidArgument`).
    /// Needs WRITE on `task`, READ on `authority`.
    ///
    /// Errors: capability errors for `task`, then `authority`; `InvalidArgument`.
    TaskSetPriority = 0x52,
    /// `task_read_regs(task, buf)`: copy the task's [`Registers`](crate::task::Registers) to
    /// `buf` (READ). The task must not be running: reading the caller's own registers is
    /// `InvalidState`.
    ///
    /// Errors: capability errors; `InvalidState`; `BadAddress` (`buf` not writable).
    TaskReadRegs = 0x53,
    /// `task_write_regs(task, buf)`: set the task's registers from `buf` (WRITE), checked as on a
    /// return to user mode. Not for the caller itself (`InvalidState`).
    ///
    /// Errors: capability errors; `InvalidState`; `BadAddress`; `InvalidArgument` (a
    /// non-canonical `rip` or `fs_base`).
    TaskWriteRegs = 0x54,
    /// `task_start(task)`: make an inactive task runnable (WRITE).
    ///
    /// Errors: capability errors; `InvalidState` (not inactive, or no CSpace or VSpace).
    TaskStart = 0x55,
    /// `task_suspend(task)`: stop a runnable task (WRITE). Suspending the caller itself
    /// switches to another task at once.
    ///
    /// Errors: capability errors; `InvalidState` (not runnable).
    TaskSuspend = 0x56,
    /// `task_resume(task)`: make a suspended or faulted task runnable again (WRITE).
    ///
    /// Errors: capability errors; `InvalidState`.
    TaskResume = 0x57,
    /// `task_yield()`: give the rest of the timeslice to the next task of the same priority.
    TaskYield = 0x58,
    /// `task_info(task) -> (state, priority, max_priority, detail)`: the task's
    /// [`State`](crate::task::State); `detail` is the exit status of an exited task and the
    /// vector of a faulted one (READ).
    ///
    /// Errors: capability errors.
    TaskInfo = 0x59,
    /// `task_set_fault_endpoint(task, endpoint)`: when the task faults, the kernel sends a fault
    /// message ([`task::fault`](crate::task::fault)) to this Endpoint as a `call` on the task's
    /// behalf, with the endpoint capability's badge; the task waits for the reply, then runs on
    /// (from the faulting instruction, with whatever registers the supervisor wrote). `endpoint`
    /// 0 removes it. Needs WRITE on `task` and on `endpoint`.
    ///
    /// Errors: capability errors for `task`, then `endpoint`.
    TaskSetFaultEndpoint = 0x5a,
    /// `task_set_ipc_buffer(task, vaddr)`: the page at `vaddr` (page-aligned user address, or 0
    /// for none) in the task's VSpace is its IPC buffer ([`ipc::IpcBuffer`](crate::ipc::IpcBuffer)),
    /// used for capability transfer. Needs WRITE.
    ///
    /// Errors: capability errors; `InvalidArgument` (unaligned or outside the user range).
    TaskSetIpcBuffer = 0x5b,
    /// `task_destroy(task)`: stop the task for good, as its last capability going would: it leaves
    /// the scheduler and every queue and reply relation, and lets go of its CSpace, VSpace and
    /// fault endpoint. `task_info` then reports Exited with detail
    /// [`DESTROYED`](crate::task::DESTROYED); the Task object itself lives until its last
    /// capability is deleted. Destroying an exited task again succeeds and changes nothing; the
    /// root task destroyed ends the run. Needs WRITE.
    ///
    /// Errors: capability errors.
    TaskDestroy = 0x5c,
    /// `task_set_exit_note(task, note, bits)`: whenever the task stops (its state becomes Exited
    /// or Faulted: it exits, it faults with no fault endpoint or one that can no longer take the
    /// message, it is destroyed, or its last capability is deleted), the kernel signals `bits`
    /// (and the capability's badge) on this Note, so a supervisor learns of it without polling.
    /// `note` 0 removes it (`bits` ignored). The task holds its own reference to the Note. Needs
    /// WRITE on `task` and on `note`.
    ///
    /// Errors: capability errors for `task`, then `note`; `InvalidArgument` (`bits` is 0).
    TaskSetExitNote = 0x5d,
    /// `task_set_fs_base(task, base)`: set the task's FS base (where its thread-local storage
    /// is), the caller itself included, unlike `task_write_regs`. The base must be a canonical
    /// lower-half address (0 is allowed). Takes effect at the task's next return to user mode
    /// (for the caller: when this call returns). Needs WRITE.
    ///
    /// Errors: capability errors; `InvalidArgument` (not a canonical lower-half address).
    TaskSetFsBase = 0x5e,
    /// `task_kill(task, status)`: end the task as though it had called `exit(status)`: as
    /// `task_destroy` (it leaves every queue and lets go of its CSpace, VSpace and fault endpoint
    /// at once), but `task_info` reports Exited with `status`, and for the root task the run ends
    /// as its `exit(status)` would. A program's runtime ends its other threads this way when one
    /// thread ends the program. A task that had already exited keeps its status. Needs WRITE.
    ///
    /// Errors: capability errors.
    TaskKill = 0x5f,

    /// `endpoint_create(memory, dst_slot) -> slot`: make an Endpoint (1 page).
    ///
    /// Errors: as `task_create`.
    EndpointCreate = 0x60,
    /// `send(endpoint, w0, w1, w2, w3, w4)`: give five words to a receiver, waiting for one if
    /// none waits. The receiver gets the endpoint capability's badge. Needs WRITE. With an
    /// [`Extra`](crate::ipc::Extra) in the high half of `rax`, extra words and a capability go
    /// too, through the IPC buffers (so for `nb_send`, `call`, `reply`, `reply_recv`, `reply_to`).
    ///
    /// Errors: `InvalidArgument` (an Extra that is not one); capability errors.
    Send = 0x61,
    /// `recv(endpoint) -> (badge, w0, w1, w2, w3, w4)`: take a message, waiting for one. If the
    /// sender made a `call`, the receiver holds its one-shot reply right until it replies or
    /// receives another call. The high half of `rax` is the [`Extra`](crate::ipc::Extra) of
    /// what came through the IPC buffer (so for every receive). Needs READ.
    ///
    /// Errors: capability errors.
    Recv = 0x62,
    /// `call(endpoint, w0, w1, w2, w3, w4) -> (0, r0, r1, r2, r3, r4)`: send, then wait for the
    /// reply. Needs WRITE.
    ///
    /// Errors: capability errors.
    Call = 0x63,
    /// `reply(w0, w1, w2, w3, w4)`: answer the last `call` received; the caller gets the words,
    /// and (through the IPC buffers, as with a message, when the Extra says so) extra words and
    /// a capability.
    ///
    /// Errors: `InvalidState` (no call to answer).
    Reply = 0x64,
    /// `reply_recv(endpoint, w0, w1, w2, w3, w4) -> (badge, w0, ...)`: `reply` (if there is a
    /// call to answer), then `recv`. Needs READ.
    ///
    /// Errors: capability errors.
    ReplyRecv = 0x65,
    /// `nb_send(endpoint, w0, w1, w2, w3, w4)`: `send` only if a receiver waits.
    ///
    /// Errors: capability errors; `WouldBlock`.
    NbSend = 0x66,
    /// `nb_recv(endpoint) -> (badge, w0, ...)`: `recv` only if a sender waits.
    ///
    /// Errors: capability errors; `WouldBlock`.
    NbRecv = 0x67,
    /// `reply_save(dst_slot) -> slot`: move the reply right of the last call received into a
    /// Reply capability in the caller's CSpace, to answer later with `reply_to` (a deferred
    /// reply) while receiving other messages.
    ///
    /// Errors: slot errors as for `cap_copy`; `InvalidState` (no call to answer).
    ReplySave = 0x68,
    /// `reply_to(reply, w0, w1, w2, w3, w4)`: answer through a saved Reply capability, which is
    /// used up (deleted).
    ///
    /// Errors: capability errors (a Reply capability); `InvalidState` (its caller no longer
    /// waits for this reply).
    ReplyTo = 0x69,
    /// `fault_reply(set, rip, rsp, rax, rdi)`: answer the fault message received last (the
    /// caller's reply right names a task waiting for the reply to its fault): the registers
    /// named in `set` ([`task::fault::reply`](crate::task::fault::reply): `RIP`, `RSP`, `RAX`,
    /// `RDI`) take the values given, every other register keeps its value, and the task runs on
    /// from its (new) `rip`. The supervisor needs no `task_read_regs`/`task_write_regs` round
    /// trip. A plain `reply` to a fault message still works, as before.
    ///
    /// Errors: `InvalidArgument` (`set` has other bits, or names `RIP` with a `rip` that is not
    /// a canonical user address); `InvalidState` (no reply right, or one that answers a plain
    /// call, which `reply` answers). Nothing changes on an error.
    FaultReply = 0x6a,
    /// `fault_reply_recv(endpoint, set, rip, rsp, rax, rdi) -> (badge, w0, ...)`: `fault_reply`
    /// (if the caller holds a reply right), then `recv` on `endpoint`: a supervisor's loop in
    /// one call. The endpoint capability is checked first (READ), then the arguments as
    /// `fault_reply`. With no reply right it only receives; with one that answers a plain call
    /// it does nothing (`InvalidState`).
    ///
    /// Errors: capability errors; as `fault_reply`.
    FaultReplyRecv = 0x6b,

    /// `note_create(memory, dst_slot) -> slot`: make a Note (1 page) with no bits set.
    ///
    /// Errors: as `task_create`.
    NoteCreate = 0x70,
    /// `note_signal(note, bits)`: set `bits` and the capability's badge in the Note. A task
    /// waiting on it wakes with every set bit (which clears them); else a task the Note is bound
    /// to and that waits in `recv` wakes with badge [`NOTE_BADGE`] and the bits in `w0`. Needs
    /// WRITE.
    ///
    /// Errors: capability errors.
    NoteSignal = 0x71,
    /// `note_wait(note) -> bits`: wait until some bit is set; return and clear them all. Needs
    /// READ.
    ///
    /// Errors: capability errors.
    NoteWait = 0x72,
    /// `note_poll(note) -> bits`: return and clear the set bits (0 if none), without waiting.
    /// Needs READ.
    ///
    /// Errors: capability errors.
    NotePoll = 0x73,
    /// `note_bind(note, task)`: bind the Note to the task, so that a `recv` of the task also
    /// returns when the Note is signalled; `note` 0 unbinds. A Note binds at most one task.
    /// Needs READ on `note`, WRITE on `task`.
    ///
    /// Errors: capability errors for `task`, then `note`; `InvalidState` (the Note is bound to
    /// another task).
    NoteBind = 0x74,

    /// `timer_create(memory, dst_slot) -> slot`: make a disarmed Timer (1 page).
    ///
    /// Errors: as `task_create`.
    TimerCreate = 0x80,
    /// `timer_arm(timer, note, bits, delay_us, period_us)`: signal `bits` on `note` after
    /// `delay_us` microseconds, then every `period_us` (0: once). Time is counted in timer ticks
    /// ([`TICK_US`]), rounded up; a delay of 0 fires at the next tick. Re-arming replaces the
    /// previous setting. Needs WRITE on both.
    ///
    /// Errors: capability errors for `timer`, then `note`; `InvalidArgument` (`bits` is 0, or a
    /// delay or period above one day).
    TimerArm = 0x81,
    /// `timer_disarm(timer)`. Needs WRITE.
    ///
    /// Errors: capability errors.
    TimerDisarm = 0x82,

    /// `irq_bind(control, irq, note, bits, memory, dst_slot) -> slot`: make an IrqHandler for
    /// interrupt `irq` (ISA IRQs 0-15 are routed through the ACPI interrupt source overrides;
    /// 16-63 are global system interrupts), charged 1 page to `memory`, that signals `bits` on
    /// `note` when the line fires. The line is unmasked at once; after each interrupt it stays
    /// masked until `irq_ack`. Needs WRITE on `control` (IrqControl), `note` and `memory`.
    ///
    /// GSIs 16-63 are programmed level-triggered, active low (PCI lines). Because a fired line
    /// stays masked until `irq_ack`, a driver of an edge-triggered device acknowledges before
    /// it re-arms the device, or an edge arriving in between is lost.
    ///
    /// Errors: capability errors for `control`, then `note`, then `memory` (as `memory_split`);
    /// `InvalidArgument` (`irq` above 63, no IOAPIC serves it, or `bits` is 0); slot errors;
    /// `DerivationTooDeep`; `QuotaExceeded`, `OutOfMemory`; `InvalidState` (the line already
    /// has a handler).
    IrqBind = 0x90,
    /// `irq_ack(handler)`: unmask the handler's line. Needs WRITE.
    ///
    /// Errors: capability errors.
    IrqAck = 0x91,

    /// `ioport_create(control, min, max, memory, dst_slot) -> slot`: make an IoPort for the port
    /// range `[min, max)`, charged [`IOPORT_PAGES`](crate::ioport::IOPORT_PAGES) to `memory`.
    /// `control` is the IoPortControl capability, with WRITE. The range must satisfy
    /// `min < max <= PORT_LIMIT` ([`PORT_LIMIT`](crate::ioport::PORT_LIMIT) = 0x10000) and share
    /// no port with [`KERNEL_PORTS`](crate::ioport::KERNEL_PORTS).
    ///
    /// Errors: `InvalidCapability`, `WrongKind`, `InsufficientRights` for `control`; then as
    /// `memory_split`, with `InvalidArgument` for a range refused.
    IoPortCreate = 0xa0,
    /// `ioport_in(ioport, port, width) -> value`: read `width` bytes (1, 2 or 4) from `port`,
    /// zero-extended. `ioport` is an IoPort with READ whose range holds `[port, port + width)`.
    ///
    /// Errors, in the order checked: `InvalidCapability`, `WrongKind`, `InsufficientRights` for
    /// `ioport`; `InvalidArgument` for a width other than 1, 2 or 4, then for a port outside the
    /// range (`port < min` or `port + width > max`).
    IoPortIn = 0xa1,
    /// `ioport_out(ioport, port, width, value)`: write the low `width` bytes (1, 2 or 4) of
    /// `value` to `port`. `ioport` is an IoPort with WRITE whose range holds
    /// `[port, port + width)`; `value` must fit in `width` bytes.
    ///
    /// Errors, in the order checked: as `ioport_in` (WRITE needed), then `InvalidArgument` for a
    /// `value` of `2^(8 * width)` or more.
    IoPortOut = 0xa2,
}

/// The badge `recv` reports when it returns because the receiver's bound Note was signalled
/// (the bits are in `w0`). `cap_mint` refuses it as a badge.
pub const NOTE_BADGE: usize = usize::MAX;

/// Length of a timer tick, in microseconds.
pub const TICK_US: usize = 10_000;

/// Largest buffer one `debug_write` call accepts, in bytes.
pub const DEBUG_WRITE_MAX: usize = 4096;

/// Largest buffer one `log_read` call fills, in bytes.
pub const LOG_READ_MAX: usize = 4096;

/// Bytes of the kernel log the kernel keeps (the last ones written).
pub const LOG_RING_BYTES: usize = 64 * 1024;

impl Sysno {
    /// Whether the syscall sends a message, and so takes an [`Extra`](crate::ipc::Extra) in the
    /// high half of `rax`: `send`, `nb_send`, `call`, `reply`, `reply_recv`, `reply_to`.
    ///
    /// ```
    /// use abi::syscall::Sysno;
    ///
    /// assert!(Sysno::Call.sends() && Sysno::ReplyTo.sends());
    /// assert!(!Sysno::Recv.sends() && !Sysno::FaultReply.sends() && !Sysno::NoteSignal.sends());
    /// ```
    pub const fn sends(self) -> bool {
        matches!(self, Sysno::Send | Sysno::NbSend | Sysno::Call | Sysno::Reply | Sysno::ReplyRecv | Sysno::ReplyTo)
    }
}

impl TryFrom<usize> for Sysno {
    type Error = crate::Error;

    #[inline]
    fn try_from(n: usize) -> Result<Self, Self::Error> {
        Self::from_number(n).ok_or(crate::Error::UnknownSyscall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_round_trip() {
        for &s in Sysno::ALL {
            assert_eq!(Sysno::try_from(s as usize), Ok(s));
        }
        assert_eq!(Sysno::try_from(usize::MAX), Err(crate::Error::UnknownSyscall));
        assert_eq!(Sysno::try_from(7), Err(crate::Error::UnknownSyscall));
        assert!(Sysno::ALL.iter().all(|&s| (s as usize) < Sysno::LIMIT));
        assert!(Sysno::ALL.iter().any(|&s| s as usize == Sysno::LIMIT - 1));
        assert_eq!(Sysno::try_from(Sysno::LIMIT), Err(crate::Error::UnknownSyscall));
    }
}
