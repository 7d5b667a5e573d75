//! tenuo-loadtest.
