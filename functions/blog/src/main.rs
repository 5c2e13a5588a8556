//! Serves the blog handlers until SIGTERM.

use clap::Parser;

/// Flags and env of the blog function.
#[derive(Parser)]
#[command(about = "The blog function on the NATS micro runtime")]
struct Cli {
    #[command(flatten)]
    runtime: runtime::Config,
    #[command(flatten)]
    blog: blog::Settings,
}

/// mimalloc: far cheaper than glibc malloc for the many short-lived buffers of each request.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> Result<(), runtime::Error> {
    let cli = Cli::parse();
    runtime::init_logging(cli.runtime.log_format);
    if cli.runtime.check {
        return blog::service().config(cli.runtime).run().await;
    }
    blog::connected(&cli.blog, cli.runtime).await?.run().await
}
