//! Sign-in limits: what one client address, and all of them together, may ask and guess; that
//! nobody else can lock a person out; and that the limits hold under concurrent requests.

use std::net::{IpAddr, Ipv4Addr};

use awc::http::StatusCode;
use diesel::prelude::*;
use futures_util::future::join_all;
use hallway::db::schema::{email_codes, outbox, sign_in_failures};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, TestResponse, spawn_app, unique_email};

both_backends!(
    code_requests_from_another_address_neither_lock_the_owner_out_nor_kill_their_code,
    an_email_address_is_sent_at_most_ten_codes_in_fifteen_minutes_whoever_asks,
    wrong_guesses_from_another_address_leave_the_owners_code_working,
    a_client_over_its_guess_budget_gets_429_and_its_guess_is_not_checked,
    an_email_address_takes_at_most_ten_wrong_guesses_from_all_addresses_together,
    a_client_address_gets_at_most_thirty_wrong_guesses_over_all_email_addresses,
    concurrent_code_requests_store_no_more_codes_than_the_limits_allow,
    concurrent_wrong_guesses_are_each_counted_and_stop_at_the_limit,
);

/// A client on its own loopback address (any 127.x.y.z reaches the server), so that a test can
/// play several clients; `n` = 1 is the address every other helper uses.
fn client(n: u8) -> awc::Client {
    let address = IpAddr::V4(Ipv4Addr::new(127, 0, 0, n));
    awc::Client::builder()
        .connector(awc::Connector::new().local_address(address))
        .timeout(std::time::Duration::from_secs(60))
        .finish()
}

async fn post_from(app: &TestApp, from: &awc::Client, path: &str, body: &Value) -> TestResponse {
    let mut response =
        from.post(format!("{}{path}", app.address)).send_json(body).await.expect("request failed");
    let raw = response.body().await.expect("read body").to_vec();
    TestResponse {
        status: response.status(),
        headers: response.headers().clone(),
        body: serde_json::from_slice(&raw).unwrap_or(Value::Null),
        raw,
    }
}

async fn request_from(app: &TestApp, from: &awc::Client, email: &str) -> TestResponse {
    post_from(app, from, "/v1/auth/email-codes", &json!({ "email": email })).await
}

async fn guess_from(app: &TestApp, from: &awc::Client, email: &str, code: &str) -> TestResponse {
    post_from(app, from, "/v1/auth/tokens", &json!({ "email": email, "code": code })).await
}

/// A six-digit code other than `code`.
fn wrong(code: &str) -> &'static str {
    if code == "000000" { "000001" } else { "000000" }
}

fn assert_rate_limited(response: &TestResponse) {
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS, "{}", response.body);
    assert_eq!(response.problem_code(), "rate_limited");
    let retry_after: u64 = response.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=15 * 60 + 1).contains(&retry_after), "Retry-After {retry_after}");
}

fn count_codes(app: &TestApp, email: &str) -> i64 {
    app.query(|conn| {
        email_codes::table.filter(email_codes::email.eq(email)).count().get_result(conn)
    })
}

async fn code_requests_from_another_address_neither_lock_the_owner_out_nor_kill_their_code(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let (owner, stranger) = (client(1), client(2));
    let email = unique_email("owner");
    assert_eq!(request_from(&app, &owner, &email).await.status, StatusCode::ACCEPTED);
    let first_code = app.nth_mail(&email, 1).await.sign_in_code().unwrap();

    for _ in 0..5 {
        assert_eq!(request_from(&app, &stranger, &email).await.status, StatusCode::ACCEPTED);
    }
    assert_rate_limited(&request_from(&app, &stranger, &email).await);

    assert_eq!(
        request_from(&app, &owner, &email).await.status,
        StatusCode::ACCEPTED,
        "the stranger's requests do not use up the owner's"
    );
    let signed_in = guess_from(&app, &owner, &email, &first_code).await;
    assert_eq!(signed_in.status, StatusCode::OK, "later requests keep earlier codes alive");
}

async fn an_email_address_is_sent_at_most_ten_codes_in_fifteen_minutes_whoever_asks(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = unique_email("inbox");
    for n in [2, 3] {
        for _ in 0..5 {
            assert_eq!(request_from(&app, &client(n), &email).await.status, StatusCode::ACCEPTED);
        }
    }
    assert_rate_limited(&request_from(&app, &client(4), &email).await);
    let queued: i64 = app
        .query(|conn| outbox::table.filter(outbox::recipient.eq(&email)).count().get_result(conn));
    assert_eq!(queued, 10);
}

async fn wrong_guesses_from_another_address_leave_the_owners_code_working(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, guesser) = (client(1), client(2));
    let email = unique_email("target");
    request_from(&app, &owner, &email).await;
    let code = app.nth_mail(&email, 1).await.sign_in_code().unwrap();

    for attempt in 1..=5 {
        let response = guess_from(&app, &guesser, &email, wrong(&code)).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "attempt {attempt}");
        assert_eq!(response.problem_code(), "invalid_code");
    }
    assert_rate_limited(&guess_from(&app, &guesser, &email, wrong(&code)).await);

    let signed_in = guess_from(&app, &owner, &email, &code).await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.body);
}

