//! No input a client can send makes an auth handler answer 5xx or time out (proptest over every
//! request subject, anonymous and with an admin token, which passes every role check).

mod common;

use common::Auth;

fn request_subjects() -> Vec<String> {
    runtime::handlers()
        .iter()
        .map(|def| def.subject)
        .filter(|subject| subject.starts_with("auth.") && !subject.contains(".events."))
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_input_makes_an_auth_handler_fail_or_hang() {
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let auth = runtime.block_on(Auth::start());
    let admin = runtime.block_on(auth.admin_token());
    let (auth, admin) = (&auth, admin.as_str());
    harness::fuzz::no_5xx_for_any_input(
        &runtime,
        request_subjects(),
        48,
        |subject, body| async move { auth.call(&subject, body).await },
    );
    harness::fuzz::no_5xx_for_any_input(
        &runtime,
        request_subjects(),
        48,
        |subject, body| async move { auth.call_as(admin, &subject, body).await },
    );
}
