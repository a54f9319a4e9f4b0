//! The start page: what every program is handed when it starts, in one format whoever starts it
//! (the kernel for the root task, Mercury for a driver, a shell for a command).
//!
//! A program starts at its ELF entry with `rdi` = [`START_INFO_ADDR`](crate::layout::START_INFO_ADDR),
//! the address of one read-only page laid out as:
//!
//! | offset | what |
//! | --- | --- |
//! | 0 | [`StartHeader`]: magic, version, flags, the CSpace's radix and first free slot, the main stack, and where the rest is |
//! | `caps_offset` | `caps_count` [`StartCap`] entries: the capabilities the program was given, each with a name |
//! | `args_offset` | `args_len` bytes: the arguments, each a UTF-8 string ending in NUL (`argv[0]` is the program's name) |
//! | `env_offset` | `env_len` bytes: the environment, `KEY=value` strings, each ending in NUL |
//! | `root_offset` | for the root task only (flag [`FLAG_ROOT`]): a [`RootInfo`] |
//!
//! Every area lies inside the page (checked by [`Reader::new`]), in this order, each aligned to 8
//! bytes. The well-known capability names ([`names`]) are those the runtime looks for: the
//! program's own CSpace, VSpace, Task, a Memory to make things from, and a debug console; any of
//! them may be missing (a driver whose manifest grants no Memory gets none), and a starter may add
//! others under names of its own (a driver's manifest lines).
//!
//! [`Writer`] builds a page and [`Reader`] parses one, checking every offset and length, so a
//! corrupt page is an error, never a wild read. Both are plain code over a byte array: the kernel
//! writes the root task's page with the same `Writer` Mercury uses for its programs.

use crate::layout::PAGE_SIZE;
use crate::rootinfo::RootInfo;

/// `StartHeader::magic`: "PHSTART\0" in little-endian ASCII.
pub const START_MAGIC: u64 = u64::from_le_bytes(*b"PHSTART\0");

/// The version of the start page's layout described here.
pub const START_VERSION: u32 = 1;

/// Flag: the program is the root task, and the page carries a [`RootInfo`].
pub const FLAG_ROOT: u32 = 1;

/// Longest capability name, in bytes (shorter names are padded with NULs).
pub const CAP_NAME_MAX: usize = 24;

/// Slots at the top of every program's CSpace that its runtime keeps for itself (`sys::process`:
/// its park Note, page-table Memory and IPC buffer): a starter puts nothing there.
///
/// ```
/// // A CSpace of radix 12 leaves its starter slots 1 to 4092.
/// assert_eq!((1 << 12) - 1 - abi::start::RUNTIME_SLOTS, 4092);
/// ```
pub const RUNTIME_SLOTS: usize = 3;

/// The names the runtime looks for.
pub mod names {
    /// The program's own CSpace (WRITE: the runtime puts what it makes there).
    pub const CSPACE: &str = "cspace";
    /// The program's own VSpace (WRITE: the heap, stacks and mappings go there).
    pub const VSPACE: &str = "vspace";
    /// The program's own Task (the main thread).
    pub const TASK: &str = "task";
    /// The Memory the runtime makes objects from (heap pages, threads, Notes).
    pub const MEMORY: &str = "memory";
    /// A debug console for `print!` and panics.
    pub const CONSOLE: &str = "console";
    /// The main thread's IPC buffer, a Page its starter mapped at
    /// [`IPC_BUFFER_ADDR`](crate::layout::IPC_BUFFER_ADDR) and made the thread's buffer (a
    /// program without a Memory of its own can make none).
    pub const IPC_BUFFER: &str = "ipc-buffer";
}

