//! Migrations and seeding: idempotent, and safe when replicas start together.

mod common;

use auth::AuthState;
use auth::store::AuthStore;

async fn schema_fingerprint(store: &AuthStore) -> (Vec<String>, i64, i64, i64) {
    let columns: Vec<String> = sqlx::query_scalar(
        "SELECT table_name || '.' || column_name || ':' || data_type FROM information_schema.columns \
         WHERE table_schema = 'public' ORDER BY 1",
    )
    .fetch_all(store.pool())
    .await
    .unwrap();
    let count = |sql: &'static str| async move {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(store.pool())
            .await
            .unwrap()
    };
    (
        columns,
        count("SELECT count(*) FROM _sqlx_migrations").await,
        count("SELECT count(*) FROM roles").await,
        count("SELECT count(*) FROM users").await + count("SELECT count(*) FROM api_keys").await,
    )
}

#[tokio::test]
async fn applying_migrations_and_seeds_twice_changes_nothing() {
    let settings = common::settings();
    let first = AuthState::connect(&settings).await.expect("first start");
    let before = schema_fingerprint(&first.store).await;
    assert_eq!(before.2, 4, "four roles seeded");
    assert_eq!(before.3, 2, "one admin and one API key seeded");
    let second = AuthState::connect(&settings).await.expect("second start");
    second.store.migrate().await.expect("migrate again");
    assert_eq!(schema_fingerprint(&second.store).await, before);
}

#[tokio::test]
async fn replicas_starting_together_migrate_once() {
    let settings = common::settings();
    let (a, b) = tokio::join!(AuthState::connect(&settings), AuthState::connect(&settings));
    let a = a.expect("replica a starts");
    b.expect("replica b starts");
    let (_, migrations, roles, seeded) = schema_fingerprint(&a.store).await;
    let embedded = auth::store::MIGRATOR.iter().count() as i64;
    assert_eq!((migrations, roles, seeded), (embedded, 4, 2));
}

#[tokio::test]
async fn a_missing_key_file_is_a_clear_startup_error() {
    let mut settings = common::settings();
    settings.jwt_private_key_path = "/nonexistent/jwt-private.pem".into();
    let err = AuthState::connect(&settings)
        .await
        .err()
        .expect("start-up fails");
    assert!(matches!(err, runtime::Error::Startup(_)));
    assert!(
        err.to_string().contains("/nonexistent/jwt-private.pem"),
        "{err}"
    );
}
