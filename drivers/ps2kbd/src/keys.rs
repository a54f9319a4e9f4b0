//! From scancodes to the bytes a terminal sends: the keyboard's bytes (scancode set 1, which the
//! i8042 translates set 2 into) decoded by `pc-keyboard` with the US 104-key layout, then
//! characters as UTF-8, Enter as CR, Backspace as DEL (0x7f), Ctrl with a letter as its control
//! character, and the cursor and editing keys as the ANSI escapes xterm sends (`ESC [ A` for
//! up, `ESC [ 3 ~` for Delete, ...). Keys without a byte (Shift alone, F-keys) make nothing.

use pc_keyboard::layouts::Us104Key;
use pc_keyboard::{DecodedKey, HandleControl, KeyCode, PS2Keyboard, ScancodeSet1};

/// The most bytes one key makes.
pub const MAX_BYTES: usize = 4;

/// The bytes of one key: `bytes[..len]`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyBytes {
    bytes: [u8; MAX_BYTES],
    len: usize,
}

impl KeyBytes {
    fn from(s: &[u8]) -> KeyBytes {
        let mut k = KeyBytes::default();
        let len = s.len().min(MAX_BYTES);
        k.bytes[..len].copy_from_slice(&s[..len]);
        k.len = len;
        k
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A keyboard's decoding state (modifiers, prefixes): feed it every byte the keyboard sends.
pub struct Keys {
    kb: PS2Keyboard<Us104Key, ScancodeSet1>,
}

impl Default for Keys {
    fn default() -> Keys {
        Keys::new()
    }
}

impl Keys {
    /// A keyboard with nothing pressed.
    pub const fn new() -> Keys {
        Keys { kb: PS2Keyboard::new(ScancodeSet1::new(), Us104Key, HandleControl::MapLettersToUnicode) }
    }

    /// Takes one byte from the keyboard: the bytes of a key it completes, if any.
    pub fn byte(&mut self, b: u8) -> Option<KeyBytes> {
        let event = self.kb.add_byte(b).ok()??;
        match self.kb.process_keyevent(event)? {
            DecodedKey::Unicode('\n') => Some(KeyBytes::from(b"\r")),
            DecodedKey::Unicode('\u{8}') => Some(KeyBytes::from(b"\x7f")),
            DecodedKey::Unicode('\u{7f}') => Some(KeyBytes::from(b"\x1b[3~")),
            DecodedKey::Unicode(c) => Some(KeyBytes::from(c.encode_utf8(&mut [0; 4]).as_bytes())),
            DecodedKey::RawKey(code) => {
                let seq: &[u8] = match code {
                    KeyCode::ArrowUp => b"\x1b[A",
                    KeyCode::ArrowDown => b"\x1b[B",
                    KeyCode::ArrowRight => b"\x1b[C",
                    KeyCode::ArrowLeft => b"\x1b[D",
                    KeyCode::Home => b"\x1b[H",
                    KeyCode::End => b"\x1b[F",
                    KeyCode::Insert => b"\x1b[2~",
                    KeyCode::Delete => b"\x1b[3~",
                    KeyCode::PageUp => b"\x1b[5~",
                    KeyCode::PageDown => b"\x1b[6~",
                    _ => return None,
                };
                Some(KeyBytes::from(seq))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn typed(scancodes: &[u8]) -> Vec<u8> {
        let mut k = Keys::new();
        scancodes.iter().filter_map(|&b| k.byte(b)).flat_map(|kb| kb.as_slice().to_vec()).collect()
    }

    // Set 1 make codes; the break code is the make code with bit 7 set.
    const E: u8 = 0x12;
    const C: u8 = 0x2e;
    const H: u8 = 0x23;
    const O: u8 = 0x18;
    const SPACE: u8 = 0x39;
    const ENTER: u8 = 0x1c;
    const LSHIFT: u8 = 0x2a;
    const LCTRL: u8 = 0x1d;
    const BACKSPACE: u8 = 0x0e;
    const ONE: u8 = 0x02;

    fn tap(k: u8) -> [u8; 2] {
        [k, k | 0x80]
    }

    #[test]
    fn letters_space_and_enter() {
        let codes: Vec<u8> = [E, C, H, O, SPACE, ENTER].iter().flat_map(|&k| tap(k)).collect();
        assert_eq!(typed(&codes), b"echo \r");
    }

    #[test]
    fn shift_and_ctrl() {
        assert_eq!(typed(&[LSHIFT, H, H | 0x80, ONE, ONE | 0x80, LSHIFT | 0x80, H, H | 0x80]), b"H!h");
        assert_eq!(typed(&[LCTRL, C, C | 0x80, LCTRL | 0x80]), b"\x03");
    }

    #[test]
    fn editing_keys_are_terminal_sequences() {
        assert_eq!(typed(&tap(BACKSPACE)), b"\x7f");
        // Extended keys: 0xe0, then the code (up 0x48, left 0x4b, delete 0x53, home 0x47).
        assert_eq!(typed(&[0xe0, 0x48, 0xe0, 0xc8]), b"\x1b[A");
        assert_eq!(typed(&[0xe0, 0x4b, 0xe0, 0xcb]), b"\x1b[D");
        assert_eq!(typed(&[0xe0, 0x53, 0xe0, 0xd3]), b"\x1b[3~");
        assert_eq!(typed(&[0xe0, 0x47, 0xe0, 0xc7]), b"\x1b[H");
    }

    #[test]
    fn releases_modifiers_and_junk_make_nothing() {
        assert_eq!(typed(&[LSHIFT, LSHIFT | 0x80, 0x3b, 0xbb]), b"", "Shift alone, F1");
        let mut k = Keys::new();
        for b in 0..=255u8 {
            for c in 0..=255u8 {
                let _ = k.byte(b);
                let _ = k.byte(c);
            }
        }
    }
}
