//! The HTTP bridge (work in progress).

fn main() {}
