//! Mappings: memory mapped into the program's own address space on request, as `mmap`,
//! `munmap` and `mprotect` do elsewhere.
//!
//! [`map_anonymous`] maps fresh, zeroed pages made from the program's Memory; [`map_page`] maps a
//! Page capability the program was given (a driver's device memory, memory shared with another
//! program). Either goes where the program says ([`Place::At`]) or where the runtime picks
//! ([`Place::Anywhere`]): the mapping area `[MMAP_BASE, MMAP_END)`, first fit, with at least one
//! unmapped page between any two mappings there, so running off the end of one faults instead of
//! landing in the next. A [`Mapping`] owns its range: [`Mapping::protect`] changes its access
//! (`mprotect`), [`Mapping::unmap`] or dropping it removes it (`munmap`) and gives back the
//! pages it made, and its bytes are reached through it ([`Mapping::bytes`],
//! [`Mapping::bytes_mut`]), so no reference into a mapping outlives it or a change of its
//! access: the borrow checker sees to it, and these operations are safe. A raw pointer
//! ([`Mapping::addr`]) gives no such promise.
//!
//! A fresh mapping is made of Page objects of a power of two of pages each (at most
//! [`MAX_PAGE_COUNT`]), charged to the program's Memory (`pages + 1` each, the extra one the Page's
//! header); page tables are charged to the runtime's page-table Memory
//! ([`process::map_page`](crate::process::map_page)), so after every mapping is gone the Memory
//! reads the `used` it had before. An address the program names must be page-aligned, in the user
//! range, and outside the runtime's heap and stack areas; one already mapped is refused
//! ([`MapError::Occupied`]), never replaced.
//!
//! Without a Memory and the program's own VSpace nothing can be mapped ([`MapError::NoResources`]).
//!
//! ```no_run
//! use sys::mmap::{self, Place};
//! use sys::vspace::access;
//!
//! # fn demo() -> Result<(), sys::mmap::MapError> {
//! let mut buf = mmap::map_anonymous(4, access::RW, Place::Anywhere)?;
//! buf.bytes_mut().expect("mapped writable")[0] = 42;
//! buf.protect(access::R)?; // read-only from here on
//! assert_eq!(buf.bytes()[0], 42);
//! buf.unmap()?; // its pages go back to the program's Memory
//! # Ok(())
//! # }
//! ```

use alloc::vec::Vec;

use abi::layout::{HEAP_BASE, HEAP_END, MMAP_BASE, MMAP_END, PAGE_SIZE, STACK_SLOT, STACK_SLOTS, STACKS_BASE};

use crate::cap::Slot;
use crate::error::Error;
use crate::sync::Mutex;
use crate::vspace::{MAX_PAGE_COUNT, Page, access};

/// Where a mapping goes.
///
/// ```no_run
/// use sys::mmap::{self, Place};
/// use sys::vspace::access;
///
/// # fn demo() -> Result<(), mmap::MapError> {
/// // Wherever the runtime finds room in the mapping area...
/// let scratch = mmap::map_anonymous(8, access::RW, Place::Anywhere)?;
/// // ... or at an address the program has reasons to want.
/// let fixed = mmap::map_anonymous(1, access::RW, Place::At(0x0000_4000_0000_0000))?;
/// assert_eq!(fixed.addr(), 0x0000_4000_0000_0000);
/// # Ok(())
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// Where the runtime picks, in the mapping area.
    Anywhere,
    /// At this address (page-aligned).
    At(usize),
}

/// Why a mapping could not be made or changed.
///
/// ```no_run
/// use sys::mmap::{self, MapError, Place};
/// use sys::vspace::access;
///
/// # fn demo() {
/// match mmap::map_anonymous(256, access::RW, Place::Anywhere) {
///     Ok(buf) => sys::println!("256 pages at {:#x}", buf.addr()),
///     Err(MapError::Sys(e)) if e == sys::abi::Error::QuotaExceeded => sys::println!("not enough memory"),
///     Err(MapError::NoResources) => sys::println!("this program cannot map memory"),
///     Err(e) => sys::println!("map: {e:?}"),
/// }
/// # }
/// ```
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum MapError {
    /// The program has no Memory or no VSpace of its own.
    NoResources,
    /// No pages asked for, or more than the mapping area holds.
    BadLength,
    /// The address is not page-aligned, the range leaves the user half, or it lies in the
    /// runtime's heap or stack area.
    BadAddress,
    /// Access bits other than READ, WRITE and EXECUTE.
    BadAccess,
    /// Something is mapped in the range already.
    Occupied,
    /// The mapping area has no free range that large.
    NoRoom,
    /// A system call failed (the Memory's quota, no physical run, the Page's rights).
    Sys(Error),
}

