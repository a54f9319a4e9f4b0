//! Every Vulcan test, grouped by what it exercises, in the order they run.
//!
//! - [`debug_write`]: the `debug_write` syscall: lengths, and every kind of bad pointer;
//! - [`syscall`]: the syscall entry itself: undefined numbers, and which registers survive;
//! - [`image`]: what the kernel set up before the first instruction: the loaded image, the stack;
//! - [`rootinfo`]: the root task's boot information page and the initramfs it describes.

use crate::harness::Test;

mod debug_write;
mod image;
mod rootinfo;
mod syscall;

/// All groups, in run order.
pub const ALL: &[&[Test]] = &[debug_write::TESTS, syscall::TESTS, image::TESTS, rootinfo::TESTS];
