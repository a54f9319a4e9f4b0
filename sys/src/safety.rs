//! What each call can do to the caller's memory, and the contracts of the calls that are `unsafe`
//! for it.
//!
//! Rust code in a Perihelion program holds references into the memory mapped in its VSpace: its
//! image, its stack, the Pages it maps. Safe code must never be able to take such memory away,
//! change what it holds behind the compiler's back, or start code that could, so every call that
//! can do one of these is `unsafe` with a contract, or has a safe form that checks that it
//! cannot. This page classifies every wrapper and handle of `sys` that way; the `# Safety`
//! sections of the `unsafe` ones point here.
//!
//! Words used below:
//!
//! - **The caller's memory**: everything mapped in the VSpace the calling task runs in. The
//!   threads of a program ([`spawn`](crate::task::spawn), [`prepare`](crate::task::prepare)) run
//!   in that VSpace too: they are one *program*. A task in another VSpace is another program, even
//!   when it runs a copy of the same image.
//! - **In use**: memory that a live Rust reference points into, or that code will reach through a
//!   pointer it holds.
//!
//! # Mapping is safe, taking memory away is not
//!
//! The kernel never maps over a mapping (`page_map` answers `SlotOccupied`), so making and mapping
//! Pages only makes memory appear where the program's code refers to none. What needs `unsafe` is
//! taking memory away or narrowing it (unmapping, `page_protect`, ending a mapped Page, moving a
//! task to another address space), having the kernel write memory the caller names, and letting a
//! task run in the caller's address space or with its capabilities.
//!
//! What the kernel maps for the root task at boot (its image, its stack, the RootInfo page and the
//! initramfs) belongs to the kernel and is never unmapped or changed: that is why
//! [`Boot`](crate::Boot) can hand out `'static` references into it. Only moving the root task to
//! another VSpace ([`task_set_space`](crate::task::task_set_space), `unsafe`) takes it away.
//!
//! # Every call, classified
//!
//! Raw wrappers first, their typed forms in parentheses.
//!
//! | call | class | why |
//! | --- | --- | --- |
//! | `debug_write`, `debug_write_raw`, `debug_write_console_raw` (`DebugConsole::write`, `write_raw`; `print!`, `println!`) | safe | the kernel only reads, through its own mapping, after checking every byte is mapped readable |
//! | `log_read` | **unsafe**: the kernel writes `buf` | `DebugConsole::read_log` is safe: it writes a `&mut [u8]` |
//! | `console_release`, `log_set_note` (`IoPortControl::release_console`, `set_log_note`) | safe | no memory of the caller; the log's bytes go on into the ring |
//! | `exit` (`task::exit_thread`) | safe | ends the caller; releases nothing |
//! | `nop` | safe | does nothing |
//! | `cap_identify`, `cap_copy`, `cap_mint`, `cap_move` (`Cap::identify`, `copy`, `mint`, `move_to`) | safe | add or relocate capabilities: no object loses a reference |
//! | `memory_split`, `memory_info`, `cspace_create`, `vspace_create`, `page_create`, `task_create`, `endpoint_create`, `note_create`, `timer_create`, `irq_bind`, `ioport_create`, `page_create_device` (`Memory::split`, `info`, `info_step`, each kind's `create`, `IrqControl::bind`, `IoPortControl::create`, `DeviceControl::create_page`) | safe | make objects or read kernel state (a device Page is only mapped by a later, safe `page_map`) |
//! | `page_map`, `page_info` (`Page::map`, `info`) | safe | a map adds a mapping only where there is none |
//! | `page_unmap`, `page_protect` (`Page::unmap`, `protect`) | **unsafe**: their own contract | remove or narrow a mapping |
//! | `cap_delete` (`Cap::delete`) | **unsafe**: [teardown](#the-teardown-contract) | the last capability's object dies: a Page is unmapped, a CSpace deletes what it holds, a Task drops its CSpace and VSpace |
//! | `delete` of `Memory`, `DebugConsole`, `VSpace`, `Endpoint`, `Reply`, `Note`, `Timer`, `IrqControl`, `IrqHandler`, `IoPortControl`, `IoPort` | safe, checked | the kind is checked first, and these kinds die without unmapping anything ([below](#what-dies-and-what-that-reaches)) |
//! | `Page::delete` | safe, checked | only a Page mapped nowhere (else `InvalidState`) |
//! | `Cap::delete_checked` | safe, checked | any kind but CSpace and Task (`WrongKind`), a Page only mapped nowhere |
//! | `cap_revoke` (`Cap::revoke`, `revoke_step`) | **unsafe**: [teardown](#the-teardown-contract) | revoking a Memory capability deletes every capability to everything made from it |
//! | `revoke`, `revoke_step` of every typed handle but `Memory` | safe, checked | the capabilities derived from one of another kind name the same object, which the revoked one keeps alive |
//! | `task_set_priority`, `task_start`, `task_suspend`, `task_resume`, `task_yield`, `task_info` (`Task::set_priority`, `start`, `suspend`, `resume`, `info`; `task::yield_now`) | safe | scheduling state only; what a started or resumed task runs was settled under the [code contract](#the-code-contract) |
//! | `task_read_regs` | **unsafe**: the kernel writes `buf` | `Task::read_regs` is safe: it reads into a local |
//! | `task_write_regs` (`Task::write_regs`) | **unsafe**: [code](#the-code-contract) | decides what code the task runs |
//! | `fault_reply`, `fault_reply_recv` (`Endpoint::fault_reply_recv`) | **unsafe**: [code](#the-code-contract) | set a faulted task's `rip`, `rsp`, `rax`, `rdi` |
//! | `task_set_fs_base` | **unsafe** | the runtime finds the running thread's block through the FS base |
//! | `task_set_space` (`Task::set_space`) | **unsafe**: [teardown](#the-teardown-contract) and [code](#the-code-contract) | drops the task's old CSpace and VSpace; moves a running task to another address space; lets a task into the caller's |
//! | `task_destroy` (`Task::destroy`), `task_kill` (`Task::kill`) | **unsafe**: [teardown](#the-teardown-contract) | the task drops its CSpace and VSpace at once (stopping it is harmless in itself) |
//! | `task::prepare`, `task::spawn` | **unsafe**: stack size and [shared slots](#shared-slots) | a thread in the caller's VSpace and CSpace, on a stack without a guard page |
//! | `task::stack_pointer`, `thread_registers`, `root_task`, `root_vspace`, `VSpace::root`, `IrqControl::root`, `root::*`, `Slot`, `Cap::new`, the handles' `new`, `at`, `cap` | safe | no system call |
//! | `task_set_fault_endpoint` (`Task::set_fault_endpoint`) | safe | drops at most a reference to an Endpoint |
//! | `task_set_exit_note` (`Task::set_exit_note`) | safe | drops at most a reference to a Note |
//! | `task_set_ipc_buffer` | **unsafe**: the kernel reads and writes the buffer at every transfer | `Task::set_ipc_buffer` is safe for a `&'static IpcBufferPage` (atomics) |
//! | `send`, `nb_send`, `recv`, `nb_recv`, `call`, `reply`, `reply_recv`, `reply_save`, `reply_to` (`Endpoint::send`, ..., `Reply::save`, `reply`) | safe | words in registers; a capability received only fills a free slot; `reply_to` deletes a Reply, which holds no reference |
//! | `note_signal`, `note_wait`, `note_poll`, `note_bind` (`Note::signal`, `wait`, `poll`, `bind`, `unbind`) | safe | bits in registers; a binding holds no reference |
//! | `timer_arm`, `timer_disarm`, `irq_ack` (`Timer::arm`, `disarm`, `IrqHandler::ack`) | safe | drop at most a reference to a Note |
//! | `ioport_in`, `ioport_out` (`IoPort::read8`, ..., `write32`) | safe | touch no memory of the caller; what a device does is [outside the model](#outside-the-model) |
//! | `syscall::syscall` | **unsafe** | the instruction itself, for any call |
//! | `entry!`, `Boot`, the panic handler, `debug::FixedBuf`, `IpcBufferPage`, `Message`, `Error` | safe | the runtime and plain data; `Boot`'s `'static` references point into the boot mappings |
//!
//! # What dies, and what that reaches
//!
//! An object dies when its last reference goes: each capability naming it holds one, and so do
//! some objects (a Task holds its CSpace, VSpace and fault Endpoint; every object holds the Memory
//! it was made from; see `docs/abi.md`, "Object lifetime").
//!
//! | kind | its death | can it unmap the caller's memory? |
//! | --- | --- | --- |
//! | Page | unmaps it | yes, if it is mapped in the caller's VSpace |
//! | CSpace | deletes every capability it holds | yes, through those |
//! | Task | stops it and drops its CSpace, VSpace and fault Endpoint | yes, through its CSpace |
//! | VSpace | unmaps its own Pages, frees its tables | no: a task holds the VSpace it runs in, so the caller's cannot die under it |
//! | Memory | refunds its parent | no: every object holds its Memory, so a Memory dies only when nothing made from it is left (deleting a Memory capability ends nothing made from it) |
//! | Endpoint, Note, Timer, IrqHandler, IoPort | wakes its waiters with `InvalidCapability`, stops, masks its line, drops its Note | no |
//! | Reply | (holds no reference) | no |
//! | DebugConsole, IrqControl, IoPortControl, DeviceControl | (no object) | no |
//!
//! A thread that is stopped (destroyed, suspended, or its last capability deleted) is, to the rest
//! of the program, a thread that waits forever: that is sound in itself.
//!
//! Revoking a capability deletes the capabilities derived from it. Every object's first capability
//! is a child of the Memory capability it was made with, and copies, mints and transferred
//! capabilities are children of their source; so the capabilities derived from a capability that
//! is not a Memory capability all name its object, which the revoked capability itself keeps
//! alive: nothing dies. Revoking a Memory capability deletes every capability to every object made
//! from it or from Memory split off it: anything can die.
//!
//! # The teardown contract
//!
//! The calls that can end objects' lives are `unsafe`: `cap_delete`, `cap_revoke`,
//! `task_destroy`, `task_set_space` and their typed forms. Their caller promises:
//!
//! > **No Page mapped in the caller's VSpace whose memory is in use dies of the call, directly or
//! > through the deaths it sets off.**
//!
//! To keep it, know what the call ends: for each capability it deletes and each reference it
//! drops, whether it is the last one to its object, and if so what that object's death reaches
//! ([above](#what-dies-and-what-that-reaches)). The arguments that usually settle it: the slot
//! holds an object of a kind whose death unmaps nothing; or it is not the last capability (a copy,
//! or an object the caller's Task holds, such as its own CSpace and VSpace); or the Page is mapped
//! in another VSpace, or its memory is no longer used; or the CSpace (or the Task's CSpace) holds
//! nothing that leads to a Page mapped here.
//!
//! Deaths finish in bounded steps: a dying Page is unmapped within the call, but a dying CSpace
//! deletes its capabilities at later system calls and timer ticks, so a Page whose last capability
//! it holds is unmapped some time after the call returns. Memory that may go must be out of use
//! from the call on.
//!
//! # The code contract
//!
//! A task that runs in the caller's VSpace, or with the caller's CSpace, can do anything the
//! caller can: write its memory, unmap it, delete its capabilities. What it runs is decided by its
//! registers ([`task_write_regs`](crate::task::task_write_regs)) and by the spaces it is given
//! ([`task_set_space`](crate::task::task_set_space)), and whoever decides promises:
//!
//! > **A task that runs, or will run, in the caller's VSpace or with its CSpace starts, and
//! > resumes after a fault, only on code of this program meant to run there, on a stack nothing
//! > else uses: code that keeps Rust's rules and these contracts as the caller's own does. While
//! > tasks share a CSpace, the program keeps the [shared-slot rule](#shared-slots).**
//!
//! A [`ThreadEntry`](crate::task::ThreadEntry) on a stack of its own
//! ([`thread_registers`](crate::task::thread_registers)) is such code: safe Rust, whose statics
//! are `Sync`. So is the rest of a thread's own function after an instruction a supervisor steps
//! over, and so are registers that make the task fault before it runs anything (a `rip` where
//! nothing is mapped). A task with a VSpace and a CSpace of its own can be given any registers:
//! whatever it does happens outside the caller's memory and slots (unless it holds capabilities
//! that reach them: see [outside the model](#outside-the-model)). A call the kernel refuses
//! changes nothing and needs no promise.
//!
//! # Shared slots
//!
//! The safe, checked forms ([`Endpoint::delete`](crate::Endpoint::delete), ...,
//! [`Page::delete`](crate::Page::delete), the typed `revoke`s) are two system calls: they ask what
//! the slot holds (`cap_identify`, and `page_info` for a Page), then delete or revoke it. In
//! between, only something else that empties the slot and puts another capability in it (or maps
//! the Page) could make the second call act on what the check did not see.
//!
//! While only the calling task runs with its CSpace, nothing of the program can: the task is
//! busy with the check. Another program could (it revokes the capability the one in the slot
//! derives from, then puts one of its own there through a capability to this CSpace), but what it
//! puts there is nothing this program relies on, and what other programs do with their authority
//! is [outside the model](#outside-the-model).
//!
//! When tasks share a CSpace (threads made by [`spawn`](crate::task::spawn) and
//! [`prepare`](crate::task::prepare), tasks given the caller's CSpace by `task_set_space`), the
//! program keeps **the shared-slot rule**:
//!
//! > **While one task runs a checked call on a slot, no other task of the program empties that
//! > slot (deletes, moves or revokes its capability or one it derives from, or ends the caller of a
//! > Reply in it) or maps the Page in it; and the checked calls are used only on capabilities that
//! > nothing outside the program can revoke or empty.**
//!
//! Giving each capability one task that deletes, moves, revokes and maps it, and keeping
//! capabilities derived from other programs' out of the checked calls, is enough. Every way to
//! make tasks share a CSpace is `unsafe`, and names this rule.
//!
//! # Outside the model
//!
//! - **Authority held by other programs.** Capabilities handed to another task (copied, minted or
//!   moved into its CSpace, sent with a message, or given with `task_set_space`) let it do what
//!   they allow, to this program too: revoke the Memory its Pages came from, delete the last
//!   capability to a Page mapped here, write a thread's registers, put capabilities into its
//!   CSpace. A supervisor holds such authority over what it starts, by design. `sys` makes this
//!   program's own code keep Rust's rules; code that uses memory on another program's word (a
//!   Page a supervisor mapped and promised to keep) relies on that program, as a Unix process
//!   relies on nobody writing its memory through `ptrace` or `/proc/self/mem`.
//! - **Devices.** An [`IoPort`](crate::IoPort) drives a device, and a device that does DMA (the
//!   ISA DMA controller, anything behind PCI configuration space) can write any memory. `sys`
//!   cannot see what a port does, so port I/O stays safe (drivers, which forbid `unsafe`, use it),
//!   and the trust is placed where an IoPort is made (`ioport_create` needs the IoPortControl) and
//!   handed to a program: an IoPort on a DMA-capable device goes to trusted code only
//!   (`docs/abi.md`, "I/O ports"). Device memory is the same: a Page over a device's registers
//!   (`page_create_device`) is mapped and written like any Page, and the trust is placed where it
//!   is made (the DeviceControl) and whom it is given to.
//!
//! # Compile-fail tests
//!
//! Every `unsafe` call above has a compile-fail doctest: a function that makes the call in safe
//! code, which must not compile, and, beside it, the same function with the call in an `unsafe`
//! block, which must compile. Both are written out from one macro invocation, so the only
//! difference between the two is the `unsafe` block, and the one error that block can cure is
//! `E0133` ("call to unsafe function requires unsafe function or block"); a test that failed to
//! compile for any other reason (a typo, a changed signature) would fail its twin as well. The
//! tests also name `E0133`, which rustdoc checks on nightly toolchains (stable ones accept any
//! error). `cargo test -p sys --doc` runs them, and so does `cargo xtask test`. They read, for
//! `Cap::delete`:
//!
//! ```compile_fail,E0133
//! fn f(cap: sys::Cap) -> sys::Result<()> {
//!     cap.delete()
//! }
//! ```
//!
//! ```
//! fn f(cap: sys::Cap) -> sys::Result<()> {
//!     unsafe { cap.delete() }
//! }
//! ```
//!
//! and cover `Cap::delete` (also reached through a `Task` and a `CSpace` handle), `Cap::revoke`,
//! `Cap::revoke_step` (also through a `Memory` handle), `cap_delete`, `cap_revoke`,
//! `Task::destroy`, `task_destroy`, `Task::set_space`, `task_set_space`, `Task::write_regs`,
//! `task_write_regs`, `task::spawn`, `task::prepare`, `Page::unmap`, `Page::protect`,
//! `page_unmap`, `page_protect`, `task_read_regs`, `task_set_ipc_buffer` and `syscall`. The safe,
//! checked forms need no `unsafe` at all:
//!
//! ```no_run
//! use sys::{CSpace, DebugConsole, Endpoint, IoPort, IrqHandler, Memory, Note, Page, Reply, Task, Timer, VSpace};
//!
//! fn delete_all(
//!     (m, d, v, e, r, n, t, i, p, page): (Memory, DebugConsole, VSpace, Endpoint, Reply, Note, Timer, IrqHandler, IoPort, Page),
//! ) -> sys::Result<()> {
//!     m.delete()?;
//!     d.delete()?;
//!     v.delete()?;
//!     e.delete()?;
//!     r.delete()?;
//!     n.delete()?;
//!     t.delete()?;
//!     i.delete()?;
//!     p.delete()?;
//!     page.delete()
//! }
//!
//! fn revoke_all(cs: CSpace, task: Task, page: Page, e: Endpoint, n: Note) -> sys::Result<()> {
//!     cs.revoke()?;
//!     task.revoke()?;
//!     page.revoke_step()?;
//!     e.revoke()?;
//!     n.revoke()
//! }
//! ```