impl From<Error> for MapError {
    fn from(e: Error) -> MapError {
        match e {
            Error::Abi(abi::Error::SlotOccupied) => MapError::Occupied,
            e => MapError::Sys(e),
        }
    }
}

/// One Page object of a mapping.
struct Part {
    page: Page,
    /// Made for the mapping (deleted with it), or the program's (left to it).
    owned: bool,
}

/// A range of the program's address space it mapped (see the module docs).
///
/// ```no_run
/// use sys::mmap::{self, Place};
/// use sys::vspace::access;
///
/// # fn demo() -> Result<(), mmap::MapError> {
/// let mut table = mmap::map_anonymous(2, access::RW, Place::Anywhere)?;
/// let bytes = table.bytes_mut().expect("mapped writable");
/// bytes[..4].copy_from_slice(b"PHT1");
/// assert_eq!(table.len(), 8192);
/// table.protect(access::R)?; // no reference into it outlives the change
/// assert_eq!(&table.bytes()[..4], b"PHT1");
/// drop(table); // unmapped, and its pages back in the program's Memory
/// # Ok(())
/// # }
/// ```
pub struct Mapping {
    addr: usize,
    pages: usize,
    access: usize,
    parts: Vec<Part>,
}

/// The ranges taken in the mapping area, `(start, bytes)` sorted by start.
static AREA: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());

/// Maps `pages` fresh, zeroed pages with `access` (READ is implied) at `place`.
///
/// # Errors
/// As [`MapError`] says; nothing is left mapped or made after an error.
///
/// ```no_run
/// use sys::mmap::{self, MapError, Place};
/// use sys::vspace::access;
///
/// # fn demo() -> Result<(), MapError> {
/// // 1 MiB, zeroed, read-write.
/// let mut buf = mmap::map_anonymous(256, access::RW, Place::Anywhere)?;
/// assert!(buf.bytes().iter().all(|&b| b == 0));
/// buf.bytes_mut().expect("mapped writable").fill(0xff);
/// # Ok(())
/// # }
/// ```
pub fn map_anonymous(pages: usize, access: usize, place: Place) -> Result<Mapping, MapError> {
    map_anonymous_in(pages, access, place, Slot::Auto)
}

/// As [`map_anonymous`], with the Page objects' capabilities in `slot` (for one Page object: a
/// mapping of at most [`MAX_PAGE_COUNT`] pages, a power of two, if `slot` is not `Auto`).
pub(crate) fn map_anonymous_in(pages: usize, access: usize, place: Place, slot: Slot) -> Result<Mapping, MapError> {
    if slot != Slot::Auto && (pages > MAX_PAGE_COUNT || !pages.is_power_of_two()) {
        return Err(MapError::BadLength);
    }
    check_access(access)?;
    let memory = crate::process::memory().ok_or(MapError::NoResources)?;
    crate::process::vspace().ok_or(MapError::NoResources)?;
    let addr = reserve(pages, place)?;
    let mut mapping = Mapping { addr, pages, access, parts: Vec::new() };
    let mut at = addr;
    for count in runs(pages) {
        let made = Page::create(memory, count, slot).map_err(MapError::from).and_then(|page| {
            match crate::process::map_page(page, at, access) {
                Ok(()) => Ok(page),
                Err(e) => {
                    let _ = page.delete();
                    Err(e.into())
                }
            }
        });
        match made {
            Ok(page) => mapping.parts.push(Part { page, owned: true }),
            // Dropping the mapping unmaps and deletes the parts made so far and frees the range.
            Err(e) => return Err(e),
        }
        at += count * PAGE_SIZE;
    }
    Ok(mapping)
}

/// Maps the program's Page `page` (not mapped anywhere) with `access` at `place`. Unmapping
/// leaves the Page to the program.
///
/// # Errors
/// As [`MapError`] says; `Sys(InvalidState)` if the Page is mapped already, `Sys` with the
/// capability error if `page` is not a Page the program holds with the rights `access` needs.
///
/// ```no_run
/// use sys::mmap::{self, Place};
/// use sys::vspace::access;
///
/// # fn demo(boot: &sys::Boot) -> Result<(), mmap::MapError> {
/// // A frame buffer the driver's manifest grants as a Page.
/// let fb = sys::Page::new(boot.cap("framebuffer").expect("the manifest grants it"));
/// let mut screen = mmap::map_page(fb, access::RW, Place::Anywhere)?;
/// screen.bytes_mut().expect("mapped writable").fill(0); // black
/// screen.unmap()?; // the Page stays the program's
/// # Ok(())
/// # }
/// ```
pub fn map_page(page: Page, access: usize, place: Place) -> Result<Mapping, MapError> {
    check_access(access)?;
    crate::process::vspace().ok_or(MapError::NoResources)?;
    let pages = page.info()?.count;
    let addr = reserve(pages, place)?;
    let mapping = Mapping { addr, pages, access, parts: Vec::new() };
    crate::process::map_page(page, addr, access)?;
    let mut mapping = mapping;
    mapping.parts.push(Part { page, owned: false });
    Ok(mapping)
}

