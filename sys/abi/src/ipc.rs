//! What a message carries beyond its five register words: the message's [`Extra`], in the high
//! half of `rax`, and the IPC buffer through which capabilities, and words beyond the five,
//! travel.
//!
//! **The Extra.** `send`, `nb_send`, `call`, `reply`, `reply_recv` and `reply_to` take the
//! message's [`Extra`] in bits 32-63 of `rax` (the syscall number is bits 0-31): how many of the
//! sender's IPC buffer words go with it (at most [`MAX_EXTRA_WORDS`]), and whether the capability
//! its buffer's `send_cap` names goes too. 0 (a plain number) sends nothing beyond the registers:
//! the kernel then never touches either task's buffer. Every receive (`recv`, `nb_recv`,
//! `reply_recv`, `fault_reply_recv`, and `call` for its reply) returns, on success, the Extra of
//! what *arrived* in the high half of `rax` (the low half is the status, 0): how many words were
//! written into the receiver's buffer, and whether a capability landed in the slot its
//! `received_slot` now names. Fault messages and Note wake-ups bring nothing (0). Any other
//! syscall number with a nonzero high half is `UnknownSyscall`; an Extra with undefined bits or
//! more than [`MAX_EXTRA_WORDS`] words is `InvalidArgument`, before anything is done.
//!
//! **The buffer.** A task may name one page of its address space as its IPC buffer
//! (`task_set_ipc_buffer`). Words: the first `extra.words` of the sender's `words` are copied
//! into the receiver's `words`, when the receiver's buffer is writable (else they are dropped,
//! and the receiver's Extra says 0). A capability travels when the Extra asks for it, the
//! endpoint capability the sender used has the GRANT right (a reply always may: the reply right
//! stands for GRANT) and its buffer's `send_cap` names one: a copy of it (a child in the
//! derivation tree, same rights and badge) goes to where the receiver's buffer says (`recv_slot`:
//! 0 refuses, `SLOT_AUTO` takes the lowest free slot), and the kernel writes where it landed in
//! `received_slot`. The transfer is best effort: a capability that cannot travel stays behind,
//! and the message is delivered either way; the receiver's Extra says what came. The kernel reads
//! and writes a buffer only for a message whose Extra is not 0.

/// The start of a task's IPC buffer page.
///
/// ```
/// use abi::ipc::{IPC_BUFFER_BYTES, IpcBuffer, MAX_EXTRA_WORDS};
/// use abi::syscall::SLOT_AUTO;
///
/// // A receiver that takes a capability anywhere, and a sender's capability in slot 12.
/// let receiver = IpcBuffer { recv_slot: SLOT_AUTO as u64, ..IpcBuffer::EMPTY };
/// let mut sender = IpcBuffer { send_cap: 12, ..IpcBuffer::EMPTY };
/// sender.words[..2].copy_from_slice(&[7, 8]);
/// assert_eq!(receiver.recv_slot, u64::MAX);
/// // The header the kernel reads before the words, and the words it may copy.
/// assert_eq!(IPC_BUFFER_BYTES, 24);
/// assert_eq!(core::mem::size_of::<IpcBuffer>(), IPC_BUFFER_BYTES + MAX_EXTRA_WORDS * 8);
/// ```
#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct IpcBuffer {
    /// Sender: the capability address to transfer with a message whose [`Extra`] asks for one.
    pub send_cap: u64,
    /// Receiver: where an incoming capability goes (0: refuse it; `SLOT_AUTO`: any free slot).
    pub recv_slot: u64,
    /// Receiver: where the capability of the last message that brought one landed. Written by
    /// the kernel, only then (the receive's [`Extra::cap`] says so).
    pub received_slot: u64,
    /// The extra words: read from the sender's buffer, written into the receiver's.
    pub words: [u64; MAX_EXTRA_WORDS],
}

/// Most words a message carries beyond the five in registers.
pub const MAX_EXTRA_WORDS: usize = 64;

/// Bytes of the header of [`IpcBuffer`] (everything before `words`).
pub const IPC_BUFFER_BYTES: usize = core::mem::offset_of!(IpcBuffer, words);

impl IpcBuffer {
    /// An empty buffer: no capability named, nothing accepted.
    pub const EMPTY: IpcBuffer = IpcBuffer { send_cap: 0, recv_slot: 0, received_slot: 0, words: [0; MAX_EXTRA_WORDS] };
}

