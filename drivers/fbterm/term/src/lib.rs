//! The framebuffer terminal's screen, without system calls: what `drivers/fbterm` draws and what
//! `cargo xtask test` renders on the host to compare with QEMU's screendump, pixel for pixel.
//!
//! - [`ansi`]: bytes to actions (text, C0 controls, the CSI subset the shell uses);
//! - [`grid`]: the terminal's cells, cursor and colours, and what each action does to them;
//! - [`font`]: the glyphs (Noto Sans Mono, 7 x 16, from `noto-sans-mono-bitmap`);
//! - [`palette`]: the 16 colours and the blending of a glyph's edges;
//! - [`render`]: the grid drawn into a 32-bit linear framebuffer, only what changed.
//!
//! ```
//! use fbterm_term::{grid::Terminal, render};
//! let (w, h) = (800, 600);
//! let (cols, rows) = render::grid_size(w, h);
//! assert_eq!((cols, rows), (114, 37));
//! let mut term = Terminal::new(cols, rows);
//! term.write(b"\x1b[32mok\x1b[0m\n");
//! assert_eq!(term.row_text(0), "ok");
//! ```
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

pub mod ansi;
pub mod font;
pub mod grid;
pub mod palette;
pub mod render;