/// The mapping a one-page Page capability has already (made by someone else: a starter): a
/// [`Mapping`] that never unmaps it (it is forgotten, not dropped, by its one user).
pub(crate) fn adopt(page: Page) -> Option<Mapping> {
    let info = page.info().ok()?;
    if !info.is_mapped() || info.count != 1 {
        return None;
    }
    Some(Mapping { addr: info.vaddr, pages: 1, access: access::RW, parts: alloc::vec![Part { page, owned: false }] })
}

impl Mapping {
    /// The first address.
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo() -> Result<(), mmap::MapError> {
    /// let ring = mmap::map_anonymous(1, access::RW, Place::Anywhere)?;
    /// assert_eq!(ring.addr() % 4096, 0);
    /// // Tell a device (or another program) where it is; no reference comes with it.
    /// sys::println!("ring at {:#x}", ring.addr());
    /// # Ok(())
    /// # }
    /// ```
    pub fn addr(&self) -> usize {
        self.addr
    }

    /// Its length in bytes.
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo() -> Result<(), mmap::MapError> {
    /// let buf = mmap::map_anonymous(3, access::RW, Place::Anywhere)?;
    /// assert_eq!(buf.len(), 3 * 4096);
    /// assert_eq!(buf.len(), buf.bytes().len());
    /// # Ok(())
    /// # }
    /// ```
    pub fn len(&self) -> usize {
        self.pages * PAGE_SIZE
    }

    /// Whether it is empty (never: a mapping has at least one page).
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo() -> Result<(), mmap::MapError> {
    /// let buf = mmap::map_anonymous(1, access::R, Place::Anywhere)?;
    /// assert!(!buf.is_empty());
    /// # Ok(())
    /// # }
    /// ```
    pub fn is_empty(&self) -> bool {
        self.pages == 0
    }

    /// Its length in pages.
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo(page: sys::Page) -> Result<(), mmap::MapError> {
    /// // As many pages as the Page object has.
    /// let view = mmap::map_page(page, access::R, Place::Anywhere)?;
    /// sys::println!("{} pages", view.pages());
    /// # Ok(())
    /// # }
    /// ```
    pub fn pages(&self) -> usize {
        self.pages
    }

    /// Its access bits now (READ is always among them).
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo() -> Result<(), mmap::MapError> {
    /// let mut buf = mmap::map_anonymous(1, access::WRITE, Place::Anywhere)?;
    /// assert_eq!(buf.access(), access::RW); // READ is implied
    /// buf.protect(access::R)?;
    /// assert_eq!(buf.access() & access::WRITE, 0);
    /// # Ok(())
    /// # }
    /// ```
    pub fn access(&self) -> usize {
        self.access | access::READ
    }

    /// Its bytes (every mapping is readable).
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo(shared: sys::Page) -> Result<(), mmap::MapError> {
    /// let view = mmap::map_page(shared, access::R, Place::Anywhere)?;
    /// let header = &view.bytes()[..8];
    /// sys::println!("header {header:02x?}");
    /// # Ok(())
    /// # }
    /// ```
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the range is mapped readable for as long as `self` lives (only `protect`, which
        // takes `&mut self`, and `unmap`, which takes `self`, change it), it belongs to this
        // mapping alone (the kernel maps a Page in one place at a time, and the range was free
        // when it was mapped), and bytes need no alignment or validity.
        unsafe { core::slice::from_raw_parts(core::ptr::with_exposed_provenance(self.addr), self.len()) }
    }

    /// Its bytes, writable, if it is mapped writable.
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo() -> Result<(), mmap::MapError> {
    /// let mut buf = mmap::map_anonymous(1, access::RW, Place::Anywhere)?;
    /// if let Some(bytes) = buf.bytes_mut() {
    ///     bytes[0] = 1;
    /// }
    /// buf.protect(access::R)?;
    /// assert!(buf.bytes_mut().is_none(), "read-only now");
    /// # Ok(())
    /// # }
    /// ```
    pub fn bytes_mut(&mut self) -> Option<&mut [u8]> {
        if self.access & access::WRITE == 0 {
            return None;
        }
        // SAFETY: as in `bytes`, and it is mapped writable until `protect` (`&mut self`, so not
        // while this borrow lives); `&mut self` makes this the only reference into it.
        Some(unsafe { core::slice::from_raw_parts_mut(core::ptr::with_exposed_provenance_mut(self.addr), self.len()) })
    }

    /// Changes its access to `access` (READ is implied), as `mprotect`.
    ///
    /// # Errors
    /// [`MapError::BadAccess`]; `Sys(InsufficientRights)` for a Page capability of the program's
    /// that lacks a right asked for. After an error the access is what it was.
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo() -> Result<(), mmap::MapError> {
    /// // Fill a table, then seal it: a stray write faults from here on.
    /// let mut table = mmap::map_anonymous(1, access::RW, Place::Anywhere)?;
    /// table.bytes_mut().expect("mapped writable")[..3].copy_from_slice(&[1, 2, 3]);
    /// table.protect(access::R)?;
    /// # Ok(())
    /// # }
    /// ```
    pub fn protect(&mut self, access: usize) -> Result<(), MapError> {
        check_access(access)?;
        for (i, part) in self.parts.iter().enumerate() {
            // SAFETY: `&mut self`: no reference into the mapping lives (they all borrow `self`),
            // so nothing Rust can reach uses the memory in a way the new access forbids.
            if let Err(e) = unsafe { part.page.protect(access) } {
                for undo in &self.parts[..i] {
                    // SAFETY: as above; back to the access it had, which `self.access` records.
                    let _ = unsafe { undo.page.protect(self.access) };
                }
                return Err(e.into());
            }
        }
        self.access = access;
        Ok(())
    }

    /// Removes it, as `munmap`: the pages it made go back to the program's Memory (a Page given to
    /// [`map_page`] is only unmapped), and its range may be mapped again.
    ///
    /// # Errors
    /// A system call failed (the Page capability was deleted or moved behind the mapping's back);
    /// the rest of the mapping is removed all the same.
    ///
    /// ```no_run
    /// use sys::mmap::{self, Place};
    /// use sys::vspace::access;
    ///
    /// # fn demo() -> Result<(), mmap::MapError> {
    /// let memory = sys::process::memory().expect("the program has a Memory");
    /// let before = memory.info()?.used;
    /// let buf = mmap::map_anonymous(16, access::RW, Place::Anywhere)?;
    /// buf.unmap()?; // dropping it does the same, without the report
    /// assert_eq!(memory.info()?.used, before);
    /// # Ok(())
    /// # }
    /// ```
    pub fn unmap(mut self) -> Result<(), MapError> {
        self.release()
    }

    fn release(&mut self) -> Result<(), MapError> {
        let mut result = Ok(());
        for part in self.parts.drain(..) {
            // SAFETY: the mapping is going (`unmap` took it, or it is being dropped): nothing
            // borrows it, so nothing Rust can reach uses the memory afterwards.
            let unmapped = unsafe { part.page.unmap() };
            let deleted = if part.owned { part.page.delete() } else { Ok(()) };
            if let Err(e) = unmapped.and(deleted) {
                result = Err(e.into());
            }
        }
        if self.pages != 0 {
            unreserve(self.addr);
            self.pages = 0;
        }
        result
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        let _ = self.release();
    }
}

impl core::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mapping")
            .field("addr", &self.addr)
            .field("pages", &self.pages)
            .field("access", &self.access)
            .finish()
    }
}

fn check_access(access: usize) -> Result<(), MapError> {
    if access & !(access::READ | access::WRITE | access::EXECUTE) != 0 {
        return Err(MapError::BadAccess);
    }
    Ok(())
}

/// The Page objects a mapping of `pages` is made of: powers of two, largest first, each at most
/// [`MAX_PAGE_COUNT`].
fn runs(mut pages: usize) -> impl Iterator<Item = usize> {
    core::iter::from_fn(move || {
        if pages == 0 {
            return None;
        }
        let count = (1usize << pages.ilog2()).min(MAX_PAGE_COUNT);
        pages -= count;
        Some(count)
    })
}

/// Takes a range of `pages` for a new mapping: at `place`, or first fit in the mapping area with
/// a free page on either side. An address outside the area is checked, not recorded (the kernel
/// refuses it if it is taken).
fn reserve(pages: usize, place: Place) -> Result<usize, MapError> {
    if pages == 0 || pages > (MMAP_END - MMAP_BASE) / PAGE_SIZE {
        return Err(MapError::BadLength);
    }
    let bytes = pages * PAGE_SIZE;
    if let Place::At(addr) = place {
        let end = addr.checked_add(bytes).ok_or(MapError::BadAddress)?;
        let overlaps = |from: usize, to: usize| addr < to && from < end;
        if !addr.is_multiple_of(PAGE_SIZE)
            || !abi::layout::is_user_range(addr, bytes)
            || overlaps(HEAP_BASE, HEAP_END)
            || overlaps(STACKS_BASE, STACKS_BASE + STACK_SLOTS * STACK_SLOT)
        {
            return Err(MapError::BadAddress);
        }
        if !overlaps(MMAP_BASE, MMAP_END) {
            return Ok(addr);
        }
    }
    let mut area = AREA.lock();
    let start = match place {
        Place::At(addr) => {
            if area.iter().any(|&(s, n)| addr < s + n && s < addr + bytes) {
                return Err(MapError::Occupied);
            }
            addr
        }
        Place::Anywhere => {
            let mut candidate = MMAP_BASE + PAGE_SIZE;
            for &(s, n) in area.iter() {
                if candidate + bytes + PAGE_SIZE <= s {
                    break;
                }
                candidate = candidate.max(s + n + PAGE_SIZE);
            }
            if candidate + bytes + PAGE_SIZE > MMAP_END {
                return Err(MapError::NoRoom);
            }
            candidate
        }
    };
    if area.try_reserve(1).is_err() {
        return Err(MapError::Sys(Error::Abi(abi::Error::OutOfMemory)));
    }
    let at = area.partition_point(|&(s, _)| s < start);
    area.insert(at, (start, bytes));
    Ok(start)
}

/// Gives back the range starting at `addr`, if it was recorded.
fn unreserve(addr: usize) {
    let mut area = AREA.lock();
    if let Ok(i) = area.binary_search_by_key(&addr, |&(s, _)| s) {
        area.remove(i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_powers_of_two_largest_first() {
        assert_eq!(runs(1).collect::<Vec<_>>(), [1]);
        assert_eq!(runs(5).collect::<Vec<_>>(), [4, 1]);
        assert_eq!(runs(7).collect::<Vec<_>>(), [4, 2, 1]);
        assert_eq!(runs(1030).collect::<Vec<_>>(), [512, 512, 4, 2]);
        assert_eq!(runs(0).count(), 0);
        for n in 1..2000 {
            assert_eq!(runs(n).sum::<usize>(), n);
            assert!(runs(n).all(|c| c.is_power_of_two() && c <= MAX_PAGE_COUNT));
        }
    }

    #[test]
    fn places_are_checked() {
        assert_eq!(reserve(0, Place::Anywhere), Err(MapError::BadLength));
        assert_eq!(reserve(1, Place::At(MMAP_BASE + 1)), Err(MapError::BadAddress));
        assert_eq!(reserve(1, Place::At(0)), Err(MapError::BadAddress));
        assert_eq!(reserve(1, Place::At(HEAP_BASE)), Err(MapError::BadAddress));
        assert_eq!(reserve(2, Place::At(HEAP_BASE - PAGE_SIZE)), Err(MapError::BadAddress));
        assert_eq!(reserve(1, Place::At(STACKS_BASE + 5 * STACK_SLOT)), Err(MapError::BadAddress));
        assert_eq!(reserve(1, Place::At(usize::MAX & !(PAGE_SIZE - 1))), Err(MapError::BadAddress));
        assert_eq!(check_access(8), Err(MapError::BadAccess));
    }

    #[test]
    fn anywhere_leaves_guard_pages_and_reuses_ranges() {
        let a = reserve(2, Place::Anywhere).unwrap();
        let b = reserve(1, Place::Anywhere).unwrap();
        assert_eq!(a, MMAP_BASE + PAGE_SIZE);
        assert_eq!(b, a + 3 * PAGE_SIZE, "one free page between");
        assert_eq!(reserve(1, Place::At(a + PAGE_SIZE)), Err(MapError::Occupied));
        let c = reserve(1, Place::At(MMAP_BASE + 100 * PAGE_SIZE)).unwrap();
        unreserve(a);
        assert_eq!(reserve(1, Place::Anywhere), Ok(a), "the first range, free again");
        unreserve(a);
        unreserve(b);
        unreserve(c);
        assert!(AREA.lock().is_empty());
    }
}