async fn a_client_over_its_guess_budget_gets_429_and_its_guess_is_not_checked(backend: Backend) {
    let app = spawn_app(backend).await;
    let (guesser, owner) = (client(2), client(1));
    let email = unique_email("budget");
    request_from(&app, &owner, &email).await;
    let code = app.nth_mail(&email, 1).await.sign_in_code().unwrap();
    for _ in 0..5 {
        assert_eq!(
            guess_from(&app, &guesser, &email, wrong(&code)).await.status,
            StatusCode::BAD_REQUEST
        );
    }

    assert_rate_limited(&guess_from(&app, &guesser, &email, &code).await);
    let consumed: i64 = app.query(|conn| {
        email_codes::table
            .filter(email_codes::email.eq(&email).and(email_codes::consumed_at.is_not_null()))
            .count()
            .get_result(conn)
    });
    assert_eq!(consumed, 0, "the right code, sent over budget, was not even checked");
    assert_eq!(guess_from(&app, &owner, &email, &code).await.status, StatusCode::OK);
}

async fn an_email_address_takes_at_most_ten_wrong_guesses_from_all_addresses_together(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let email = unique_email("spread");
    request_from(&app, &client(1), &email).await;
    let code = app.nth_mail(&email, 1).await.sign_in_code().unwrap();
    for n in [2, 3] {
        for _ in 0..5 {
            let response = guess_from(&app, &client(n), &email, wrong(&code)).await;
            assert_eq!(response.problem_code(), "invalid_code");
        }
    }
    assert_rate_limited(&guess_from(&app, &client(4), &email, wrong(&code)).await);
    let failures: i64 = app.query(|conn| {
        sign_in_failures::table.filter(sign_in_failures::email.eq(&email)).count().get_result(conn)
    });
    assert_eq!(failures, 10);
}

async fn a_client_address_gets_at_most_thirty_wrong_guesses_over_all_email_addresses(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let guesser = client(2);
    for person in 0..6 {
        let email = unique_email(&format!("p{person}"));
        for _ in 0..5 {
            let response = guess_from(&app, &guesser, &email, "123456").await;
            assert_eq!(response.problem_code(), "invalid_code", "{email}");
        }
    }
    assert_rate_limited(&guess_from(&app, &guesser, &unique_email("seventh"), "123456").await);
    let other = guess_from(&app, &client(3), &unique_email("seventh"), "123456").await;
    assert_eq!(other.problem_code(), "invalid_code", "another address has its own budget");
}

/// Many requests at once: on PostgreSQL they run in parallel transactions, which must not all
/// see room under a limit before any of them has written.
async fn concurrent_code_requests_store_no_more_codes_than_the_limits_allow(backend: Backend) {
    let app = spawn_app(backend).await;
    let one = client(1);
    let email = unique_email("stampede");
    let answers = join_all((0..60).map(|_| request_from(&app, &one, &email))).await;
    let accepted = answers.iter().filter(|r| r.status == StatusCode::ACCEPTED).count();
    assert_eq!(accepted, 5, "one client address, one email");
    assert_eq!(count_codes(&app, &email), 5);
    assert!(
        answers.iter().all(|r| r.status.is_success() || r.status == StatusCode::TOO_MANY_REQUESTS)
    );

    let email = unique_email("crowd");
    let clients: Vec<awc::Client> = (2..=7).map(client).collect();
    let answers =
        join_all((0..60).map(|i| request_from(&app, &clients[i % clients.len()], &email))).await;
    let accepted = answers.iter().filter(|r| r.status == StatusCode::ACCEPTED).count();
    assert_eq!(accepted, 10, "six client addresses, one email: the email's ceiling");
    assert_eq!(count_codes(&app, &email), 10);
}

async fn concurrent_wrong_guesses_are_each_counted_and_stop_at_the_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    let (owner, guesser) = (client(1), client(2));
    let email = unique_email("hammered");
    request_from(&app, &owner, &email).await;
    let code = app.nth_mail(&email, 1).await.sign_in_code().unwrap();

    let answers =
        join_all((0..100).map(|_| guess_from(&app, &guesser, &email, wrong(&code)))).await;
    let checked = answers.iter().filter(|r| r.status == StatusCode::BAD_REQUEST).count();
    let limited = answers.iter().filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!((checked, limited), (5, 95));
    let failures: i64 = app.query(|conn| {
        sign_in_failures::table.filter(sign_in_failures::email.eq(&email)).count().get_result(conn)
    });
    assert_eq!(failures, 5);
    assert_eq!(guess_from(&app, &owner, &email, &code).await.status, StatusCode::OK);
}
