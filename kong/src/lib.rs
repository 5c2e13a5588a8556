//! Kong configuration checks (work in progress).