/// The compile-fail tests (see the module docs), one module per `unsafe` call, each with two
/// doctests; compiled only while rustdoc collects doctests.
#[cfg(doctest)]
mod compile_fail {
    /// `must_be_unsafe!(name, "items", "params", "call")` documents a module `name` with two
    /// doctests: `items` and then `fn f(params)` making `call` in safe code, which must fail to
    /// compile with `E0133`; and the same with `call` in an `unsafe` block, which must compile.
    macro_rules! must_be_unsafe {
        ($name:ident, $items:literal, $params:literal, $call:literal) => {
            #[doc = concat!(
                "```compile_fail,E0133\n", $items, "\nfn f(", $params, ") {\n    let _ = ", $call, ";\n}\n```\n\n",
                "```\n", $items, "\nfn f(", $params, ") {\n    let _ = unsafe { ", $call, " };\n}\n```",
            )]
            mod $name {}
        };
    }

    must_be_unsafe!(cap_delete_method, "", "cap: sys::Cap", "cap.delete()");
    must_be_unsafe!(cap_delete_task, "", "task: sys::Task", "task.delete()");
    must_be_unsafe!(cap_delete_cspace, "", "cspace: sys::CSpace", "cspace.delete()");
    must_be_unsafe!(cap_delete_raw, "", "slot: usize", "sys::syscall::cap_delete(slot)");
    must_be_unsafe!(cap_revoke_method, "", "cap: sys::Cap", "cap.revoke()");
    must_be_unsafe!(cap_revoke_step_method, "", "cap: sys::Cap", "cap.revoke_step()");
    must_be_unsafe!(cap_revoke_memory, "", "memory: sys::Memory", "memory.revoke()");
    must_be_unsafe!(cap_revoke_step_memory, "", "memory: sys::Memory", "memory.revoke_step()");
    must_be_unsafe!(cap_revoke_raw, "", "slot: usize", "sys::syscall::cap_revoke(slot)");
    must_be_unsafe!(task_destroy_method, "", "task: sys::Task", "task.destroy()");
    must_be_unsafe!(task_destroy_raw, "", "task: usize", "sys::task::task_destroy(task)");
    must_be_unsafe!(
        task_set_space_method,
        "",
        "task: sys::Task, cspace: sys::CSpace, vspace: sys::VSpace",
        "task.set_space(cspace, vspace)"
    );
    must_be_unsafe!(
        task_set_space_raw,
        "",
        "task: usize, cspace: usize, vspace: usize",
        "sys::task::task_set_space(task, cspace, vspace)"
    );
    must_be_unsafe!(
        task_write_regs_method,
        "",
        "task: sys::Task, regs: &sys::task::Registers",
        "task.write_regs(regs)"
    );
    must_be_unsafe!(task_write_regs_raw, "", "task: usize, buf: usize", "sys::task::task_write_regs(task, buf)");
    must_be_unsafe!(
        spawn,
        "extern \"C\" fn entry(_: usize) -> ! {\n    sys::task::exit_thread(0)\n}",
        "memory: sys::Memory, stack: &'static mut [u8]",
        "sys::task::spawn(memory, sys::Slot::Auto, entry, 0, stack)"
    );
    must_be_unsafe!(
        prepare,
        "extern \"C\" fn entry(_: usize) -> ! {\n    sys::task::exit_thread(0)\n}",
        "memory: sys::Memory, stack: &'static mut [u8]",
        "sys::task::prepare(memory, sys::Slot::Auto, entry, 0, stack)"
    );
    must_be_unsafe!(page_unmap_method, "", "page: sys::Page", "page.unmap()");
    must_be_unsafe!(page_protect_method, "", "page: sys::Page", "page.protect(sys::vspace::access::R)");
    must_be_unsafe!(page_unmap_raw, "", "page: usize", "sys::vspace::page_unmap(page)");
    must_be_unsafe!(page_protect_raw, "", "page: usize", "sys::vspace::page_protect(page, sys::vspace::access::R)");
    must_be_unsafe!(task_read_regs_raw, "", "task: usize, buf: usize", "sys::task::task_read_regs(task, buf)");
    must_be_unsafe!(
        task_set_ipc_buffer_raw,
        "",
        "task: usize, vaddr: usize",
        "sys::ipc::task_set_ipc_buffer(task, vaddr)"
    );
    must_be_unsafe!(syscall, "", "number: usize", "sys::syscall::syscall(number, [0; 6])");
}
