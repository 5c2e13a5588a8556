//! No input a client can send makes a blog handler answer 5xx or time out (proptest over every
//! request subject, as a guest and as an admin, who passes every role check).

mod common;

use common::World;

fn request_subjects() -> Vec<String> {
    runtime::handlers()
        .iter()
        .map(|def| def.subject)
        .filter(|subject| subject.starts_with("blog.") && !subject.contains(".events."))
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_input_makes_a_blog_handler_fail_or_hang() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let (world, _blog) = runtime.block_on(World::serving());
    for caller in [None, Some("admin")] {
        let world = &world;
        harness::fuzz::no_5xx_for_any_input(
            &runtime,
            request_subjects(),
            48,
            |subject, body| async move { world.call(caller, &subject, body).await },
        );
    }
}
