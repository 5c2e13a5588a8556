//! The blog function (work in progress).

/// The blog service with its name and version; referencing it also links the handlers.
pub fn service() -> runtime::Service {
    runtime::Service::new("blog", env!("CARGO_PKG_VERSION"))
}
