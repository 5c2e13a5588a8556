//! Arbitrary request bodies for the no-5xx property of every handler: wrong types, huge numbers,
//! control characters, deep nesting and long strings, under the field names handlers really read.

use std::future::Future;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use runtime::ApiError;
use serde_json::{Map, Value};

/// Field names the auth and blog inputs read, so generated objects get past "unknown field" and
/// into the rules behind it.
const FIELDS: &[&str] = &[
    "email",
    "password",
    "name",
    "profilePicUrl",
    "id",
    "_id",
    "page",
    "limit",
    "title",
    "description",
    "draftText",
    "slug",
    "imgUrl",
    "tags",
    "tag",
    "text",
    "blogId",
    "comment",
    "roles",
    "refreshToken",
    "key",
    "userId",
];

/// Any JSON value, nested up to 4 deep, with strings from control characters to 200 KB.
pub fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
        "[\\x00-\\x1f\\x7f]{1,4}[a-z@.]{0,8}".prop_map(Value::from),
        (0usize..200_000).prop_map(|n| Value::from("x".repeat(n))),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::from),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..8).prop_map(|pairs| {
                Value::Object(
                    pairs
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// Sends `cases` arbitrary bodies to each of `subjects` (plus arrays nested 1,000 deep, past
/// serde_json's limit of 128) through `call`, and fails on any 5xx (a timeout is a 504): a
/// client's input never breaks a handler.
pub fn no_5xx_for_any_input<F, Fut>(
    runtime: &tokio::runtime::Runtime,
    subjects: Vec<String>,
    cases: u32,
    call: F,
) where
    F: Fn(String, Value) -> Fut,
    Fut: Future<Output = Result<Value, ApiError>>,
{
    assert!(!subjects.is_empty(), "no handler subjects to fuzz");
    let deep = (0..1_000).fold(Value::Null, |inner, _| Value::Array(vec![inner]));
    for subject in &subjects {
        check(
            runtime.block_on(call(subject.clone(), deep.clone())),
            subject,
        )
        .unwrap_or_else(|err| panic!("{err}"));
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&json_value(), |body| {
                check(runtime.block_on(call(subject.clone(), body)), subject)
            })
            .unwrap_or_else(|err| panic!("{err}"));
    }
}

fn check(result: Result<Value, ApiError>, subject: &str) -> Result<(), TestCaseError> {
    match result {
        Err(err) if err.code() >= 500 => Err(TestCaseError::fail(format!(
            "{subject} answered {} {err}",
            err.code()
        ))),
        _ => Ok(()),
    }
}
