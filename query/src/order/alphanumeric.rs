//! Druid's `StringComparators.ALPHANUMERIC` ("natural" order, after java-alphanum): runs of
//! digits (ASCII, Arabic-Indic, extended Arabic-Indic, Devanagari and fullwidth) compare as
//! numbers, leading zeros only breaking ties; other runs compare case-insensitively
//! (`String.CASE_INSENSITIVE_ORDER`); a digit run sorts before a non-digit run, and the empty
//! string first.

use std::cmp::Ordering;

/// Compares two strings in alphanumeric order.
pub(crate) fn compare_alphanumeric(left: &str, right: &str) -> Ordering {
    match (left.is_empty(), right.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    let (left_chars, right_chars): (Vec<char>, Vec<char>) =
        (left.chars().collect(), right.chars().collect());
    let (mut at_left, mut at_right) = (0, 0);
    while at_left < left_chars.len() && at_right < right_chars.len() {
        let (left_digit, right_digit) = (
            is_digit(left_chars[at_left]),
            is_digit(right_chars[at_right]),
        );
        let order = match (left_digit, right_digit) {
            (true, true) => {
                let left_run = run(&left_chars, &mut at_left, true);
                let right_run = run(&right_chars, &mut at_right, true);
                compare_digit_runs(left_run, right_run)
            }
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            (false, false) => {
                let left_run = run(&left_chars, &mut at_left, false);
                let right_run = run(&right_chars, &mut at_right, false);
                compare_ignoring_case(left_run, right_run)
            }
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    // Java compares the remaining lengths in UTF-16 units.
    let utf16 = |text: &str| text.encode_utf16().count();
    utf16(left).cmp(&utf16(right))
}

/// The run of digits (or of non-digits) starting at `*at`, advancing `*at` past it.
fn run<'c>(chars: &'c [char], at: &mut usize, digits: bool) -> &'c [char] {
    let start = *at;
    while *at < chars.len() && is_digit(chars[*at]) == digits {
        *at += 1;
    }
    &chars[start..*at]
}

/// Digit runs by value: more significant digits is larger, then the first differing digit,
/// then fewer leading zeros first.
fn compare_digit_runs(left: &[char], right: &[char]) -> Ordering {
    let strip = |digits: &[char]| {
        let zeros = digits.iter().take_while(|&&c| digit_value(c) == 0).count();
        (zeros, digits.len() - zeros)
    };
    let ((left_zeros, left_len), (right_zeros, right_len)) = (strip(left), strip(right));
    let values = |digits: &[char]| digits.iter().map(|&c| digit_value(c)).collect::<Vec<u32>>();
    left_len
        .cmp(&right_len)
        .then_with(|| values(&left[left_zeros..]).cmp(&values(&right[right_zeros..])))
        .then(left_zeros.cmp(&right_zeros))
}

/// The digit blocks the comparator knows, by their zero.
const ZEROS: [char; 5] = ['0', '\u{660}', '\u{6F0}', '\u{966}', '\u{FF10}'];

/// The zero of the digit block holding `c`, if any.
fn zero_of(c: char) -> Option<u32> {
    ZEROS
        .iter()
        .map(|&zero| zero as u32)
        .find(|zero| (*zero..=zero + 9).contains(&(c as u32)))
}

fn is_digit(c: char) -> bool {
    zero_of(c).is_some()
}

/// The value of a digit of any known block.
fn digit_value(c: char) -> u32 {
    zero_of(c).map_or(c as u32, |zero| c as u32 - zero)
}

/// Java's `String.CASE_INSENSITIVE_ORDER`: characters equal after upper- or lower-casing
/// are equal; otherwise the lower-cased characters decide, then the length.
fn compare_ignoring_case(left: &[char], right: &[char]) -> Ordering {
    for (&l, &r) in left.iter().zip(right) {
        if l == r {
            continue;
        }
        let (l, r) = (single(l.to_uppercase(), l), single(r.to_uppercase(), r));
        if l == r {
            continue;
        }
        let (l, r) = (single(l.to_lowercase(), l), single(r.to_lowercase(), r));
        if l != r {
            return l.cmp(&r);
        }
    }
    left.len().cmp(&right.len())
}

/// A case mapping that yields one character, else the character unchanged (as Java's
/// `Character.toUpperCase(char)` does).
fn single(mut mapped: impl Iterator<Item = char>, c: char) -> char {
    match (mapped.next(), mapped.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// Druid's `StringComparators.STRLEN`: shorter first (UTF-16 length), then lexicographic.
pub(crate) fn compare_strlen(left: &str, right: &str) -> Ordering {
    let utf16 = |text: &str| text.encode_utf16().count();
    utf16(left).cmp(&utf16(right)).then_with(|| left.cmp(right))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn natural_order() {
        // Leading zeros decide as soon as a digit run ties, so "a9b" sorts before "a09".
        let mut values = vec![
            "a10", "a9", "a09", "B", "", "10", "9", "a", "a9b", "1.5", "A3",
        ];
        values.sort_by(|left, right| compare_alphanumeric(left, right));
        assert_eq!(
            values,
            ["", "1.5", "9", "10", "a", "A3", "a9", "a9b", "a09", "a10", "B"]
        );
        // Fullwidth and Arabic-Indic digits compare by value.
        assert_eq!(compare_alphanumeric("x\u{FF13}", "x3"), Ordering::Equal);
        assert_eq!(compare_alphanumeric("x\u{663}", "x10"), Ordering::Less);
    }

    #[test]
    fn strlen_order() {
        let mut values = vec!["ccc", "b", "aa", "a"];
        values.sort_by(|left, right| compare_strlen(left, right));
        assert_eq!(values, ["a", "b", "aa", "ccc"]);
    }
}
