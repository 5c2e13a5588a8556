//! The auth function (work in progress).

/// The auth service with its name and version; referencing it also links the handlers.
pub fn service() -> runtime::Service {
    runtime::Service::new("auth", env!("CARGO_PKG_VERSION"))
}
