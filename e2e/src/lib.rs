//! tenuo-e2e.