/// The fixed header at the start of the page.
///
/// ```
/// use abi::start::{START_MAGIC, START_VERSION, Reader, Writer};
///
/// let page = Writer::new(12, 8, 0x7fff_fff0_0000, 128 * 1024).finish().expect("fits");
/// let header = *Reader::new(&page).expect("a valid page").header();
/// assert_eq!((header.magic, header.version), (START_MAGIC, START_VERSION));
/// assert_eq!((header.cspace_radix, header.first_free), (12, 8));
/// assert_eq!(header.stack_top - header.stack_size, 0x7fff_fff0_0000 - 128 * 1024);
/// ```
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct StartHeader {
    /// [`START_MAGIC`].
    pub magic: u64,
    /// [`START_VERSION`].
    pub version: u32,
    /// [`FLAG_ROOT`] or 0.
    pub flags: u32,
    /// Radix of the program's CSpace.
    pub cspace_radix: u32,
    /// The lowest slot the starter left free: the program's own from there up.
    pub first_free: u32,
    /// Where the capability table starts (bytes from the page start).
    pub caps_offset: u32,
    /// Entries in it.
    pub caps_count: u32,
    /// Where the arguments start.
    pub args_offset: u32,
    /// Their length in bytes.
    pub args_len: u32,
    /// Where the environment starts.
    pub env_offset: u32,
    /// Its length in bytes.
    pub env_len: u32,
    /// Where the [`RootInfo`] is (0 unless [`FLAG_ROOT`]).
    pub root_offset: u32,
    /// Its length in bytes.
    pub root_len: u32,
    /// One past the highest byte of the main thread's stack (its first `rsp`).
    pub stack_top: u64,
    /// Bytes of stack mapped below `stack_top`; an unmapped guard page lies below them.
    pub stack_size: u64,
}

/// One capability the program was given.
///
/// ```
/// use abi::object::Kind;
/// use abi::start::{Reader, Writer, names};
///
/// let mut w = Writer::new(8, 4, 0, 0);
/// w.cap(names::MEMORY, 2, Kind::Memory as u32).expect("fits");
/// let page = w.finish().expect("fits");
/// let memory = Reader::new(&page).expect("a valid page").cap(names::MEMORY).expect("named");
/// assert_eq!((memory.name(), memory.slot, memory.kind), ("memory", 2, Kind::Memory as u32));
/// ```
#[repr(C)]
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct StartCap {
    /// Its name, UTF-8, NUL-padded.
    pub name: [u8; CAP_NAME_MAX],
    /// The slot in the program's CSpace.
    pub slot: u32,
    /// Its kind ([`Kind`](crate::object::Kind) as a number), as the starter put it there.
    pub kind: u32,
}

impl StartCap {
    /// The name, without its padding (empty if it is not UTF-8).
    ///
    /// ```
    /// use abi::start::{Reader, Writer};
    ///
    /// let mut w = Writer::new(8, 4, 0, 0);
    /// w.cap("uart", 3, 13).expect("fits");
    /// let page = w.finish().expect("fits");
    /// let uart = Reader::new(&page).expect("a valid page").caps().next().expect("one capability");
    /// // Without the NUL padding of the page's 24 bytes.
    /// assert_eq!(uart.name(), "uart");
    /// ```
    pub fn name(&self) -> &str {
        let len = self.name.iter().position(|&b| b == 0).unwrap_or(CAP_NAME_MAX);
        core::str::from_utf8(&self.name[..len]).unwrap_or("")
    }
}

const HEADER_BYTES: usize = core::mem::size_of::<StartHeader>();
const CAP_BYTES: usize = core::mem::size_of::<StartCap>();
const ROOT_BYTES: usize = core::mem::size_of::<RootInfo>();

const _: () = assert!(HEADER_BYTES.is_multiple_of(8) && CAP_BYTES.is_multiple_of(8) && ROOT_BYTES <= PAGE_SIZE / 2);

/// Why a start page cannot be built or read.
///
/// ```
/// use abi::start::{Reader, StartError, Writer};
///
/// let mut w = Writer::new(8, 4, 0, 0);
/// assert_eq!(w.cap("", 3, 13).err(), Some(StartError::BadName));
/// assert_eq!(w.args(&["a\0b"]).err(), Some(StartError::BadText));
/// // A page that is not a start page.
/// assert_eq!(Reader::new(&[0u8; 4096]).err(), Some(StartError::BadMagic(0)));
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum StartError {
    /// The magic is not [`START_MAGIC`].
    BadMagic(u64),
    /// The version is not [`START_VERSION`].
    BadVersion(u32),
    /// An area does not fit in the page, overlaps another, or is out of order.
    BadArea,
    /// A string is not UTF-8, or a list of strings does not end in NUL.
    BadText,
    /// A capability name is empty, too long, or holds a NUL.
    BadName,
    /// What the writer was given does not fit in one page.
    TooBig,
}

fn put<const N: usize>(page: &mut [u8; PAGE_SIZE], at: usize, bytes: [u8; N]) {
    page[at..at + N].copy_from_slice(&bytes);
}

fn u32_at(page: &[u8], at: usize) -> u32 {
    let mut b = [0u8; 4];
    b.copy_from_slice(&page[at..at + 4]);
    u32::from_le_bytes(b)
}

