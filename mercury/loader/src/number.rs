//! The numbers of the text formats: decimal by default, hexadecimal where a parameter says so
//! (I/O ports, addresses, bit masks), and `0x`-prefixed hexadecimal anywhere. No signs, no
//! separators, no leading `+`; a value that does not fit is not a number.

/// A decimal number, or a hexadecimal one after `0x`.
pub fn decimal(text: &str) -> Option<u64> {
    match strip_hex_prefix(text) {
        Some(digits) => radix(digits, 16),
        None => radix(text, 10),
    }
}

/// A hexadecimal number, with or without `0x`.
pub fn hexadecimal(text: &str) -> Option<u64> {
    radix(strip_hex_prefix(text).unwrap_or(text), 16)
}

fn strip_hex_prefix(text: &str) -> Option<&str> {
    text.strip_prefix("0x").or_else(|| text.strip_prefix("0X"))
}

fn radix(digits: &str, base: u32) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.chars().try_fold(0u64, |acc, c| acc.checked_mul(u64::from(base))?.checked_add(u64::from(c.to_digit(base)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_and_hexadecimal() {
        assert_eq!(decimal("12"), Some(12));
        assert_eq!(decimal("0x1F"), Some(31));
        assert_eq!(decimal("1F"), None);
        assert_eq!(decimal(""), None);
        assert_eq!(decimal("0x"), None);
        assert_eq!(decimal("-1"), None);
        assert_eq!(decimal("+1"), None);
        assert_eq!(decimal("18446744073709551615"), Some(u64::MAX));
        assert_eq!(decimal("18446744073709551616"), None);
        assert_eq!(hexadecimal("3F8"), Some(0x3f8));
        assert_eq!(hexadecimal("0x3f8"), Some(0x3f8));
        assert_eq!(hexadecimal("3G8"), None);
        assert_eq!(hexadecimal("1_0"), None);
        assert_eq!(hexadecimal("10000000000000000"), None);
    }
}
