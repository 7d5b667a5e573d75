//! Precompiled HTTP method sets for routes ([`MethodMask`]).
//!
//! Matching is case-insensitive, as in the reference: configured names are
//! upper-cased once, and the seven common methods become bits so the usual
//! check is a single AND.

use http::Method;

/// The methods a route accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodMask {
    any: bool,
    bits: u8,
    /// Other configured methods, upper-cased.
    extension: Box<[Box<str>]>,
}

const GET: u8 = 1;
const POST: u8 = 1 << 1;
const PUT: u8 = 1 << 2;
const DELETE: u8 = 1 << 3;
const PATCH: u8 = 1 << 4;
const HEAD: u8 = 1 << 5;
const OPTIONS: u8 = 1 << 6;

fn bit_of_upper(name: &str) -> u8 {
    match name {
        "GET" => GET,
        "POST" => POST,
        "PUT" => PUT,
        "DELETE" => DELETE,
        "PATCH" => PATCH,
        "HEAD" => HEAD,
        "OPTIONS" => OPTIONS,
        _ => 0,
    }
}

fn bit_of_method(method: &Method) -> u8 {
    match *method {
        Method::GET => GET,
        Method::POST => POST,
        Method::PUT => PUT,
        Method::DELETE => DELETE,
        Method::PATCH => PATCH,
        Method::HEAD => HEAD,
        Method::OPTIONS => OPTIONS,
        // Extension methods keep their case in `http`: "post" is not
        // `Method::POST`, so fall back to a case-insensitive name check.
        _ => bit_of_upper_ignore_case(method.as_str()),
    }
}

fn bit_of_upper_ignore_case(name: &str) -> u8 {
    [
        ("GET", GET),
        ("POST", POST),
        ("PUT", PUT),
        ("DELETE", DELETE),
        ("PATCH", PATCH),
        ("HEAD", HEAD),
        ("OPTIONS", OPTIONS),
    ]
    .iter()
    .find(|(n, _)| n.eq_ignore_ascii_case(name))
    .map_or(0, |(_, b)| *b)
}

impl MethodMask {
    /// A mask accepting every method.
    pub fn any() -> Self {
        Self {
            any: true,
            bits: 0,
            extension: Box::new([]),
        }
    }

    /// Builds a mask from configured names; an empty list accepts every
    /// method.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        if names.is_empty() {
            return Self::any();
        }
        let mut bits = 0;
        let mut extension: Vec<Box<str>> = Vec::new();
        for name in names {
            // Full Unicode upper-casing, as the reference does.
            let upper = name.as_ref().to_uppercase();
            match bit_of_upper(&upper) {
                0 => {
                    if !extension.iter().any(|e| **e == *upper) {
                        extension.push(upper.into_boxed_str());
                    }
                }
                b => bits |= b,
            }
        }
        Self {
            any: false,
            bits,
            extension: extension.into_boxed_slice(),
        }
    }

    /// Whether every method is accepted.
    pub fn is_any(&self) -> bool {
        self.any
    }

    /// Whether `method` is accepted. Never allocates.
    pub fn matches(&self, method: &Method) -> bool {
        if self.any {
            return true;
        }
        match bit_of_method(method) {
            0 => {
                // Request methods are ASCII tokens, so ASCII case folding of
                // the request side equals the reference's full upper-casing.
                let name = method.as_str();
                self.extension.iter().any(|e| e.eq_ignore_ascii_case(name))
            }
            b => self.bits & b != 0,
        }
    }
}

impl Default for MethodMask {
    fn default() -> Self {
        Self::any()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Method {
        Method::from_bytes(s.as_bytes()).unwrap()
    }

    #[test]
    fn standard_and_case_insensitive() {
        let mask = MethodMask::from_names(&["post", "Put"]);
        assert!(mask.matches(&Method::POST));
        assert!(mask.matches(&Method::PUT));
        assert!(mask.matches(&m("post")));
        assert!(!mask.matches(&Method::GET));
        assert!(!mask.matches(&Method::DELETE));
    }

    #[test]
    fn extension_methods() {
        let mask = MethodMask::from_names(&["PURGE", "propfind", "POST"]);
        assert!(mask.matches(&m("PURGE")));
        assert!(mask.matches(&m("purge")));
        assert!(mask.matches(&m("PROPFIND")));
        assert!(!mask.matches(&m("TRACE")));
        assert!(!mask.matches(&Method::PATCH));
    }

    #[test]
    fn empty_means_any() {
        let mask = MethodMask::from_names::<&str>(&[]);
        assert!(mask.is_any());
        for s in ["GET", "POST", "PURGE", "x"] {
            assert!(mask.matches(&m(s)));
        }
    }

    #[test]
    fn unicode_upper_casing_of_config_names() {
        // "ﬀ" upper-cases to "FF" in full Unicode, as in the reference.
        let mask = MethodMask::from_names(&["\u{fb00}"]);
        assert!(mask.matches(&m("FF")));
        assert!(mask.matches(&m("ff")));
    }
}
