//! Estimates of the resident bytes a constraint holds on the heap, which the
//! verified-chain cache weighs its entries by: what each part allocates, except
//! for what the crate cannot see into (a compiled regex program, an unknown
//! constraint's value), for which it is a generous stand-in.

use super::{ArgValue, Constraint};
use crate::heap::{allocation, string};

/// A compiled regex program is hidden from us: a flat allowance for its automata
/// and match caches, and a share per source byte, set above what the `regex`
/// crate allocates for literals, alternations and classes of every size we tried.
/// Counted repetitions (`a{1000}`) can compile to more, up to
/// [`super::REGEX_SIZE_LIMIT`].
const REGEX_PROGRAM_BYTES: usize = 4 * 1024;
const REGEX_BYTES_PER_SOURCE_BYTE: usize = 640;

/// A `BTreeMap` node: up to eleven entries, allocated whole.
const BTREE_ENTRIES_PER_NODE: usize = 11;

impl Constraint {
    /// An estimate of the resident bytes this constraint holds on the heap (its
    /// own inline size is its container's).
    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            Constraint::Wildcard | Constraint::Range(_) => 0,
            Constraint::Pattern(pattern) => pattern.heap_bytes(),
            Constraint::Exact(value) => value_bytes(value),
            Constraint::OneOf(values)
            | Constraint::NotOneOf(values)
            | Constraint::Contains(values)
            | Constraint::Subset(values) => values_bytes(values),
            Constraint::Cidr(cidr) => string(cidr.as_str()),
            Constraint::All(inner) | Constraint::Any(inner) => {
                allocation(inner.capacity() * size_of::<Constraint>())
                    + inner.iter().map(Constraint::heap_bytes).sum::<usize>()
            }
            Constraint::Not(inner) => allocation(size_of::<Constraint>()) + inner.heap_bytes(),
            Constraint::Subpath(subpath) => string(&subpath.root),
            Constraint::Shlex(shlex) => strings_bytes(&shlex.allow),
            Constraint::Cel(cel) => {
                allocation(size_of_val(&**cel))
                    + string(&cel.expression)
                    + cel.parent_expression.as_deref().map_or(0, string)
            }
            Constraint::Regex(regex) => {
                allocation(size_of_val(&**regex))
                    + string(regex.as_str())
                    + REGEX_PROGRAM_BYTES
                    + REGEX_BYTES_PER_SOURCE_BYTE * regex.as_str().len()
            }
            Constraint::UrlPattern(url) => allocation(size_of_val(&**url)) + url.heap_bytes(),
            Constraint::UrlSafe(url) => {
                let ports = url.allow_ports.as_ref();
                allocation(size_of_val(&**url))
                    + strings_bytes(&url.schemes)
                    + url.allow_domains.as_ref().map_or(0, strings_bytes)
                    + url.deny_domains.as_ref().map_or(0, strings_bytes)
                    + ports.map_or(0, |p| allocation(p.capacity() * size_of::<u16>()))
            }
            // A CBOR value of about its rendered length: twice the text, and a slot.
            Constraint::Unknown { .. } => {
                let text = self.to_string().len();
                2 * text + allocation(text)
            }
        }
    }
}

/// The heap bytes of a list of strings.
pub(super) fn strings_bytes(strings: &Vec<String>) -> usize {
    allocation(strings.capacity() * size_of::<String>())
        + strings
            .iter()
            .map(|s| allocation(s.capacity()))
            .sum::<usize>()
}

fn values_bytes(values: &Vec<ArgValue>) -> usize {
    allocation(values.capacity() * size_of::<ArgValue>())
        + values.iter().map(value_bytes).sum::<usize>()
}

fn value_bytes(value: &ArgValue) -> usize {
    match value {
        ArgValue::String(text) => string(text),
        ArgValue::List(items) => values_bytes(items),
        ArgValue::Object(entries) => {
            let nodes = entries.len().div_ceil(BTREE_ENTRIES_PER_NODE);
            let node = BTREE_ENTRIES_PER_NODE * (size_of::<String>() + size_of::<ArgValue>());
            nodes * allocation(node)
                + entries
                    .iter()
                    .map(|(key, value)| string(key) + value_bytes(value))
                    .sum::<usize>()
        }
        ArgValue::Integer(_) | ArgValue::Float(_) | ArgValue::Bool(_) | ArgValue::Null => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wildcard_glob_is_its_text() {
        let pattern = Constraint::pattern("/data/tenant-1/reports/*").unwrap();
        assert_eq!(pattern.heap_bytes(), allocation(24));
        // A glob with a class keeps its tokens too.
        assert!(Constraint::pattern("/data/[ab]*").unwrap().heap_bytes() > allocation(11));
    }

    #[test]
    fn nested_constraints_count_their_parts() {
        let one = Constraint::exact("abc");
        let any = Constraint::any(vec![one.clone(), one.clone()]).unwrap();
        assert_eq!(
            any.heap_bytes(),
            allocation(2 * size_of::<Constraint>()) + 2 * one.heap_bytes()
        );
    }
}
