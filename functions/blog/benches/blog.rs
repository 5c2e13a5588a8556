//! Blog read paths over NATS against the runtime's echo, in one run on one private nats-server:
//! `blog.get.id` with a warm Redis cache and cold (cache disabled, every read from MongoDB), and
//! `blog.list.latest` both ways. `scripts/bench-blog` runs it in release mode; the ratios are the result.

use std::time::Duration;

use blog::workflow::Move;
use contracts::{Caller, CallerUser};
use harness::{LoadReport, NatsServer, nats_load};

const WORKERS: usize = 32;
const ROUND: Duration = Duration::from_secs(3);
const BLOGS: usize = 200;

async fn measure(client: &async_nats::Client, subject: &str, body: &str) -> LoadReport {
    nats_load(
        client,
        subject,
        Default::default(),
        body.to_owned().into(),
        WORKERS,
        ROUND,
    )
    .await
}

async fn seed(settings: &blog::Settings) -> String {
    let store = blog::BlogState::connect(settings)
        .await
        .expect("store")
        .store;
    let author = Caller {
        user: CallerUser {
            id: "bench-author".into(),
            name: "Bench".into(),
            email: None,
            profile_pic_url: None,
            roles: vec!["AUTHOR".into()],
        },
        token_id: "bench".into(),
        expires_at: None,
    };
    let mut last = String::new();
    for i in 0..BLOGS {
        let input: blog::dto::CreateBlog = serde_json::from_value(serde_json::json!({
            "title": format!("Benchmark blog number {i}"),
            "description": "A blog written to be read many times by the benchmark",
            "draftText": "Lorem ipsum dolor sit amet. ".repeat(60),
            "slug": format!("bench-{i}"),
            "tags": ["RUST", "NATS", format!("T{}", i % 10)],
        }))
        .expect("valid input");
        let blog = input.into_blog(&author).expect("valid blog");
        store.insert(&blog).await.expect("insert");
        let submitted = store
            .apply(&blog, Move::Submit, "bench")
            .await
            .expect("submit");
        store
            .apply(&submitted, Move::Publish, "bench")
            .await
            .expect("publish");
        last = blog.id.to_hex();
    }
    last
}

/// The allocator the shipped binaries use, so the benchmark measures what they cost.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    runtime::init_logging(runtime::LogFormat::Text);
    let nats = NatsServer::start();
    let load = async_nats::connect(nats.url()).await.expect("connect");
    let only = |subjects: &[&str]| runtime::Config {
        only: subjects.iter().map(|s| s.to_string()).collect(),
        ..runtime::Config::with_nats_url(nats.url())
    };
    let echo = demo::service(&contracts::GuardSettings::default())
        .config(only(&["demo.echo"]))
        .start(async_nats::connect(nats.url()).await.expect("connect"))
        .await
        .expect("echo");

    let mut settings = blog::Settings::local(
        &harness::mongodb_url(),
        &harness::unique_name("bench"),
        &harness::redis_url(),
        &format!("{}:", harness::unique_name("bench")),
    );
    let id = seed(&settings).await;
    let get = format!(r#"{{"id":"{id}"}}"#);
    let page = r#"{"page":1,"limit":10}"#;
    let echo_body = r#"{"message":"hello, runtime","count":1}"#;

    println!(
        "{WORKERS} concurrent requesters, rounds of {ROUND:?}, {BLOGS} published blogs (~1.7 KB each)"
    );
    let mut figures = Vec::new();
    for cached in [true, false] {
        settings.no_cache = !cached;
        let blog = blog::connected(&settings, only(&["blog.>"]))
            .await
            .expect("blog")
            .start(async_nats::connect(nats.url()).await.expect("connect"))
            .await
            .expect("start");
        measure(&load, "blog.get.id", &get).await;
        let label = if cached {
            "warm cache"
        } else {
            "cold (no cache)"
        };
        let echo_report = measure(&load, "demo.echo", echo_body).await;
        let get_report = measure(&load, "blog.get.id", &get).await;
        let list_report = measure(&load, "blog.list.latest", page).await;
        println!("runtime echo                    {echo_report}");
        println!("blog.get.id       {label:<14}{get_report}");
        println!("blog.list.latest  {label:<14}{list_report}");
        figures.push((
            label,
            echo_report.rps(),
            get_report.rps(),
            list_report.rps(),
        ));
        blog.shutdown().await.expect("drain");
    }
    for (label, echo, get, list) in figures {
        println!(
            "{label:<16} get.id/echo = {:.3}   list.latest/echo = {:.3}",
            get / echo,
            list / echo
        );
    }
    println!("target: warm get.id/echo >= 0.5");
    echo.shutdown().await.expect("drain");
}