fn u64_at(page: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&page[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Builds a start page. Areas are written in order: capabilities, then arguments, then the
/// environment, then (for the root task) the [`RootInfo`]; [`finish`](Self::finish) writes the
/// header last.
///
/// ```
/// use abi::object::Kind;
/// use abi::start::{Reader, Writer, names};
///
/// // A starter (Mercury, a shell) builds the page it maps at START_INFO_ADDR in the new program.
/// let mut w = Writer::new(6, 8, 0x7fff_fff0_0000, 64 * 1024);
/// w.cap(names::CSPACE, 1, Kind::CSpace as u32)?.cap(names::MEMORY, 2, Kind::Memory as u32)?;
/// w.cap("uart", 5, Kind::IoPort as u32)?;
/// w.args(&["serial", "--baud", "115200"])?.env(&["LOG=debug"])?;
/// let page = w.finish()?;
///
/// let start = Reader::new(&page)?;
/// assert_eq!(start.cap("uart").map(|c| c.slot), Some(5));
/// assert_eq!(start.env_var("LOG"), Some("debug"));
/// # Ok::<(), abi::start::StartError>(())
/// ```
pub struct Writer {
    page: [u8; PAGE_SIZE],
    header: StartHeader,
    at: usize,
    phase: u8,
}

impl Writer {
    /// A page for a program whose CSpace has `2^cspace_radix` slots, the lowest free one
    /// `first_free`, and whose main stack has `stack_size` bytes ending at `stack_top`.
    ///
    /// ```
    /// use abi::layout::{ROOT_STACK_SIZE, ROOT_STACK_TOP};
    /// use abi::start::{Reader, Writer};
    ///
    /// // A CSpace of 2^12 slots, the program's own from slot 8 on, and its main stack.
    /// let page = Writer::new(12, 8, ROOT_STACK_TOP as u64, ROOT_STACK_SIZE as u64).finish()?;
    /// assert_eq!(Reader::new(&page)?.header().stack_top, ROOT_STACK_TOP as u64);
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn new(cspace_radix: u32, first_free: u32, stack_top: u64, stack_size: u64) -> Writer {
        let header = StartHeader {
            magic: START_MAGIC,
            version: START_VERSION,
            cspace_radix,
            first_free,
            caps_offset: HEADER_BYTES as u32,
            stack_top,
            stack_size,
            ..StartHeader::default()
        };
        Writer { page: [0; PAGE_SIZE], header, at: HEADER_BYTES, phase: 0 }
    }

    fn align(&mut self) {
        self.at = self.at.next_multiple_of(8);
    }

    /// Adds a capability: `name` (1 to [`CAP_NAME_MAX`] bytes, no NUL) at `slot`, of `kind`.
    /// All capabilities come before the arguments.
    ///
    /// ```
    /// use abi::object::Kind;
    /// use abi::start::{StartError, Writer, names};
    ///
    /// let mut w = Writer::new(8, 4, 0, 0);
    /// w.cap(names::CONSOLE, 3, Kind::DebugConsole as u32)?;
    /// // Names are 1 to CAP_NAME_MAX bytes, without NUL.
    /// assert_eq!(w.cap("a-name-longer-than-24-bytes", 4, 1).err(), Some(StartError::BadName));
    /// // Capabilities come before the arguments.
    /// w.args(&["prog"])?;
    /// assert_eq!(w.cap("late", 5, 1).err(), Some(StartError::BadArea));
    /// # Ok::<(), StartError>(())
    /// ```
    pub fn cap(&mut self, name: &str, slot: u32, kind: u32) -> Result<&mut Writer, StartError> {
        if self.phase > 0 {
            return Err(StartError::BadArea);
        }
        let bytes = name.as_bytes();
        if bytes.is_empty() || bytes.len() > CAP_NAME_MAX || bytes.contains(&0) {
            return Err(StartError::BadName);
        }
        if self.at + CAP_BYTES > PAGE_SIZE {
            return Err(StartError::TooBig);
        }
        let at = self.at;
        self.page[at..at + bytes.len()].copy_from_slice(bytes);
        put(&mut self.page, at + CAP_NAME_MAX, slot.to_le_bytes());
        put(&mut self.page, at + CAP_NAME_MAX + 4, kind.to_le_bytes());
        self.at += CAP_BYTES;
        self.header.caps_count += 1;
        Ok(self)
    }

    fn strings(&mut self, list: &[&str]) -> Result<(u32, u32), StartError> {
        self.align();
        let start = self.at;
        for s in list {
            let bytes = s.as_bytes();
            if bytes.contains(&0) {
                return Err(StartError::BadText);
            }
            if self.at + bytes.len() + 1 > PAGE_SIZE {
                return Err(StartError::TooBig);
            }
            self.page[self.at..self.at + bytes.len()].copy_from_slice(bytes);
            self.at += bytes.len() + 1;
        }
        Ok((start as u32, (self.at - start) as u32))
    }

    /// Sets the arguments (after every capability, before the environment).
    ///
    /// ```
    /// use abi::start::{Reader, Writer};
    ///
    /// let page = Writer::new(8, 4, 0, 0).args(&["ls", "-l", "/"])?.finish()?;
    /// assert!(Reader::new(&page)?.args().eq(["ls", "-l", "/"]));
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn args(&mut self, args: &[&str]) -> Result<&mut Writer, StartError> {
        if self.phase > 0 {
            return Err(StartError::BadArea);
        }
        (self.header.args_offset, self.header.args_len) = self.strings(args)?;
        self.phase = 1;
        Ok(self)
    }

    /// Sets the environment, `KEY=value` strings (after the arguments).
    ///
    /// ```
    /// use abi::start::{Reader, Writer};
    ///
    /// // Without `args`, the program gets none.
    /// let page = Writer::new(8, 4, 0, 0).env(&["HOME=/", "TERM=vt100"])?.finish()?;
    /// let start = Reader::new(&page)?;
    /// assert_eq!((start.args().count(), start.env_var("TERM")), (0, Some("vt100")));
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn env(&mut self, env: &[&str]) -> Result<&mut Writer, StartError> {
        if self.phase > 1 {
            return Err(StartError::BadArea);
        }
        if self.phase == 0 {
            self.args(&[])?;
        }
        (self.header.env_offset, self.header.env_len) = self.strings(env)?;
        self.phase = 2;
        Ok(self)
    }

    /// Adds the root task's [`RootInfo`] (last) and marks the page [`FLAG_ROOT`].
    ///
    /// ```
    /// use abi::RootInfo;
    /// use abi::start::{Reader, Writer};
    ///
    /// // The kernel's page for the root task.
    /// let info = RootInfo { mem_total: 256 << 20, ..RootInfo::zeroed() };
    /// let page = Writer::new(12, 8, 0, 0).args(&["init"])?.root(&info)?.finish()?;
    /// let start = Reader::new(&page)?;
    /// assert!(start.is_root());
    /// assert_eq!(start.root_info(), Some(info));
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn root(&mut self, info: &RootInfo) -> Result<&mut Writer, StartError> {
        if self.phase > 2 {
            return Err(StartError::BadArea);
        }
        if self.phase < 2 {
            self.env(&[])?;
        }
        self.align();
        if self.at + ROOT_BYTES > PAGE_SIZE {
            return Err(StartError::TooBig);
        }
        let at = self.at;
        info.write_to(&mut self.page[at..at + ROOT_BYTES]);
        self.header.root_offset = at as u32;
        self.header.root_len = ROOT_BYTES as u32;
        self.header.flags |= FLAG_ROOT;
        self.at += ROOT_BYTES;
        self.phase = 3;
        Ok(self)
    }

    /// The finished page.
    ///
    /// ```
    /// use abi::layout::PAGE_SIZE;
    /// use abi::start::Writer;
    ///
    /// let page: [u8; PAGE_SIZE] = Writer::new(8, 4, 0, 0).args(&["prog"])?.finish()?;
    /// // The header comes first: the magic, "PHSTART\0".
    /// assert_eq!(&page[..8], b"PHSTART\0");
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn finish(&mut self) -> Result<[u8; PAGE_SIZE], StartError> {
        if self.phase < 2 {
            self.env(&[])?;
        }
        let h = self.header;
        let p = &mut self.page;
        put(p, 0, h.magic.to_le_bytes());
        put(p, 8, h.version.to_le_bytes());
        put(p, 12, h.flags.to_le_bytes());
        put(p, 16, h.cspace_radix.to_le_bytes());
        put(p, 20, h.first_free.to_le_bytes());
        put(p, 24, h.caps_offset.to_le_bytes());
        put(p, 28, h.caps_count.to_le_bytes());
        put(p, 32, h.args_offset.to_le_bytes());
        put(p, 36, h.args_len.to_le_bytes());
        put(p, 40, h.env_offset.to_le_bytes());
        put(p, 44, h.env_len.to_le_bytes());
        put(p, 48, h.root_offset.to_le_bytes());
        put(p, 52, h.root_len.to_le_bytes());
        put(p, 56, h.stack_top.to_le_bytes());
        put(p, 64, h.stack_size.to_le_bytes());
        Ok(*p)
    }
}

const _: () = {
    assert!(core::mem::offset_of!(StartHeader, flags) == 12);
    assert!(core::mem::offset_of!(StartHeader, root_len) == 52);
    assert!(core::mem::offset_of!(StartHeader, stack_top) == 56);
    assert!(core::mem::offset_of!(StartHeader, stack_size) == 64);
    assert!(HEADER_BYTES == 72);
    assert!(core::mem::offset_of!(StartCap, slot) == CAP_NAME_MAX);
};

/// A checked view of a start page.
///
/// ```
/// use abi::start::{Reader, StartError, Writer, names};
///
/// # let page = Writer::new(8, 4, 0, 0).cap(names::MEMORY, 2, 1)?.args(&["prog", "-v"])?.finish()?;
/// // What a program's runtime does with the page at START_INFO_ADDR.
/// let start = Reader::new(&page)?;
/// let memory_slot = start.cap(names::MEMORY).map(|c| c.slot);
/// let verbose = start.args().skip(1).any(|a| a == "-v");
/// assert_eq!((memory_slot, verbose), (Some(2), true));
/// # Ok::<(), StartError>(())
/// ```
#[derive(Copy, Clone, Debug)]
pub struct Reader<'a> {
    page: &'a [u8],
    header: StartHeader,
}

impl<'a> Reader<'a> {
    /// Checks `page` (at most [`PAGE_SIZE`] bytes are looked at): magic, version, and that every
    /// area lies in the page, in order, without overlap, and every string list is UTF-8 ending
    /// in NUL.
    ///
    /// ```
    /// use abi::start::{Reader, StartError, Writer};
    ///
    /// let mut page = Writer::new(8, 4, 0, 0).args(&["prog"])?.finish()?;
    /// assert!(Reader::new(&page).is_ok());
    /// // Corrupt the argument area's offset: refused, never read out of bounds.
    /// page[32..36].copy_from_slice(&9000u32.to_le_bytes());
    /// assert_eq!(Reader::new(&page).err(), Some(StartError::BadArea));
    /// # Ok::<(), StartError>(())
    /// ```
    pub fn new(page: &'a [u8]) -> Result<Reader<'a>, StartError> {
        let page = &page[..page.len().min(PAGE_SIZE)];
        if page.len() < HEADER_BYTES {
            return Err(StartError::BadArea);
        }
        let header = StartHeader {
            magic: u64_at(page, 0),
            version: u32_at(page, 8),
            flags: u32_at(page, 12),
            cspace_radix: u32_at(page, 16),
            first_free: u32_at(page, 20),
            caps_offset: u32_at(page, 24),
            caps_count: u32_at(page, 28),
            args_offset: u32_at(page, 32),
            args_len: u32_at(page, 36),
            env_offset: u32_at(page, 40),
            env_len: u32_at(page, 44),
            root_offset: u32_at(page, 48),
            root_len: u32_at(page, 52),
            stack_top: u64_at(page, 56),
            stack_size: u64_at(page, 64),
        };
        if header.magic != START_MAGIC {
            return Err(StartError::BadMagic(header.magic));
        }
        if header.version != START_VERSION {
            return Err(StartError::BadVersion(header.version));
        }
        let caps_len = (header.caps_count as usize).checked_mul(CAP_BYTES).ok_or(StartError::BadArea)?;
        let root_len = if header.flags & FLAG_ROOT != 0 {
            if header.root_len as usize != ROOT_BYTES {
                return Err(StartError::BadArea);
            }
            ROOT_BYTES
        } else {
            if header.root_offset != 0 || header.root_len != 0 {
                return Err(StartError::BadArea);
            }
            0
        };
        let mut end = HEADER_BYTES;
        let areas = [
            (header.caps_offset as usize, caps_len),
            (header.args_offset as usize, header.args_len as usize),
            (header.env_offset as usize, header.env_len as usize),
            (header.root_offset as usize, root_len),
        ];
        for (offset, len) in areas {
            if len == 0 {
                continue;
            }
            let area_end = offset.checked_add(len).ok_or(StartError::BadArea)?;
            if offset < end || area_end > page.len() {
                return Err(StartError::BadArea);
            }
            end = area_end;
        }
        let r = Reader { page, header };
        for list in [r.strings(header.args_offset, header.args_len), r.strings(header.env_offset, header.env_len)] {
            if list.last().is_some_and(|&b| b != 0) || core::str::from_utf8(list).is_err() {
                return Err(StartError::BadText);
            }
        }
        Ok(r)
    }

    /// The header.
    ///
    /// ```
    /// use abi::start::{Reader, Writer};
    ///
    /// let page = Writer::new(10, 16, 0x7fff_0000_0000, 4096).finish()?;
    /// let start = Reader::new(&page)?;
    /// let header = start.header();
    /// // The slots the program may use for itself.
    /// assert_eq!((header.first_free, 1u32 << header.cspace_radix), (16, 1024));
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn header(&self) -> &StartHeader {
        &self.header
    }

    /// Whether this is the root task's page.
    ///
    /// ```
    /// use abi::RootInfo;
    /// use abi::start::{Reader, Writer};
    ///
    /// let plain = Writer::new(8, 4, 0, 0).finish()?;
    /// assert!(!Reader::new(&plain)?.is_root());
    /// let root = Writer::new(8, 4, 0, 0).root(&RootInfo::zeroed())?.finish()?;
    /// assert!(Reader::new(&root)?.is_root());
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn is_root(&self) -> bool {
        self.header.flags & FLAG_ROOT != 0
    }

    /// The capabilities the program was given, in order.
    ///
    /// ```
    /// use abi::object::Kind;
    /// use abi::start::{Reader, Writer};
    ///
    /// let mut w = Writer::new(8, 4, 0, 0);
    /// w.cap("rtc", 5, Kind::IoPort as u32)?.cap("irq8", 6, Kind::IrqHandler as u32)?;
    /// let page = w.finish()?;
    /// let start = Reader::new(&page)?;
    /// // In the order they were written.
    /// let mut caps = start.caps();
    /// let rtc = caps.next().expect("two capabilities");
    /// assert_eq!((rtc.name(), rtc.slot, Kind::from_number(rtc.kind as usize)), ("rtc", 5, Some(Kind::IoPort)));
    /// assert_eq!(caps.next().map(|c| c.slot), Some(6));
    /// assert!(caps.next().is_none());
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn caps(&self) -> impl Iterator<Item = StartCap> + use<'a> {
        let (page, start) = (self.page, self.header.caps_offset as usize);
        (0..self.header.caps_count as usize).map(move |i| {
            let at = start + i * CAP_BYTES;
            let mut name = [0u8; CAP_NAME_MAX];
            name.copy_from_slice(&page[at..at + CAP_NAME_MAX]);
            StartCap { name, slot: u32_at(page, at + CAP_NAME_MAX), kind: u32_at(page, at + CAP_NAME_MAX + 4) }
        })
    }

    /// The first capability named `name`.
    ///
    /// ```
    /// use abi::start::{Reader, Writer, names};
    ///
    /// let mut w = Writer::new(8, 4, 0, 0);
    /// w.cap(names::TASK, 3, 6)?;
    /// let page = w.finish()?;
    /// let start = Reader::new(&page)?;
    /// assert_eq!(start.cap(names::TASK).map(|c| c.slot), Some(3));
    /// assert_eq!(start.cap(names::MEMORY), None, "a program may be given no Memory");
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn cap(&self, name: &str) -> Option<StartCap> {
        self.caps().find(|c| c.name() == name)
    }

    fn strings(&self, offset: u32, len: u32) -> &'a [u8] {
        let page: &'a [u8] = self.page;
        if len == 0 { &[] } else { &page[offset as usize..(offset + len) as usize] }
    }

    fn split(bytes: &'a [u8]) -> impl Iterator<Item = &'a str> + 'a {
        let text = core::str::from_utf8(bytes).unwrap_or("");
        let text = text.strip_suffix('\0').unwrap_or(text);
        let mut parts = (!bytes.is_empty()).then(|| text.split('\0')).into_iter().flatten();
        core::iter::from_fn(move || parts.next())
    }

    /// The arguments, `argv[0]` first.
    ///
    /// ```
    /// use abi::start::{Reader, Writer};
    ///
    /// let page = Writer::new(8, 4, 0, 0).args(&["cat", "a.txt", "b.txt"])?.finish()?;
    /// let start = Reader::new(&page)?;
    /// let mut args = start.args();
    /// assert_eq!(args.next(), Some("cat")); // argv[0]: the program's name
    /// assert!(args.eq(["a.txt", "b.txt"]));
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn args(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        Self::split(self.strings(self.header.args_offset, self.header.args_len))
    }

    /// The environment, `KEY=value` strings.
    ///
    /// ```
    /// use abi::start::{Reader, Writer};
    ///
    /// let page = Writer::new(8, 4, 0, 0).env(&["HOME=/", "LOG=info"])?.finish()?;
    /// let start = Reader::new(&page)?;
    /// let keys = start.env().map(|var| var.split_once('=').map_or(var, |(key, _)| key));
    /// assert!(keys.eq(["HOME", "LOG"]));
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn env(&self) -> impl Iterator<Item = &'a str> + use<'a> {
        Self::split(self.strings(self.header.env_offset, self.header.env_len))
    }

    /// The value of `key` in the environment (the first `key=` string).
    ///
    /// ```
    /// use abi::start::{Reader, Writer};
    ///
    /// let page = Writer::new(8, 4, 0, 0).env(&["LOG=debug"])?.finish()?;
    /// let start = Reader::new(&page)?;
    /// assert_eq!(start.env_var("LOG"), Some("debug"));
    /// assert_eq!(start.env_var("LO"), None, "whole keys only");
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn env_var(&self, key: &str) -> Option<&'a str> {
        self.env().find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
    }

    /// The root task's [`RootInfo`], if this is its page.
    ///
    /// ```
    /// use abi::RootInfo;
    /// use abi::start::{Reader, Writer};
    ///
    /// let info = RootInfo { tsc_hz: 3_000_000_000, ..RootInfo::zeroed() };
    /// let page = Writer::new(12, 8, 0, 0).root(&info)?.finish()?;
    /// // A copy, read out of the page.
    /// assert_eq!(Reader::new(&page)?.root_info().map(|i| i.tsc_hz), Some(3_000_000_000));
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn root_info(&self) -> Option<RootInfo> {
        if !self.is_root() {
            return None;
        }
        let at = self.header.root_offset as usize;
        Some(RootInfo::read_from(&self.page[at..at + ROOT_BYTES]))
    }

    /// Where the [`RootInfo`] lies in the page (offset, length), if this is the root task's page.
    ///
    /// ```
    /// use abi::RootInfo;
    /// use abi::start::{Reader, Writer};
    ///
    /// let page = Writer::new(12, 8, 0, 0).root(&RootInfo::zeroed())?.finish()?;
    /// let (offset, len) = Reader::new(&page)?.root_info_range().expect("the root task's page");
    /// // Where a reference into the mapped page may point (sys::Boot::root_info does).
    /// assert_eq!((offset % 8, len), (0, size_of::<RootInfo>()));
    /// assert!(offset + len <= page.len());
    /// # Ok::<(), abi::start::StartError>(())
    /// ```
    pub fn root_info_range(&self) -> Option<(usize, usize)> {
        self.is_root().then_some((self.header.root_offset as usize, ROOT_BYTES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> [u8; PAGE_SIZE] {
        let mut w = Writer::new(12, 8, 0x7fff_fff0_0000, 128 * 1024);
        w.cap(names::CSPACE, 1, 2).unwrap().cap(names::MEMORY, 2, 1).unwrap();
        w.cap("ioport-control", 5, 12).unwrap();
        w.args(&["init", "-v", ""]).unwrap().env(&["HOME=/", "TERM=vt100"]).unwrap();
        w.finish().unwrap()
    }

    #[test]
    fn round_trip() {
        let page = sample();
        let r = Reader::new(&page).unwrap();
        assert!(!r.is_root());
        assert_eq!(r.header().cspace_radix, 12);
        assert_eq!(r.header().first_free, 8);
        assert_eq!(r.header().stack_top, 0x7fff_fff0_0000);
        let caps: [(&str, u32, u32); 3] = [("cspace", 1, 2), ("memory", 2, 1), ("ioport-control", 5, 12)];
        assert!(r.caps().map(|c| (c.name().len(), c.slot, c.kind)).eq(caps.iter().map(|c| (c.0.len(), c.1, c.2))));
        assert_eq!(r.cap("memory").map(|c| c.slot), Some(2));
        assert_eq!(r.cap("vspace"), None);
        assert!(r.args().eq(["init", "-v", ""]));
        assert!(r.env().eq(["HOME=/", "TERM=vt100"]));
        assert_eq!(r.env_var("TERM"), Some("vt100"));
        assert_eq!(r.env_var("TER"), None);
        assert_eq!(r.root_info(), None);
    }

    #[test]
    fn root_page_carries_root_info() {
        let info = RootInfo { magic: 7, version: 2, tsc_hz: 3_000_000_000, cmdline_len: 2, ..RootInfo::zeroed() };
        let mut w = Writer::new(12, 8, 1 << 40, 4096);
        w.cap(names::TASK, 6, 6).unwrap();
        let page = w.args(&["init"]).unwrap().root(&info).unwrap().finish().unwrap();
        let r = Reader::new(&page).unwrap();
        assert!(r.is_root());
        assert_eq!(r.root_info(), Some(info));
        assert!(r.env().eq(core::iter::empty::<&str>()));
        assert!(r.args().eq(["init"]));
    }

    #[test]
    fn empty_lists_and_order() {
        let page = Writer::new(4, 1, 0, 0).finish().unwrap();
        let r = Reader::new(&page).unwrap();
        assert_eq!(r.caps().count(), 0);
        assert_eq!(r.args().count(), 0);
        assert_eq!(r.env().count(), 0);
        // Capabilities after the arguments are refused.
        let mut w = Writer::new(4, 1, 0, 0);
        w.args(&["a"]).unwrap();
        assert_eq!(w.cap("x", 1, 1).err(), Some(StartError::BadArea));
    }

    #[test]
    fn bad_names_and_text_are_refused() {
        let mut w = Writer::new(4, 1, 0, 0);
        assert_eq!(w.cap("", 1, 1).err(), Some(StartError::BadName));
        assert_eq!(w.cap("a\0b", 1, 1).err(), Some(StartError::BadName));
        assert_eq!(w.cap(&"x".repeat(CAP_NAME_MAX + 1), 1, 1).err(), Some(StartError::BadName));
        assert!(w.cap(&"x".repeat(CAP_NAME_MAX), 1, 1).is_ok());
        assert_eq!(w.args(&["a\0"]).err(), Some(StartError::BadText));
        let long = "y".repeat(PAGE_SIZE);
        let mut w = Writer::new(4, 1, 0, 0);
        assert_eq!(w.args(&[&long]).err(), Some(StartError::TooBig));
    }

    #[test]
    fn corrupt_pages_are_errors() {
        let good = sample();
        let mut p = good;
        p[0] ^= 1;
        assert!(matches!(Reader::new(&p), Err(StartError::BadMagic(_))));
        let mut p = good;
        p[8] = 9;
        assert_eq!(Reader::new(&p).err(), Some(StartError::BadVersion(9)));
        // The capability table running off the page.
        let mut p = good;
        p[28..32].copy_from_slice(&1000u32.to_le_bytes());
        assert_eq!(Reader::new(&p).err(), Some(StartError::BadArea));
        // Arguments overlapping the capabilities.
        let mut p = good;
        p[32..36].copy_from_slice(&(HEADER_BYTES as u32).to_le_bytes());
        assert_eq!(Reader::new(&p).err(), Some(StartError::BadArea));
        // Arguments that do not end in NUL ("init\0-v" of "init\0-v\0\0").
        let mut p = good;
        let args_len = u32_at(&p, 36);
        p[36..40].copy_from_slice(&(args_len - 2).to_le_bytes());
        assert_eq!(Reader::new(&p).err(), Some(StartError::BadText));
        // A root flag without a RootInfo.
        let mut p = good;
        p[12] = 1;
        assert_eq!(Reader::new(&p).err(), Some(StartError::BadArea));
        // Too short.
        assert_eq!(Reader::new(&good[..10]).err(), Some(StartError::BadArea));
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A small deterministic generator: every header word set to values around the edges.
        let edges = [0u32, 1, 7, 8, 71, 72, 73, 4095, 4096, 4097, u32::MAX / 2, u32::MAX];
        let base = sample();
        for (i, &e) in edges.iter().enumerate() {
            for field in (12..56).step_by(4) {
                let mut p = base;
                p[field..field + 4].copy_from_slice(&e.to_le_bytes());
                p[(field + i * 97) % PAGE_SIZE] ^= 0xff;
                if let Ok(r) = Reader::new(&p) {
                    let _ = (r.caps().count(), r.args().count(), r.env().count(), r.root_info(), r.env_var("A"));
                }
            }
        }
    }
}
