//! Multi-value string dimensions (`docs/querying/multi-value-dimensions.md`): a JSON array in
//! a string dimension becomes the row's list of values, ordered by the dimension's
//! `multiValueHandling` ([`MultiValueHandling`]). Elements convert as single values do
//! (strings as they are, numbers as written, booleans as `"true"`/`"false"`, nested values
//! as their JSON text); a null element stays null. One element is an ordinary single value,
//! none an empty row (grouped and filtered as null; see `segment/FORMAT.md`).

use serde_json::value::RawValue;

use crate::parse::Scalar;

/// `multiValueHandling` of a string dimension: how a row's values are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MultiValueHandling {
    /// `SORTED_ARRAY` (the default): sorted (nulls first), duplicates kept.
    #[default]
    SortedArray,
    /// `SORTED_SET`: sorted, duplicates removed.
    SortedSet,
    /// `ARRAY`: as in the input.
    Array,
}

impl MultiValueHandling {
    /// Druid's names, in any case (its `fromString` upper-cases them); `None` when unknown.
    pub fn parse(name: &str) -> Option<MultiValueHandling> {
        match name.to_ascii_uppercase().as_str() {
            "SORTED_ARRAY" => Some(MultiValueHandling::SortedArray),
            "SORTED_SET" => Some(MultiValueHandling::SortedSet),
            "ARRAY" => Some(MultiValueHandling::Array),
            _ => None,
        }
    }

    /// Orders a row's values. Strings sort by their UTF-8 bytes (Druid compares Java
    /// strings, which differs only for characters beyond U+FFFF against U+E000..U+FFFF).
    pub(crate) fn apply(self, values: &mut Vec<Option<String>>) {
        match self {
            MultiValueHandling::Array => {}
            MultiValueHandling::SortedArray => values.sort_unstable(),
            MultiValueHandling::SortedSet => {
                values.sort_unstable();
                values.dedup();
            }
        }
    }
}

/// When `scalar` is a JSON array, replaces `out` with its elements in `handling`'s order and
/// returns true; otherwise leaves `out` alone and returns false.
pub(crate) fn read_list(
    scalar: &Scalar<'_>,
    handling: MultiValueHandling,
    out: &mut Vec<Option<String>>,
) -> bool {
    let Scalar::Nested(text) = scalar else {
        return false;
    };
    // Validated JSON already; an object is not a list.
    let Ok(elements) = serde_json::from_str::<Vec<&RawValue>>(text) else {
        return false;
    };
    out.clear();
    out.extend(
        elements
            .into_iter()
            .map(|element| Scalar::of(Some(element)).as_str().map(str::to_owned)),
    );
    handling.apply(out);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(text: &str, handling: MultiValueHandling) -> Option<Vec<Option<String>>> {
        let raw: &RawValue = serde_json::from_str(text).unwrap();
        let mut out = vec![Some("stale".to_string())];
        read_list(&Scalar::of(Some(raw)), handling, &mut out).then_some(out)
    }

    fn strings(values: &[Option<&str>]) -> Vec<Option<String>> {
        values
            .iter()
            .map(|value| value.map(str::to_owned))
            .collect()
    }

    #[test]
    fn orders_values_by_handling() {
        let input = r#"["b", "a", null, "b", 3, true, "x\"y"]"#;
        assert_eq!(
            list(input, MultiValueHandling::SortedArray),
            Some(strings(&[
                None,
                Some("3"),
                Some("a"),
                Some("b"),
                Some("b"),
                Some("true"),
                Some("x\"y")
            ]))
        );
        assert_eq!(
            list(input, MultiValueHandling::SortedSet),
            Some(strings(&[
                None,
                Some("3"),
                Some("a"),
                Some("b"),
                Some("true"),
                Some("x\"y")
            ]))
        );
        assert_eq!(
            list(input, MultiValueHandling::Array),
            Some(strings(&[
                Some("b"),
                Some("a"),
                None,
                Some("b"),
                Some("3"),
                Some("true"),
                Some("x\"y")
            ]))
        );
        assert_eq!(list("[]", MultiValueHandling::SortedArray), Some(vec![]));
        assert_eq!(list(r#"{"a": 1}"#, MultiValueHandling::SortedArray), None);
        assert_eq!(list(r#""[a]""#, MultiValueHandling::SortedArray), None);
    }

    #[test]
    fn parses_druid_names() {
        assert_eq!(
            MultiValueHandling::parse("sorted_set"),
            Some(MultiValueHandling::SortedSet)
        );
        assert_eq!(
            MultiValueHandling::parse("ARRAY"),
            Some(MultiValueHandling::Array)
        );
        assert_eq!(
            MultiValueHandling::parse("SORTED_ARRAY"),
            Some(MultiValueHandling::SortedArray)
        );
        assert_eq!(MultiValueHandling::parse("sorted"), None);
    }
}