/// What a message carries beyond its badge and five register words: extra words and a
/// capability, through the IPC buffers. In the high half of `rax`: the sender's with its syscall
/// number, the receiver's with its status (see the [module](self)).
///
/// ```
/// use abi::ipc::Extra;
/// use abi::syscall::Sysno;
///
/// // A call with three extra words and a capability.
/// let extra = Extra { words: 3, cap: true };
/// let rax = Sysno::Call as u64 | extra.to_rax();
/// assert_eq!(rax as u32, Sysno::Call as u32);
/// assert_eq!(Extra::from_rax(rax), Some(extra));
/// // A plain number sends nothing beyond the registers.
/// assert_eq!(Extra::from_rax(Sysno::Call as u64), Some(Extra::NONE));
/// // Undefined bits, or too many words, are not an Extra.
/// assert_eq!(Extra::from_rax(1 << 63), None);
/// assert_eq!(Extra::from_rax(65 << 32), None);
/// ```
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Extra {
    /// How many of the IPC buffer's `words` (at most [`MAX_EXTRA_WORDS`]).
    pub words: u8,
    /// Whether a capability (sent: the one `send_cap` names; received: the one in
    /// `received_slot`).
    pub cap: bool,
}

impl Extra {
    /// Nothing beyond the registers.
    pub const NONE: Extra = Extra { words: 0, cap: false };

    /// Where the Extra starts in `rax`.
    pub const SHIFT: u32 = 32;

    /// The bit of [`cap`](Self::cap), above the word count, in the Extra (shifted down).
    pub const CAP_BIT: u64 = 1 << 8;

    /// `n` words and no capability.
    ///
    /// ```
    /// assert_eq!(abi::ipc::Extra::words(2), abi::ipc::Extra { words: 2, cap: false });
    /// ```
    pub const fn words(n: u8) -> Extra {
        Extra { words: n, cap: false }
    }

    /// Whether nothing goes beyond the registers.
    ///
    /// ```
    /// assert!(abi::ipc::Extra::NONE.is_none());
    /// assert!(!abi::ipc::Extra::words(1).is_none());
    /// ```
    pub const fn is_none(self) -> bool {
        self.words == 0 && !self.cap
    }

    /// The high half of `rax` that says this (the low half 0): or it with the number.
    ///
    /// ```
    /// use abi::ipc::Extra;
    ///
    /// assert_eq!(Extra::NONE.to_rax(), 0);
    /// assert_eq!(Extra { words: 64, cap: true }.to_rax(), (64 | 1 << 8) << 32);
    /// ```
    pub const fn to_rax(self) -> u64 {
        (self.words as u64 | if self.cap { Self::CAP_BIT } else { 0 }) << Self::SHIFT
    }

    /// The Extra a successful receive returned in the high half of `rax`: the kernel writes
    /// only valid ones, so the bits are taken as they are (what [`from_rax`](Self::from_rax)
    /// would check, it need not).
    ///
    /// ```
    /// use abi::ipc::Extra;
    ///
    /// let e = Extra { words: 7, cap: true };
    /// assert_eq!(Extra::received(e.to_rax()), e);
    /// ```
    #[inline]
    pub const fn received(rax: u64) -> Extra {
        Extra { words: (rax >> Self::SHIFT) as u8, cap: (rax >> Self::SHIFT) & Self::CAP_BIT != 0 }
    }

    /// The Extra in the high half of `rax` (the low half is ignored), or `None` if it has
    /// undefined bits set or more than [`MAX_EXTRA_WORDS`] words.
    ///
    /// ```
    /// use abi::ipc::Extra;
    ///
    /// assert_eq!(Extra::from_rax(0x63 | 2 << 32), Some(Extra::words(2)));
    /// assert_eq!(Extra::from_rax(1 << 41), None);
    /// ```
    pub const fn from_rax(rax: u64) -> Option<Extra> {
        let high = rax >> Self::SHIFT;
        let words = high & 0xff;
        if high & !(0xff | Self::CAP_BIT) != 0 || words > MAX_EXTRA_WORDS as u64 {
            return None;
        }
        Some(Extra { words: words as u8, cap: high & Self::CAP_BIT != 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_extra_round_trips_and_nothing_else_decodes() {
        for words in 0..=MAX_EXTRA_WORDS as u8 {
            for cap in [false, true] {
                let e = Extra { words, cap };
                assert_eq!(Extra::from_rax(e.to_rax() | 0x63), Some(e));
                assert_eq!(e.to_rax() & 0xffff_ffff, 0);
            }
        }
        assert_eq!(Extra::from_rax((MAX_EXTRA_WORDS as u64 + 1) << 32), None);
        assert_eq!(Extra::from_rax(0xff << 32), None);
        for bit in 41..64 {
            assert_eq!(Extra::from_rax(1 << bit), None, "bit {bit}");
        }
    }
}
